"""Interview sessions that survive: saved after every answer, atomically, one writer at a time.

A session is a small JSON file in the user's data directory (platformdirs, or
$PNMAN_HOME). It keeps and stores the answers; what may be answered, and when, is the
interview's business (machine.Interview changes `answers` and `asked`, then calls
`save`). Each save goes through a temporary file, fsync and rename, so killing the
process loses at most the answer being typed. A lock file keeps two interviews off the
same session. A damaged file is never overwritten: it is moved aside and reported.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from knowledge.errors import InputError, ProfileError
from knowledge.loader import Knowledge
from knowledge.profile import check_profile

from ..files import write_atomic

SCHEMA = "pnman-session/1"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def sessions_dir() -> Path:
    base = os.environ.get("PNMAN_HOME")
    if base:
        root = Path(base)
    else:
        import platformdirs
        root = Path(platformdirs.user_data_dir("pnman", appauthor=False))
    path = root / "sessions"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"the sessions folder cannot be created ({exc.strerror}); set PNMAN_HOME to a "
                         "writable folder", file=str(path)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError("the sessions folder is not writable; set PNMAN_HOME to a writable folder", file=str(path))
    return path


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Session:
    name: str
    path: Path
    lang: str = "fr"
    answers: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    status: str = "in_progress"
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    _lock: Any = None

    # -- persistence -----------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"schema": SCHEMA, "name": self.name, "lang": self.lang, "status": self.status,
                "created": self.created, "updated": self.updated,
                "asked": list(self.asked), "answers": dict(self.answers)}

    def save(self) -> None:
        self.updated = _now()
        write_atomic(self.path, json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n")

    def close(self) -> None:
        if self._lock is not None:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()
            finally:
                self._lock = None


def _check_name(name: str) -> None:
    if not NAME.match(name or ""):
        raise InputError("expected a session name of letters, digits, '-', '_' or '.' (at most 64)",
                         key="--session")


def _acquire(path: Path):
    lock_path = path.with_suffix(".lock")
    try:   # never through a symbolic link: truncating its target would destroy someone's file
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise InputError(f"the session's lock file cannot be opened ({why})", file=str(lock_path)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError("the session's lock file is not a regular file", file=str(lock_path))
    handle = os.fdopen(fd, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise InputError(f"this session is already open in another interview (process {holder}); "
                         "finish it there, or use another --session name", file=str(path)) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _aside(path: Path, tag: str) -> Path:
    """A free name beside `path` for keeping an old or damaged session: never overwrite one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.{tag}-{stamp}")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}.{tag}-{stamp}-{counter}")
    os.replace(path, candidate)
    return candidate


def _set_aside(path: Path, why: str) -> InputError:
    aside = _aside(path, "damaged")
    return InputError(f"the session file is damaged ({why}); it was kept aside as {aside.name} and "
                      "nothing was overwritten. Start again with the same --session (without --resume) "
                      "or another name", file=str(path))


def exists(name: str) -> bool:
    _check_name(name)
    return (sessions_dir() / f"{name}.json").exists()


def open_session(name: str, kb: Knowledge, *, resume: bool, lang: str) -> Session:
    """Open (and lock) a session: resume it, or start a new one (archiving an old one)."""
    _check_name(name)
    path = sessions_dir() / f"{name}.json"
    lock = _acquire(path)
    try:
        if resume:
            if not path.exists():
                raise InputError("no saved session with this name to resume; start one without --resume",
                                 file=str(path))
            session = _load(path, kb)
        else:
            if path.exists():
                _aside(path, "previous")
            session = Session(name, path, lang=lang)
            session.save()
    except BaseException:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        raise
    session._lock = lock
    return session


def _load(path: Path, kb: Knowledge) -> Session:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise InputError("the session file is not a regular file (a link, pipe or device); nothing was read",
                             file=str(path))
        raw = path.read_bytes()
    except PermissionError:
        raise InputError("the session file cannot be read (permission denied)", file=str(path)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _set_aside(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _set_aside(path, f"expected a '{SCHEMA}' object")
    answers, asked = data.get("answers"), data.get("asked")
    if not isinstance(answers, dict) or not isinstance(asked, list) or not all(isinstance(k, str) for k in asked):
        raise _set_aside(path, "answers or asked have the wrong shape")
    try:
        check_profile({"employees": 0, **answers}, kb, file=str(path))
    except ProfileError as exc:
        raise _set_aside(path, f"an answer is invalid: {exc.detail} ({exc.key})") from None
    return Session(data.get("name") or path.stem, path, lang=data.get("lang", "fr"), answers=answers, asked=asked,
                   status=data.get("status", "in_progress"), created=data.get("created", _now()),
                   updated=data.get("updated", _now()))
