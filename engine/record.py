"""The assessment record (contract §4): statuses of every fiche, the plan, totals, warnings.

The record is also an audit record: it carries the inputs as read, the knowledge
version, the rule trace and a digest of its decision content, so `pnman audit` can
replay it and tell tampering from a change of rules.

The engine's record has no wording. The faces add the words for a person (a step's
`label`, a warning's `message`, the catalogue used); knowledge.locales.LOCALISED lists
those fields and the digest leaves them out, so the French and the English record of
one profile share it.

Making records is the batch's and the web's hot path, so what records have in common is
made once: a condition's line and its reason are kept with their (shared) condition
outcome (its `memo`), a reason that shows counts or lists for the outcome and those
values, a fiche entry's parts with its (shared) status, a trace entry for its firing,
each with its canonical JSON; the record's JSON (for the digest, the record hash and the registry) is
one join of those serialised pieces (the same bytes as serialising the whole record).
Entries are thus shared between records: a record is a value, never edited in place —
copy it (copy.deepcopy) to change it. `decision_digest` and `record_hash` themselves
serialise everything afresh: audit reads records from files and trusts nothing kept.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from functools import lru_cache
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any, Mapping

import orjson

from pnman.knowledge.loader import Knowledge
from pnman.knowledge.locales import LOCALISED
from pnman.rules.compile import fact_name, rule_tests
from pnman.rules.evaluate import ConditionOutcome, Evaluation, FicheStatus

from . import __version__
from .plan_warnings import PlanWarning
from .steps import PlanStep

SCHEMA = "pnman-assessment/1"
# Keys that are not decision content: they may differ between two runs of the same input
# (`registry`: where the registry chained the record, pnman.records; `engine`: which
# rules engine ran, durable-rules or CLIPS, which decide alike).
NON_DECISION_KEYS = ("timestamp", "program_version", "engine", "decision_digest", "record_hash", "registry")
# What the record hash leaves out: itself, where the file was read from, and where a registry
# chained it (`registry`: the chain's own hash covers that block; leaving it out here spares
# sealing the record again when it is appended).
NOT_HASHED = ("record_hash", "_source", "registry")


def _expected(test) -> Any:
    if test.op == "max":
        return f"<= {test.value}"
    if test.op == "size":
        return str(test.value)
    return test.value


def reason(outcome: ConditionOutcome, evaluation: Evaluation) -> dict:
    """One failing, pending (or met) condition, with the guide's sentence behind it and the
    values the evaluation read."""
    condition = outcome.condition
    first = outcome.deciding[0]
    entry = {
        "condition": condition.id,
        "fact": first.test.fact,
        "expected": _expected(first.test),
        "actual": evaluation.actual(first.test),
        "op": first.test.op,
        "outcome": outcome.outcome,
        "kind": condition.kind,
        "rule": first.rule,
        "citation": condition.citation.as_dict(),
    }
    if len(condition.tests) > 1:
        entry["facts"] = [{"fact": t.test.fact, "expected": _expected(t.test), "actual": evaluation.actual(t.test),
                           "outcome": t.outcome, "rule": t.rule} for t in outcome.tests]
        entry["any_of"] = condition.any_of
    if first.fact_id is not None:
        source = evaluation.facts[fact_name(first.test)].source    # the implication's id, or "profile"
        if source != "profile":
            entry["derived_by"] = source
    if condition.interpretation:
        entry["interpretation"] = condition.interpretation
    return entry


def condition_entry(outcome: ConditionOutcome) -> dict:
    """A condition's line in its fiche's entry: how it came out and which rules decided it."""
    return {"id": outcome.condition.id, "kind": outcome.condition.kind, "outcome": outcome.outcome,
            "rules": [t.rule for t in outcome.tests if t.rule]}


def fiche_entry(evaluation: Evaluation, number: int) -> dict:
    status = evaluation.statuses[number]
    return {
        "fiche": number,
        "status": status.status,
        "rule": status.rule,
        "rule_origin": "python",        # a status is derived in Python from the conditions' outcomes
        "reasons": [reason(c, evaluation) for c in status.conditions if c.outcome != "met"],
        "unknown_facts": list(status.unknown_facts),
        "conditions": [condition_entry(c) for c in status.conditions],
    }


def trace(evaluation: Evaluation, kb: Knowledge) -> list[dict]:
    """Every rule firing: the rule, the fact it matched, what it derived, and the guide behind it
    (the conditions that use a fact test and their sentences; an implication's rationale)."""
    return [_trace_entry(firing, kb) for firing in evaluation.firings]


def _trace_entry(firing, kb: Knowledge) -> dict:
    entry = {"rule": firing.rule, "origin": "engine", "facts": [firing.fact], "derived": firing.derived}
    implication = kb.implication.get(firing.rule)
    if implication is not None:
        entry["interpretation"] = implication.interpretation
        if firing.suppressed:
            entry["suppressed"] = "the profile states this fact: its value is kept"
    else:
        conditions, cited = kb.test_citations().get(rule_tests(kb)[firing.rule].id, ([], []))
        entry["conditions"] = conditions
        entry["citations"] = cited
    return entry


def decision_content(record: Mapping[str, Any]) -> dict:
    """The record without what may differ between runs or wordings: what the digest covers."""
    content = {k: v for k, v in record.items() if k not in NON_DECISION_KEYS and k not in LOCALISED[""]}
    for key, fields in LOCALISED.items():
        if key and isinstance(content.get(key), list):
            content[key] = [{k: v for k, v in item.items() if k not in fields} if isinstance(item, dict) else item
                            for item in content[key]]
    return content


def decision_digest(record: Mapping[str, Any]) -> str:
    """sha256 of the decision content: no timestamp, program version or wording."""
    return _sha256(_canonical_bytes(decision_content(record)))


def record_hash(record: Mapping[str, Any]) -> str:
    """sha256 of the whole record as it leaves pnman (time, versions and wording included):
    `decision_digest` says two records decide the same; this says the file is as written."""
    return _sha256(_canonical_bytes(_hashed_content(record)))


def _hashed_content(record: Mapping[str, Any]) -> dict:
    return {k: v for k, v in record.items() if k not in NOT_HASHED}


def seal(record: Mapping[str, Any]) -> dict:
    """The record with its `record_hash`, last of all, once nothing will be added to it.
    The parts serialised for its digest are not serialised again (the same bytes)."""
    sealed = {k: v for k, v in record.items() if k != "record_hash"}
    made: dict[int, tuple] = {}
    # joined, then hashed: ~200 small updates of a hash cost more than one copy of 130 kB
    sealed["record_hash"] = _sha256(_assembled(_hashed_content(sealed), _SERIALISED.get, made))
    _remember(made)         # the plan and warnings the faces worded: canonical_bytes reuses them
    return sealed


def canonical_bytes(record: Mapping[str, Any], parts: Mapping[int, tuple] | None = None) -> bytes:
    """canonical_json(record) as bytes, reusing the parts its digest and seal serialised
    (the registry stores a record as it is sealed, plus where it was chained: the big parts
    are not serialised a third time). `parts`: kept_parts(record), taken when it was made,
    for a record stored later (a batch's chunk: the kept parts of 64 records outnumber the
    table's bound). The same bytes: tests/test_records_speed.py."""
    return _assembled(record, (parts or _SERIALISED).get)


def canonical_pieces(record: Mapping[str, Any], parts: Mapping[int, tuple] | None = None) -> list[bytes]:
    """canonical_bytes(record, parts) as pieces to join (or hash) where they are used: a
    registry payload wraps the record's 130 kB in one join instead of copying it at each +."""
    pieces = _assembled_parts(record, (parts or _SERIALISED).get, None)
    return [pieces] if pieces.__class__ is bytes else pieces


def kept_parts(record: Mapping[str, Any]) -> dict[int, tuple]:
    """The serialised parts of a record just made and sealed, to pass to canonical_bytes
    later (the table that keeps them is bounded)."""
    parts = {}
    for value in record.values():
        found = _SERIALISED.get(id(value))
        if found is not None and found[0] is value:
            parts[id(value)] = found
    return parts


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- the parts records share -------------------------------------------------------------
# Bounded tables (emptied when full; a miss only costs the work again). A table holds the
# objects whose id() keys it, so an id in a key cannot be reused while the key is there.
# What is kept in a memo lives as long as its outcome or status: the rules' tables bound it.
ENTRIES_KEPT = 8_192
# The serialised parts of the last few records (four parts each, and the two a seal adds),
# for the seal and the registry that follow a record's making at once (a batch's chunk takes
# kept_parts). Few: each part keeps its record's lists and entries alive, and 64 records'
# worth (~1 MB) crowded the CPU's cache for the next records (1.12 → 1.01 ms a record).
SERIALISED_KEPT = 16
# A condition outcome's line and fixed reason, and a status's entry parts, live in their memo.
_REASONS: dict[tuple, tuple] = {}      # (id(condition outcome), values shown) -> (reason, JSON, outcome)
_STATUS_PARTS: dict[tuple, tuple] = {}  # (status rule, unknown facts) -> (origin, unknown facts, end of the JSON)
_SERIALISED: dict[int, tuple] = {}         # id(a record's part) -> (the part, its canonical JSON)


def _room(table: dict, limit: int) -> dict:
    if len(table) >= limit:
        table.clear()
    return table


def _value_key(value: Any) -> tuple:
    """A value as a dictionary key that tells True from 1 and a list from None."""
    return (value.__class__, tuple(value) if value.__class__ is list else value)


def _new_condition(outcome: ConditionOutcome, evaluation: Evaluation, shown: _Shown) -> tuple:
    """A condition outcome's line (entry, JSON) and its reason, kept with it: None when met,
    (entry, JSON) when the reason shows no count or list (its values follow from the
    outcome), else the outcome itself (the reason is looked up for each record)."""
    entry = condition_entry(outcome)
    if outcome.outcome == "met":
        kept = None
    elif shown.ids[outcome.condition.id]:
        kept = outcome
    else:
        found = reason(outcome, evaluation)
        data = _canonical_bytes(found)
        kept = (found, data, data + b",")
    data = _canonical_bytes(entry)
    found = outcome.memo["record"] = (entry, data, kept, data + b",")
    return found


class _Shown(dict):
    """The values a record's reasons show (as _value_key gives them), by test id, each read
    once a record: a list fact's value shows in the reasons of many fiches."""

    def __init__(self, evaluation: Evaluation, kb: Knowledge):
        super().__init__()
        self.evaluation = evaluation
        self.ids, self.tests = _varying_ids(kb)

    def __missing__(self, test_id: str) -> tuple:
        found = self[test_id] = _value_key(self.evaluation.actual(self.tests[test_id]))
        return found


def _varying_reason(outcome: ConditionOutcome, evaluation: Evaluation, shown: _Shown) -> tuple[dict, bytes]:
    """A reason that shows counts or lists: kept for its (shared) condition outcome and the
    values it shows (shown.ids: by condition, the tests whose values its outcome does not tell)."""
    key = (id(outcome), *map(shown.__getitem__, shown.ids[outcome.condition.id]))
    found = _REASONS.get(key)
    if found is None:
        entry = reason(outcome, evaluation)
        found = _room(_REASONS, ENTRIES_KEPT)[key] = (entry, _canonical_bytes(entry), outcome)
    return found


@lru_cache(maxsize=4)
def _varying_ids(kb: Knowledge) -> tuple[dict[str, tuple[str, ...]], dict]:
    """For each condition, the ids of the tests whose values its reason shows and its outcome
    does not tell (a count, a list: the yes/no ones are met, failed or unknown by their
    value); and those tests by id."""
    varying = {c.id: tuple(t for t in c.tests if t.op != "eq") for conditions in kb.conditions.values() for c in conditions}
    return ({cid: tuple(t.id for t in tests) for cid, tests in varying.items()},
            {t.id: t for tests in varying.values() for t in tests})


def _shared_fiche_entry(evaluation: Evaluation, status: FicheStatus, out: list, shown: _Shown) -> dict:
    """The fiche's entry, made of kept condition lines and reasons; the pieces of its
    canonical JSON (keys in sorted order, as orjson's OPT_SORT_KEYS writes them) are added
    to `out`, each followed by a comma, never joined on their own (the record's JSON is one
    join of all its pieces). What depends on the (shared) status alone is kept with it (its
    memo): the whole entry when none of its reasons shows a count or a list; otherwise only
    those reasons are looked up for each record."""
    parts = status.memo.get("record")
    if parts is None:
        parts = status.memo["record"] = _new_fiche_parts(status, evaluation, shown)
    if parts.__class__ is tuple:                # the same entry for every record
        out.extend(parts[1])
        return parts[0]
    conditions, lines, middle, kept, origin, unknown, end = parts
    reasons, reasons_json = [], []
    for found in kept:
        if found.__class__ is ConditionOutcome:         # a reason that shows a count or a list
            found = _varying_reason(found, evaluation, shown)
        reasons.append(found[0])
        reasons_json.append(found[1])
    out += lines
    out.extend((middle, b",".join(reasons_json), end))
    return {"fiche": status.fiche, "status": status.status, "rule": status.rule, "rule_origin": origin,
            "reasons": reasons, "unknown_facts": unknown, "conditions": conditions}


_memo, _kept_lines = attrgetter("memo"), itemgetter("record")
_line, _line_json, _reason = itemgetter(0), itemgetter(1), itemgetter(2)
_line_with_comma = itemgetter(2)         # a trace entry's JSON and a comma
_condition_with_comma = itemgetter(3)    # a condition line's JSON and a comma (a fixed reason's: 2)


def _listed(found: list[tuple], with_comma) -> list[bytes]:
    """The JSON pieces of a list's items, each but the last followed by a comma: kept as
    pieces (shared with the items' memos), not joined, so a status keeps pointers, not a
    copy of its lines (~1.6 kB: twice as many statuses fit in the same memory)."""
    pieces = list(map(with_comma, found))
    if pieces:
        pieces[-1] = found[-1][1]
    return pieces


def _new_fiche_parts(status: FicheStatus, evaluation: Evaluation, shown: _Shown):
    """A status met for the first time: its condition lines and fixed reasons, kept with each
    condition outcome (their JSON pieces shared, not copied: _listed); the whole entry and
    its JSON's pieces when no reason varies between records, else a list (lines, the JSON's
    pieces up to them, the JSON between conditions and reasons, reasons, origin, unknown
    facts, JSON end) where a varying reason is its condition outcome."""
    try:
        lines = list(map(_kept_lines, map(_memo, status.conditions)))
    except KeyError:
        lines = [outcome.memo.get("record") or _new_condition(outcome, evaluation, shown) for outcome in status.conditions]
    conditions = list(map(_line, lines))
    key = (status.rule, status.unknown_facts)
    origin, unknown, end = _STATUS_PARTS.get(key) or _new_status_parts(key, status)
    pieces, middle = _listed(lines, _condition_with_comma), _middle(status.fiche)
    pieces.insert(0, _ENTRY_START)
    kept = list(filter(None, map(_reason, lines)))
    if ConditionOutcome in map(type, kept):
        return [conditions, tuple(pieces), middle, kept, origin, unknown, end]
    entry = {"fiche": status.fiche, "status": status.status, "rule": status.rule, "rule_origin": origin,
             "reasons": list(map(_line, kept)), "unknown_facts": unknown, "conditions": conditions}
    pieces.append(middle)
    pieces += _listed(kept, _line_with_comma)
    pieces.append(end)
    return entry, tuple(pieces)


_ENTRY_START = b'{"conditions":['


@lru_cache(maxsize=256)
def _middle(fiche: int) -> bytes:
    """A fiche entry's JSON between its condition lines and its reasons."""
    return b'],"fiche":%d,"reasons":[' % fiche


def _new_status_parts(key: tuple, status: FicheStatus) -> tuple:
    """What a fiche entry says of its status alone (origin, unknown facts) and how its JSON ends
    (with the comma that follows it in the record's list: the last one becomes the list's end)."""
    origin, unknown = "python", list(status.unknown_facts)    # a status is derived in Python (as fiche_entry)
    end = b"".join((b'],"rule":', orjson.dumps(status.rule), b',"rule_origin":', orjson.dumps(origin),
                    b',"status":', orjson.dumps(status.status), b',"unknown_facts":', orjson.dumps(unknown), b"},"))
    found = _room(_STATUS_PARTS, ENTRIES_KEPT)[key] = (origin, unknown, end)
    return found


class _TraceEntries(dict):
    """One knowledge's trace entries by firing, (entry, JSON, JSON and comma): a record's trace is one map()
    over its firings; an entry is made on a miss, and the table emptied at its bound."""

    def __init__(self, kb: Knowledge):
        super().__init__()
        self.kb = kb

    def __missing__(self, firing) -> tuple[dict, bytes]:
        if len(self) >= ENTRIES_KEPT:
            self.clear()
        entry = _trace_entry(firing, self.kb)
        data = _canonical_bytes(entry)
        found = self[firing] = (entry, data, data + b",")    # the JSON, and followed by a comma
        return found


@lru_cache(maxsize=4)
def trace_entries(kb: Knowledge) -> _TraceEntries:
    return _TraceEntries(kb)


def _closed(pieces: list, end: bytes) -> list:
    """A list's JSON pieces after its opening bracket, each item's ending with a comma,
    closed: the last comma becomes `end`."""
    if len(pieces) == 1:    # an empty list
        pieces.append(end)
    else:
        pieces[-1] = pieces[-1][:-1] + end
    return pieces


def _assembled(data: Mapping[str, Any], known, made: dict | None = None) -> bytes:
    """The canonical JSON of a mapping, reusing the serialised values `known(id(value))`
    gives (their bytes, or a list of pieces whose join is their bytes): a top-level
    mapping's canonical JSON is its sorted keys and values' JSON joined, in one join
    (tests/test_records_speed.py checks it against serialising the whole). The lists and
    mappings serialised here are added to `made`, when given, as `known` keeps them."""
    parts = _assembled_parts(data, known, made)
    return parts if parts.__class__ is bytes else b"".join(parts)


def _assembled_parts(data: Mapping[str, Any], known, made: dict | None) -> list[bytes] | bytes:
    """The pieces of `_assembled(data, …)` in order (`{"key":`, its value's JSON, `,"key":`, …,
    `}`), or the whole JSON when the keys are not all ASCII strings (a plain sort may order
    those otherwise than orjson)."""
    if not all(key.__class__ is str and key.isascii() for key in data):
        return _canonical_bytes(data)       # keys a plain sort may order otherwise: the whole
    pieces = []
    for key in sorted(data):
        value = data[key]
        pieces.append(_KEYS.get(key) or _key_bytes(key))
        found = known(id(value))
        if found is not None and found[0] is value:
            part = found[1]
            if part.__class__ is bytes:
                pieces.append(part)
            else:
                pieces += part
        else:
            part = _canonical_bytes(value)
            if made is not None and value.__class__ in (list, dict):
                made[id(value)] = (value, part)
            pieces.append(part)
    if not pieces:
        return b"{}"
    pieces[0] = b"{" + pieces[0][1:]
    pieces.append(b"}")
    return pieces


_KEYS: dict[str, bytes] = {}        # a key's `,"key":` (ASCII keys only; records have a few dozen)


def _key_bytes(key: str) -> bytes:
    found = b"," + orjson.dumps(key) + b":"
    if len(_KEYS) < 1024:
        _KEYS[key] = found
    return found


def _remember(parts: dict[int, tuple]) -> None:
    """Keep these parts, dropping the oldest beyond the bound: emptying the whole table here
    dropped, every few records, the parts of the very record being sealed (its seal adds the
    plan and warnings it worded), and its registry payload serialised them all again."""
    table = _SERIALISED
    table.update(parts)
    excess = len(table) - SERIALISED_KEPT
    if excess > 0:
        for key in list(islice(table, excess)):
            del table[key]


def _canonical_bytes(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def canonical_json(data: Any) -> str:
    """Compact UTF-8 JSON with sorted keys: the form the digest is computed on."""
    return _canonical_bytes(data).decode("utf-8")


_CLOCK = (0, "")         # (a second since the epoch, its ISO 8601 form): a batch makes thousands a second


def now() -> str:
    global _CLOCK
    seconds = int(time.time())
    if seconds != _CLOCK[0]:
        _CLOCK = (seconds, datetime.fromtimestamp(seconds, timezone.utc).isoformat())
    return _CLOCK[1]


def build_record(evaluation: Evaluation, steps: tuple[PlanStep, ...], totals: dict, warnings: tuple[PlanWarning, ...], kb: Knowledge, *,
                 timestamp: str | None = None) -> dict:
    statuses = evaluation.statuses
    fiches_json = [b"["]      # the pieces of the record's JSON are joined once, with the rest
    shown = _Shown(evaluation, kb)
    fiches = [_shared_fiche_entry(evaluation, statuses[n], fiches_json, shown) for n in sorted(statuses)]
    traced = list(map(trace_entries(kb).__getitem__, evaluation.firings))
    entries, trace_json = list(map(_line, traced)), [b"[", *map(_line_with_comma, traced)]
    _closed(fiches_json, b"]")
    _closed(trace_json, b"]")
    record = {
        "schema": SCHEMA,
        "knowledge_version": kb.version,
        "edition": kb.edition,          # the guide edition whose figures decided (decision content)
        "program_version": __version__,
        "engine": evaluation.engine,
        "timestamp": timestamp or now(),
        "profile": dict(evaluation.profile),
        "size_class": evaluation.size_class,
        "facts": {name: {"value": fv.value, "source": fv.source}
                  for name, fv in sorted(evaluation.facts.items())},
        "fiches": fiches,
        "plan": [step.as_dict() for step in steps],
        "totals": totals,
        "warnings": [w.as_dict() for w in warnings],
        "trace": entries,
    }
    parts = {id(fiches): (fiches, fiches_json), id(entries): (entries, trace_json)}
    content = decision_content(record)
    for key in ("profile", "facts"):       # the localised record has them too: serialised once
        parts[id(record[key])] = (record[key], _canonical_bytes(record[key]))
    record["decision_digest"] = _sha256(_assembled(content, parts.get))
    _remember(parts)
    return record
