"""The web's use of the one interview: sessions by id, one request at a time per session.

Both the JSON API and the pages go through `Interviews`, so they answer, go back and
finish in exactly one way, machine.Interview's. A live Interview is kept in memory for
speed; its state is a row of the sessions database, so a restarted server, or another one
on the same data folder, picks every session up again.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

from pnman.engine.record import canonical_json
from pnman.knowledge.loader import Knowledge

from ..questionnaire.machine import Interview
from ..render.l10n import Words, localise
from .sessions import SESSION_ID, SessionStore, WebState

# What a person's interview needs that the API's does not: at least one goal or fiche
# (machine.Interview, require_request). The API keeps the soundness of contract §7.
PERSON, PROGRAM = "person", "program"


@dataclass
class Live:
    interview: Interview
    state: WebState
    result: tuple[str, dict] | None = None     # (the answers it was computed from, the record)


class Interviews:
    def __init__(self, kb: Knowledge, store: SessionStore, *, recorder=None):
        """`recorder`: a RecordStore (records/store.py) the finished results go through, or None."""
        self.kb = kb
        self.store = store
        self.recorder = recorder
        self._words: dict[str, Words] = {}

    def words(self, lang: str) -> Words:
        words = self._words.get(lang)
        if words is None:
            words = self._words[lang] = Words(lang, self.kb)
        return words

    def start(self, lang: str, face: str) -> Live:
        return self._live(self.store.create(lang, face))

    def _live(self, state: WebState) -> Live:
        interview = Interview(self.kb, self.words(state.lang), state, require_request=state.face == PERSON)
        live = Live(interview, state)
        self.store.keep(state.id, live)
        return live

    @contextlib.contextmanager
    def use(self, session_id: str) -> Iterator[Live | None]:
        """The live interview of a session, held by this request alone (sessions.hold): what
        the request changes is committed together at its end, and a session another server
        changed since is read again (its version moved)."""
        if not SESSION_ID.match(session_id):
            yield None
            return
        store = self.store
        try:
            with store.hold(session_id), store.deferred():
                version = store.version(session_id)
                live = store.cached(session_id)
                if version is None:
                    live = None
                elif live is None or live.state.version != version:
                    state = store.load(session_id)
                    live = None if state is None else self._live(state)
                yield live
        except BaseException:
            store.forget(session_id)       # memory may be ahead of what was committed
            raise

    def result(self, live: Live) -> dict:
        """The localised record of a finished interview. It is computed once per set of
        answers and knowledge (edition) and kept beside the session (its row), so
        that the downloads and a restarted server show the same record; with a record store
        (--record) it is the record as stored, stamped with its registry entry and chain head.
        A change of language gives the same decision in the new words, never a new one."""
        key = canonical_json([self.kb.version, sorted(live.state.answers.items())])
        if live.result is None or live.result[0] != key:
            live.result = (key, self._made(live, key))
        record = live.result[1]
        if record.get("lang") != live.state.lang:
            record = localise(record, self.words(live.state.lang))
            live.result = (key, record)
        return record

    def _made(self, live: Live, key: str) -> dict:
        kept = self.store.load_result(live.state.id)
        if kept is not None and kept.get("answers") == key:
            return kept["record"]
        record = live.interview.finish()
        if self.recorder is not None:
            record = self._recorded(record, kept["record"] if kept is not None else None)
        self.store.save_result(live.state.id, {"answers": key, "record": record})
        return record

    def _recorded(self, record: dict, before: dict | None) -> dict:
        """The record as the registry keeps it. After a changed answer, a session's new result
        is appended only when its decision changed (its digest, the same in every language),
        naming the entry it replaces; otherwise the entry recorded before stands."""
        entry = (before or {}).get("registry", {}).get("entry") if isinstance(before, dict) else None
        if entry and before.get("decision_digest") == record.get("decision_digest"):
            return before
        return self.recorder.save(record, replaces=entry).record

    def change_language(self, live: Live, lang: str) -> Live:
        """The session goes on in `lang`: same answers, the questions and results in its words."""
        live.state.lang = lang
        live.state.save()
        return self._live(live.state)

    def summary(self, live: Live) -> dict[str, Any]:
        """GET /api/interviews/{id}: the answers so far, the next question, the result."""
        step = live.interview.next()
        return {"id": live.state.id, "lang": live.state.lang, "answers": dict(live.state.answers),
                "asked": list(live.state.asked), "next": step.as_dict() if step else None,
                "progress": progress(live),
                "result": self.result(live) if step is None else None}


def progress(live: Live) -> dict:
    step = live.interview.next()
    if step is None:
        asked = sum(1 for k in live.state.asked if live.interview.kb.facts[k].role != "identity")
        return {"n": asked, "total": asked, "done": True}
    return dict(step.progress, done=False)
