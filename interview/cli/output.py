"""Where a command's output goes: -o FILE (written atomically) or standard output."""
from __future__ import annotations

import sys

from ..files import to_json, write_atomic

__all__ = ["emit", "to_json"]


def emit(content: str | bytes, output: str | None) -> None:
    """Write to -o FILE (atomically) or to stdout."""
    if output and output != "-":
        write_atomic(output, content)
    elif isinstance(content, bytes):
        sys.stdout.buffer.write(content)
    else:
        sys.stdout.write(content)
