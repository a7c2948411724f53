"""Where the faces write: files atomically, JSON as people and tools read it, the console.

One home for this plumbing so that the CLI (interview/cli) and the questionnaire
(interview/questionnaire) write results and sessions the same way.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.profile import os_reason


def console(file=None):
    """A rich console; plain (no colour, no wrapping) when not writing to a terminal.
    rich is imported here, not above: JSON and HTML output need none of it."""
    from rich.console import Console
    out = file or sys.stdout
    interactive = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, highlight=False, soft_wrap=not interactive,
                   width=None if interactive else 120, color_system="auto" if interactive else None)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


STDOUT_NAMES = ("-", "/dev/stdout", "/proc/self/fd/1", "/dev/fd/1")


def is_stdout(path: str | os.PathLike | None) -> bool:
    """-o - and the names of standard output itself mean: print, do not create a file."""
    return path is not None and str(path) in STDOUT_NAMES


def _refuse_special(path: Path) -> os.stat_result | None:
    """The existing file at `path` (not following a link), or None; a device, pipe or
    socket is refused: replacing /dev/null by a regular file, as root, breaks the system."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(Phrase("write.unexaminable", reason=os_reason(exc)), file=str(path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Phrase("write.directory"), file=str(path))
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise InputError(Phrase("write.special"), file=str(path))
    return st


def refuse_read_only(path: Path, existing: os.stat_result | None) -> None:
    """A file whose mode lets nobody write it (0444) was made read-only on purpose: it is not
    written over (root could; pnman does not), whatever the folder allows."""
    if existing is not None and stat.S_ISREG(existing.st_mode) \
            and not existing.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(Phrase("write.read_only", mode=f"{stat.S_IMODE(existing.st_mode):04o}"), file=str(path))


def _write_error(path: Path, exc: OSError) -> InputError:
    reasons = {errno.ENOSPC: "full", errno.EDQUOT: "quota", errno.EACCES: "permission", errno.EPERM: "permission",
               errno.EROFS: "read_only"}
    reason = Phrase(f"write.reasons.{reasons[exc.errno]}") if exc.errno in reasons else os_reason(exc)
    return InputError(Phrase("write.failed", reason=reason), file=str(path))


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux's
    /proc/self/status): setting and restoring it would, for a moment, change the mode of
    files other threads create (a threaded server). Elsewhere, the set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def write_atomic(path: str | os.PathLike, content: str | bytes | Iterable[bytes]) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half.

    Never follows a symbolic link: a link at `path` is replaced by the new file and its
    target is left untouched (a link planted beside a report cannot redirect the write).
    An existing file keeps its permissions. A device, pipe or socket is refused.
    """
    path = Path(path)
    existing = _refuse_special(path)
    refuse_read_only(path, existing)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(Phrase("write.no_folder"), file=str(path))
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)   # O_EXCL: no link followed
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        if existing is not None and stat.S_ISREG(existing.st_mode):
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            with contextlib.suppress(OSError):       # as root, keep the owner too
                os.fchown(fd, existing.st_uid, existing.st_gid)
        else:
            os.fchmod(fd, 0o666 & ~current_umask())   # mkstemp creates 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, bytes) else data:     # an iterable of bytes is streamed
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from None
        raise
    fsync_dir(directory)


def fsync_dir(directory: str | os.PathLike) -> None:
    """Make a rename in `directory` durable (some filesystems refuse to fsync a folder)."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
