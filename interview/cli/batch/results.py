"""Where the output lines of `pnman batch` go: standard output, or OUTPUT written as they come
to `OUTPUT.partial`, renamed `OUTPUT` when the run ends. `--resume` reads back what a killed
run wrote and skips those rows of the input; a `OUTPUT.lock` (fcntl.flock) keeps two runs
from writing one output; `OUTPUT.summary.json` is replaced atomically. No file is written
through a symbolic link, and an existing output keeps its permissions.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from pnman.knowledge.errors import InputError, Phrase, PnmanError
from pnman.knowledge.profile import os_reason

from ...files import current_umask, fsync_dir, is_stdout, refuse_read_only
from .reading import CsvRecord
from .summary import Summary, summary_fields

@dataclass
class Target:
    """Where the results go: standard output, or a file written through FILE.partial."""
    name: str
    path: Path | None = None      # None: standard output
    mode: int | None = None       # the permissions of an existing output, kept

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    @property
    def lock(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def summary(self) -> Path:
        return self.path.with_name(self.path.stem + ".summary.json")


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def resolve_target(output: str, input_path: str) -> Target:
    if is_stdout(output):
        return Target(output)
    path = Path(output)
    try:
        found = os.stat(path)       # follows a symbolic link: what would be written
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise InputError(Phrase("output.unusable", reason=os_reason(exc)), file=output) from None
    if found is not None and not stat.S_ISREG(found.st_mode):
        with contextlib.suppress(OSError):
            if _same(found, os.fstat(1)):
                return Target(output)       # a link to this process's standard output
        raise InputError(Phrase("output.folder" if stat.S_ISDIR(found.st_mode) else "output.special"), file=output)
    refuse_read_only(path, found)
    directory = path.parent
    if not directory.is_dir():
        raise InputError(Phrase("write.no_folder"), file=output)
    with contextlib.suppress(OSError):
        if found is not None and _same(found, os.stat(input_path)):
            raise InputError(Phrase("output.input"), file=output)
    target = Target(output, path, stat.S_IMODE(found.st_mode) if found is not None else None)
    for extra in (target.summary, target.partial):
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(extra, follow_symlinks=False).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise InputError(Phrase("output.beside", name=extra.name), file=output)
    return target


class OutputLock:
    """An exclusive flock on OUTPUT.lock for the run. The lock file is never followed through a
    symbolic link, never truncated nor written; an empty one is removed when the run ends."""

    def __init__(self, path: Path, output: str):
        self.path, self.output, self.fd = path, output, None

    def __enter__(self):
        flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        for _ in range(20):
            try:
                fd = os.open(self.path, flags, 0o666)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise InputError(Phrase("lock.link", lock=self.path.name), file=self.output) from None
                raise InputError(Phrase("lock.unopenable", lock=self.path.name, reason=os_reason(exc)),
                                 file=self.output) from None
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                os.close(fd)
                raise InputError(Phrase("lock.not_regular", lock=self.path.name), file=self.output)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InputError(Phrase("lock.held", lock=self.path.name), file=self.output) from None
                raise InputError(Phrase("lock.unlockable", lock=self.path.name, reason=os_reason(exc)),
                                 file=self.output) from None
            try:
                current = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                current = None
            if current is not None and _same(current, opened):
                self.fd = fd
                return self
            os.close(fd)        # removed or replaced by the run that just ended: lock the new one
        raise InputError(Phrase("lock.changing", lock=self.path.name), file=self.output)

    def __exit__(self, *exc) -> None:
        try:
            with contextlib.suppress(OSError):
                current = os.stat(self.path, follow_symlinks=False)
                mine = os.fstat(self.fd)
                if _same(current, mine) and mine.st_size == 0:
                    os.unlink(self.path)
        finally:
            os.close(self.fd)


def open_new(path: Path, mode: int | None) -> int:
    """Create a file that did not exist (O_EXCL: never through a symbolic link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    if mode is not None:
        os.fchmod(fd, mode)
    return fd


def replace_file(path: Path, data: bytes) -> None:
    """Replace a file atomically through a new temporary file (never following a link); an
    existing file's permissions are kept."""
    try:
        existing = os.stat(path, follow_symlinks=False)
        mode = stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)   # O_EXCL | O_NOFOLLOW
    try:
        if mode is None:
            mode = 0o666 & ~current_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@dataclass
class Done:
    """What an interrupted run already wrote (--resume)."""
    rows: int = 0
    last_row: int = 0
    last_line: dict | None = None
    summary: Summary = field(default_factory=Summary)


def read_partial(fd: int, target: Target, full: bool, lang: str, kb) -> tuple[Done, int]:
    """The complete lines of a partial output, and the offset after the last of them (a line
    cut by a kill, or any unreadable line, ends what is kept); `kb`: the run's knowledge."""
    edition = kb.edition
    done = Done()
    good = 0
    with open(fd, "rb", closefd=False) as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                line = orjson.loads(raw)
                row = line["row"]
                if not isinstance(row, int) or row <= done.last_row:
                    break
                fields = None if "error" in line else summary_fields(line, kb)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                break
            if fields is not None and ("record" in line) != full:
                raise InputError(Phrase("resume.without_full" if full else "resume.with_full",
                                        partial=target.partial.name), file=target.name)
            if full and fields is not None and line["record"].get("lang", lang) != lang:
                raise InputError(Phrase("resume.option", partial=target.partial.name,
                                        option=f"--lang {line['record'].get('lang')}"), file=target.name)
            written = line.get("record", line).get("edition", "base") if fields is not None else edition
            if edition is not None and written != edition:
                raise InputError(Phrase("resume.option", partial=target.partial.name, option=f"--edition {written}"),
                                 file=target.name)
            done.summary.add(fields)
            done.rows += 1
            done.last_row, done.last_line = row, line
            good += len(raw)
    return done, good


def skip_done(rows: Iterator[tuple[int, Any]], done: Done, kb, source: str, target: Target,
              record: CsvRecord | None = None):
    """The rows after those already written; the last written one must still be the input's
    (a CSV row's cells are read into its profile by `record`)."""
    if not done.last_row:
        yield from rows
        return
    from pnman.knowledge.profile import check_profile

    mismatch = InputError(Phrase("resume.changed", row=done.last_row, partial=target.partial.name), file=source)
    checked = False
    for number, data in rows:
        if number < done.last_row:
            continue
        if number == done.last_row:
            if isinstance(data, tuple):
                data = record(data)
            written = done.last_line
            expected = written.get("record", written).get("profile")
            if "error" not in written:
                try:
                    if isinstance(data, str) or dict(check_profile(data, kb)) != expected:
                        raise mismatch
                except PnmanError:
                    raise mismatch from None
            checked = True
            continue
        if not checked:
            raise mismatch
        yield number, data
    if not checked:
        raise mismatch


class _TextOut:
    """Standard output without a binary buffer (replaced by a test or an embedding program)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()


def stdout_binary():
    sys.stdout.flush()
    return getattr(sys.stdout, "buffer", None) or _TextOut(sys.stdout)
