"""The one place that talks to durable-rules (the engine before Python 3.13; rules/clips.py is the other).

durable-rules 2.0.28 is unmaintained and has sharp edges (see shared/notes/durable-rules.md);
this module applies the safe session pattern so nothing else needs to know: explicit
ASCII fact ids checked for 32-bit hash collisions, durable's C interface driven directly
(no timer threads, no Python host layer), `__begin__` asserted alone first, a sink rule,
an action's exception raised where it happens, `delete_state` for every session. One
session serves up to 1,000 evaluations, each retracting every fact it asserted (no rule
matches an absence: the next starts from the state a fresh session has; a test compares
them); a failed evaluation deletes its session.
"""
from __future__ import annotations

import ctypes
import itertools
import json
import os
import sys
import threading

import orjson
from pnman.knowledge.loader import Knowledge

from . import compile as rules_compile
from .compile import check_fact_ids, fnv1a_32  # noqa: F401 - durable's constraint, checked at load
from .actions import Actions, Firing  # noqa: F401 - Firing: what this engine returns

RULESET_PREFIX = "pnman"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # glibc's mallopt parameters


def tune_malloc() -> bool:
    """Keep freed memory in the process (Linux/glibc): durable allocates ~1.8 MiB per session
    and glibc handed it back to the OS after each one, ~450 page faults per assessment
    (a third of its CPU). Guarded: elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim, mmap = libc.mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024), libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024)
    except (OSError, AttributeError):   # not glibc
        return False
    return bool(trim and mmap)


class RuleEngine:
    """A compiled ruleset, driven through durable's C interface.

    durable's Python `Host` wraps every firing in a Closure, a Promise, timestamps and a
    JSON round trip of the session state: two thirds of an assessment's CPU. This driver
    makes the same C calls in the same order (assert, start the session's actions, run
    each, complete and start the next), so the firings are the same, in the same order
    (tests/test_rules_runtime.py compares it with the Host). The Host's
    timer threads are never started: they raced with live sessions (lost firings, error
    307, segfaults under load) and pnman uses no timers.
    """

    _count = itertools.count()
    kind = "durable"

    # A session serves this many evaluations (each retracting what it asserted), then a
    # fresh one: whatever a retraction might leave behind cannot pile up.
    SESSION_RUNS = 1_000
    FACTS_KEPT = 4_096
    MESSAGES_KEPT = 4_096

    def __init__(self, kb: Knowledge):
        import durable_rules_engine as engine   # durable's C extension: only here and below
        check_fact_ids(rules_compile.fact_ids(kb))
        tune_malloc()
        self.kb = kb
        self.name = f"{RULESET_PREFIX}_{kb.version.replace('-', '_')}_{next(self._count)}_{os.getpid()}"
        self._engine = engine
        self._actions = Actions(kb)
        self._handle = engine.create_ruleset(self.name, json.dumps(rules_compile.definition(kb), ensure_ascii=False))
        self._sids = itertools.count(1)
        self._sid: str | None = None       # the live session, `__begin__` asserted in it
        self._runs = 0                     # evaluations it served
        self._implied: list[str] = []      # the facts the implications asserted in this evaluation (JSON)
        # A profile fact's JSON in the live session, by fact: the facts are shared between
        # evaluations (rules.evaluate._asserted), so most are serialised once a session.
        self._facts_json: dict[int, tuple[dict, str | None]] = {}
        # durable's action messages (`{"<rule>":{"m":<the fact>}}`, the session's id in the
        # fact) read once a session: the same rules fire on the same shared facts again and
        # again, and a look-up of the text costs a tenth of parsing it.
        self._messages: dict[str, tuple] = {}
        self._read = rules_compile.read_names(kb)      # a fact no rule reads is not asserted
        # One session at a time: the actions collect firings in shared state, and durable's
        # C ruleset is not meant for concurrent callers (a web server runs handlers in threads).
        self._lock = threading.Lock()

    def run(self, facts: list[dict]) -> list[Firing]:
        """Assert the facts in a session of their own and return the firings, in order."""
        with self._lock:
            return self._run(facts)

    def _run(self, facts: list[dict]) -> list[Firing]:
        """A session is created once and reused: each evaluation retracts every fact it
        asserted (the profile's and the implied ones) when it is done, so the next one
        starts from the same state as in a fresh session (no rule matches an absence, so
        a retraction fires nothing). Creating a session costs durable ~1 MiB of memory
        set to zero (an index per rule), which also evicts the CPU caches the rest of an
        assessment uses. On any failure the session is deleted and the next evaluation
        starts a fresh one."""
        sid = self._sid or self._open()
        self._actions.reset(facts)
        self._implied.clear()
        clean = False
        try:
            payload = ",".join(filter(None, map(self._fact_json, facts)))
            if payload:
                self._assert(self._engine.assert_facts, f"[{payload}]", sid)
            firings = list(self._actions.firings)
            asserted = ",".join(filter(None, (payload, *self._implied)))
            clean = not asserted or self._engine.retract_facts(self._handle, f"[{asserted}]")[0] in (0, 3)
            return firings
        finally:
            self._runs += 1
            if not clean or self._runs >= self.SESSION_RUNS:
                self._close()

    def _open(self) -> str:
        """A fresh session with `__begin__` asserted alone first (delete_state segfaults for a
        session where nothing ran)."""
        sid = str(next(self._sids))
        self._actions.reset([])
        try:
            self._assert(self._engine.assert_fact,
                         orjson.dumps({"sid": sid, "id": rules_compile.BEGIN, "t": rules_compile.BEGIN}).decode(), sid)
        except BaseException:
            self._engine.delete_state(self._handle, sid)
            raise
        self._sid, self._runs = sid, 0
        return sid

    def _fact_json(self, fact: dict) -> str | None:
        """A fact's JSON with the session's id, as durable reads it (kept for this session);
        None for a fact no rule reads."""
        found = self._facts_json.get(id(fact))
        if found is not None and found[0] is fact:
            return found[1]
        if len(self._facts_json) >= self.FACTS_KEPT:
            self._facts_json.clear()
        data = orjson.dumps(dict(fact, sid=self._sid)).decode() if fact["name"] in self._read else None
        self._facts_json[id(fact)] = (fact, data)
        return data

    def _close(self) -> None:
        self._facts_json.clear()
        self._messages.clear()
        sid, self._sid = self._sid, None
        if sid is not None:
            self._engine.delete_state(self._handle, sid)

    def _assert(self, call, payload: str, sid: str) -> None:
        result = call(self._handle, payload)
        if result[0] in (1, 2):   # durable: 1 not handled (no rule can match), 2 already observed
            raise RuntimeError(f"durable-rules refused a fact (code {result[0]}): {payload[:120]}")
        if result[0] != 3:        # 3: nothing to do
            self._run_actions(result[1], sid)

    def _run_actions(self, state_handle, sid: str) -> None:
        """Run the session's queued actions in durable's order. durable's Host writes the
        session state back (`update_state`) after each action because an action may change
        it; pnman's never do (no rule reads the state), so that call, a tenth of an
        assessment, is not made; the firings stay the same (checked against the Host)."""
        engine, handle = self._engine, self._handle
        started = engine.start_action_for_state(handle, state_handle)
        if not started:
            return
        messages, message, by_rule = self._messages, started[1], self._actions.by_rule
        while True:
            try:
                rule_id, fact = messages.get(message) or self._read_message(message)    # the rule and the fact it matched
                new = by_rule[rule_id](fact)
                if new is not None:    # queued: complete_and_start_action hands its firings over
                    new["sid"] = sid
                    data = orjson.dumps(new).decode()
                    self._implied.append(data)     # retracted with the profile's facts
                    result = engine.assert_fact(handle, data)
                    if result[0] in (1, 2):
                        raise RuntimeError(f"durable-rules refused an implied fact (code {result[0]}): {new['id']}")
            except BaseException:
                engine.abandon_action(handle, state_handle)
                raise
            message = engine.complete_and_start_action(handle, state_handle)
            if not message:
                return

    def _read_message(self, message: str) -> tuple:
        (rule_id, matched), = orjson.loads(message).items()     # one rule and what it matched
        if len(self._messages) >= self.MESSAGES_KEPT:
            self._messages.clear()
        found = self._messages[message] = (rule_id, matched["m"])
        return found


class HostEngine:
    """The same ruleset through durable's own Python `Host` (with its timer threads, as
    before): kept as the baseline that the equivalence test and the benchmarks compare with."""

    _count = itertools.count()
    _host = None

    def __init__(self, kb: Knowledge):
        from durable import engine as durable_engine
        check_fact_ids(rules_compile.fact_ids(kb))
        self.name = f"{RULESET_PREFIX}_host_{next(self._count)}_{os.getpid()}"
        self._actions = Actions(kb)
        definition = rules_compile.definition(kb)
        for rule_id, rule in definition.items():
            rule["run"] = self._closure_action(self._actions.by_rule[rule_id])
        if HostEngine._host is None:
            HostEngine._host = durable_engine.Host()
        self.host = HostEngine._host
        self.host.register_rulesets({self.name: definition})
        self._sids = itertools.count(1)
        self._read = rules_compile.read_names(kb)      # as the direct driver: the sink takes no other fact

    @staticmethod
    def _closure_action(act):
        def run(c):   # one parameter: durable's synchronous convention
            new = act(c._m["m"])
            if new is not None:
                c.assert_fact(new)
        return run

    def run(self, facts: list[dict]) -> list[Firing]:
        sid = str(next(self._sids))
        self._actions.reset(facts)
        try:
            self.host.assert_fact(self.name, {"sid": sid, "id": rules_compile.BEGIN, "t": rules_compile.BEGIN})
            read = [dict(fact, sid=sid) for fact in facts if fact["name"] in self._read]
            if read:
                self.host.assert_facts(self.name, read)
            state = self.host.get_state(self.name, sid)
            if state and "exception" in state:
                raise RuntimeError(f"a rule action failed: {state['exception']}")
            return list(self._actions.firings)
        finally:
            self.host.delete_state(self.name, sid)
