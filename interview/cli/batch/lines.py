"""The bytes of a `pnman batch` output line: its JSON and a newline; a full record (--full)
written in its canonical form (engine.record.canonical_json: sorted keys, compact), the
form its `record_hash` is computed on and the registry stores.

That form is not serialised again: the record's digest and seal made its pieces moments
before (engine.record.kept_parts, taken then), so the line is one join of them, spliced in
(orjson.Fragment) — ~0.03 ms where serialising the 130 kB record took ~0.14 ms, a tenth of a
full row. A reader gets the same values as before, keys sorted; an auditor can hash the
record's text as it stands.
"""
from __future__ import annotations

from typing import Mapping

import orjson


def line_bytes(line: dict, parts: Mapping[int, tuple] | None = None) -> bytes:
    """The line's JSON and a newline; its "record", when it holds one, in canonical form
    (`parts`: the record's kept_parts; without them, or once they no longer match, the
    record is serialised whole, the same bytes)."""
    record = line.get("record")
    if record.__class__ is dict:
        from pnman.engine.record import canonical_bytes
        line = {**line, "record": orjson.Fragment(canonical_bytes(record, parts))}
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)     # 130 kB not copied to add b"\n"
    return orjson.dumps(line) + b"\n"      # a small line: orjson's buffer (4 kB at least) not kept for it
