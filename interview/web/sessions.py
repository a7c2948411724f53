"""Web interview sessions: one JSON file each, written atomically after every answer.

A session is addressed by an unguessable id (its link is the way back to it), lives in
`<PNMAN_HOME>/web-sessions/` and survives a restart of the server. The interview itself
is machine.Interview; this module only stores its state. One lock per session keeps two
requests from answering the same interview at once (the server runs handlers in threads).
"""
from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pnman.knowledge.errors import InputError

from ..files import write_atomic
from ..questionnaire.session import data_dir

SCHEMA = "pnman-web-session/1"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def web_sessions_dir() -> Path:
    return data_dir("web-sessions")


@dataclass
class WebState:
    """The interview's state (machine.State) kept in one file."""
    id: str
    path: Path
    lang: str = "fr"
    answers: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    status: str = "in_progress"
    undone: dict[str, Any] = field(default_factory=dict)   # answers taken back by « back », offered again
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    face: str = "program"              # "person" (the pages) or "program" (the JSON API)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "id": self.id, "lang": self.lang, "status": self.status,
                "created": self.created, "updated": self.updated, "asked": list(self.asked),
                "answers": dict(self.answers), "undone": dict(self.undone), "face": self.face}

    def save(self) -> None:
        self.updated = _now()
        write_atomic(self.path, json.dumps(self.to_json(), ensure_ascii=False) + "\n")


class SessionStore:
    """The sessions of one server: created, found by id, locked while a request uses one."""

    def __init__(self, directory: Path, cache_size: int = 512):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"the web sessions folder cannot be created ({exc.strerror})", file=str(directory)) from None
        self.directory = directory
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()   # id -> the live Interview, for speed
        self._cache_size = cache_size

    def create(self, lang: str, face: str) -> WebState:
        session_id = secrets.token_urlsafe(16)
        state = WebState(id=session_id, path=self.directory / f"{session_id}.json", lang=lang, face=face)
        state.save()
        return state

    def path(self, session_id: str) -> Path | None:
        if not SESSION_ID.match(session_id):
            return None
        path = self.directory / f"{session_id}.json"
        return path if path.is_file() else None

    def load(self, session_id: str) -> WebState | None:
        path = self.path(session_id)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return None
        return WebState(id=session_id, path=path, lang=data.get("lang", "fr"), answers=data.get("answers", {}),
                        asked=data.get("asked", []), status=data.get("status", "in_progress"),
                        undone=data.get("undone", {}), created=data.get("created", _now()),
                        updated=data.get("updated", _now()),
                        face=data.get("face", "program"))

    def save_result(self, session_id: str, data: dict) -> None:
        write_atomic(self.directory / f"{session_id}.result.json", json.dumps(data, ensure_ascii=False) + "\n")

    def load_result(self, session_id: str) -> dict | None:
        path = self.path(session_id)
        if path is None:
            return None
        try:
            data = json.loads(path.with_name(f"{session_id}.result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("record"), dict) else None

    def lock(self, session_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(session_id, threading.Lock())

    def cached(self, session_id: str):
        with self._guard:
            live = self._cache.get(session_id)
            if live is not None:
                self._cache.move_to_end(session_id)
            return live

    def keep(self, session_id: str, live) -> None:
        with self._guard:
            self._cache[session_id] = live
            self._cache.move_to_end(session_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def finished(self) -> list[WebState]:
        """Every finished interview of this server, newest first (the diagnostician's list
        until a registry is in use)."""
        states = []
        for path in self.directory.glob("*.json"):
            if path.name.endswith(".result.json"):
                continue
            state = self.load(path.stem)
            if state is not None and state.status == "completed":
                states.append(state)
        return sorted(states, key=lambda s: s.updated, reverse=True)
