"""Interview sessions that survive: saved after every answer, atomically, one writer at a time.

A session is a small JSON file in the user's data directory (platformdirs, or
$PNMAN_HOME). It keeps and stores the answers; what may be answered, and when, is the
interview's business (machine.Interview changes `answers` and `asked`, then calls
`save`). Each save goes through a temporary file, fsync and rename, so killing the
process loses at most the answer being typed. A lock file keeps two interviews off the
same session. A damaged file is never overwritten: it is moved aside and reported. A
session started afresh over an old one keeps the old one as another session, which
`--session <its name> --resume` reopens: no answer is ever out of reach.

Beside `<name>.json`, a finished interview leaves `<name>.result.json` (the record, for
`pnman explain` and `pnman audit`) and `<name>.profile.yaml` (the answers given, for
`pnman assess`).
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

from pnman.knowledge.errors import InputError, Phrase, ProfileError, os_reason
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.profile import check_profile

from ..files import write_atomic

SCHEMA = "pnman-session/1"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NAME_MAX = 64
RESULT, PROFILE = ".result.json", ".profile.yaml"     # what a finished interview leaves beside its session


def data_dir(name: str) -> Path:
    """A writable folder of pnman's data (`$PNMAN_HOME/<name>`, else the platform's data
    folder): the terminal's sessions, the web's, created when missing."""
    base = os.environ.get("PNMAN_HOME")
    if base:
        root = Path(base)
    else:
        import platformdirs
        root = Path(platformdirs.user_data_dir("pnman", appauthor=False))
    path = root / name
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Phrase("session.home_uncreatable", name=name, reason=os_reason(exc)), file=str(path)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(Phrase("session.home_read_only", name=name), file=str(path))
    return path


def sessions_dir() -> Path:
    return data_dir("sessions")


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
    previous: Path | None = None      # where an old session of this name was kept, when started afresh
    _lock: Any = None

    def sibling(self, suffix: str) -> Path:
        """A file of this session beside it: `<name><suffix>` (RESULT, PROFILE)."""
        return self.path.with_name(self.path.stem + suffix)

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


def profile_text(answers: dict[str, Any], asked: list[str], header: str) -> str:
    """The answers given as a YAML profile that `pnman assess` reads: only the keys answered
    (« je ne sais pas » leaves a key out: unknown), in the order asked, `header` as comments.
    Written by hand rather than by yaml.dump, which mangles a few characters (U+0085 in a
    name comes back as a space): every text is a JSON string, which YAML reads as itself."""
    order = [k for k in ("name", *asked) if k in answers]
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [f"{key}: {_yaml_value(answers[key])}" for key in dict.fromkeys(order + list(answers))]
    return "\n".join(lines) + "\n"


_BARE = re.compile(r"^[a-z][a-z0-9_]*$")
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")    # YAML breaks or non-printables


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(item) for item in value) + "]"
    text = str(value)
    if _BARE.match(text) and text not in ("yes", "no", "on", "off", "true", "false", "null", "y", "n"):
        return text                  # a code (start_it, tic_investment): written as it is
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _check_name(name: str) -> None:
    if not NAME.match(name or ""):
        raise InputError(Phrase("session.name"), key="--session")


def _acquire(path: Path):
    lock_path = path.with_suffix(".lock")
    try:   # never through a symbolic link: truncating its target would destroy someone's file
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        why = Phrase("session.link") if exc.errno == errno.ELOOP else os_reason(exc)
        raise InputError(Phrase("session.lock_unopenable", reason=why), file=str(lock_path)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(Phrase("session.lock_not_regular"), file=str(lock_path))
    handle = os.fdopen(fd, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise InputError(Phrase("session.locked", process=holder), file=str(path)) from None
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


def _keep_previous(path: Path, name: str) -> Path:
    """Keep an old session as another session, `<name>-previous-<time>`, that --resume
    reopens; its result and profile files go with it. Returns the new session file."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = f"{name[: NAME_MAX - len(stamp) - 14]}-previous-{stamp}"
    candidate, counter = base, 1
    while any(path.with_name(candidate + suffix).exists() for suffix in (".json", ".lock", RESULT, PROFILE)):
        counter += 1
        candidate = f"{base}-{counter}"
    target = path.with_name(candidate + ".json")
    os.replace(path, target)
    for suffix in (RESULT, PROFILE):
        old = path.with_name(name + suffix)
        if old.exists() and not old.is_symlink():
            os.replace(old, path.with_name(candidate + suffix))
    return target


def peek(name: str) -> dict | None:
    """What a saved session holds (answers, status, time), read without opening it; None
    when there is none or it cannot be read (opening it will say why)."""
    _check_name(name)
    path = sessions_dir() / f"{name}.json"
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        return None
    return {"answers": len(data["answers"]), "asked": len(data.get("asked") or []),
            "status": data.get("status"), "updated": data.get("updated")}


def _set_aside(path: Path, why: Phrase) -> InputError:
    aside = _aside(path, "damaged")
    return InputError(Phrase("session.damaged", why=why, aside=aside.name), file=str(path))


def exists(name: str) -> bool:
    _check_name(name)
    return (sessions_dir() / f"{name}.json").exists()


def open_session(name: str, kb: Knowledge, *, resume: bool, lang: str) -> Session:
    """Open (and lock) a session: resume it, or start a new one; an old one of the same
    name is kept as another session (`Session.previous` says where)."""
    _check_name(name)
    path = sessions_dir() / f"{name}.json"
    lock = _acquire(path)
    try:
        if resume:
            if not path.exists():
                raise InputError(Phrase("session.none_to_resume"), file=str(path))
            session = _load(path, kb)
        else:
            previous = _keep_previous(path, name) if os.path.lexists(path) else None
            session = Session(name, path, lang=lang, previous=previous)
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
            raise InputError(Phrase("session.not_regular"), file=str(path))
        raw = path.read_bytes()
    except PermissionError:
        raise InputError(Phrase("session.unreadable"), file=str(path)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _set_aside(path, Phrase("session.not_json", problem=str(exc))) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _set_aside(path, Phrase("session.schema", schema=SCHEMA))
    answers, asked = data.get("answers"), data.get("asked")
    if not isinstance(answers, dict) or not isinstance(asked, list) or not all(isinstance(k, str) for k in asked):
        raise _set_aside(path, Phrase("session.shape"))
    try:
        check_profile({"employees": 0, **answers}, kb, file=str(path))
    except ProfileError as exc:
        raise _set_aside(path, Phrase("session.answer", detail=exc.phrase or exc.detail, name=exc.key)) from None
    return Session(path.stem, path, lang=data.get("lang", "fr"), answers=answers, asked=asked,
                   status=data.get("status", "in_progress"), created=data.get("created", _now()),
                   updated=data.get("updated", _now()))
