"""Where the faces write: files atomically, JSON as people and tools read it, the console.

One home for this plumbing so that the CLI (interview/cli) and the questionnaire
(interview/questionnaire) write results and sessions the same way.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from knowledge.errors import InputError


def console(file=None) -> Console:
    """A rich console; plain (no colour, no wrapping) when not writing to a terminal."""
    out = file or sys.stdout
    interactive = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, highlight=False, soft_wrap=not interactive,
                   width=None if interactive else 120, color_system="auto" if interactive else None)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_atomic(path: str | os.PathLike, content: str | bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, expected a file to write", file=str(path))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise InputError("its folder does not exist", file=str(path))
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)   # mkstemp creates 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):   # some filesystems refuse to fsync a directory
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
