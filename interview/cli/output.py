"""Where a command's output goes: -o FILE (written atomically) or standard output."""
from __future__ import annotations

import sys

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.profile import os_reason

from ..files import is_stdout, to_json, write_atomic

__all__ = ["emit", "to_json"]


def emit(content: str | bytes, output: str | None) -> None:
    """Write to -o FILE (atomically), or to stdout for no -o, `-o -` or `-o /dev/stdout`."""
    if output and not is_stdout(output):
        write_atomic(output, content)
        return
    if sys.stdout is None:
        raise InputError(Phrase("write.stdout_closed"))
    try:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise InputError(Phrase("write.stdout_failed", reason=os_reason(exc))) from None
