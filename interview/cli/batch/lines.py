"""The bytes of a `pnman batch` output line: `orjson.dumps(line)` and a newline, the same
bytes, made with less work for a full record (--full).

A full record's trace (50 kB of its 130 kB) is made of entries shared by every record whose
rules fired alike: a portfolio has a few hundred of them (engine.record.trace_entries). Each
is serialised once and spliced into the lines that carry it (orjson.Fragment) instead of
being walked again for every row: ~0.04 ms of a full line's 0.15–0.2 ms. A record is a
value, never edited in place (engine.record), so an entry's JSON stays its JSON; the table
keeps the entries it names alive, so an id in it is never another object's.
"""
from __future__ import annotations

import orjson

ENTRIES_KEPT = 4096         # serialised trace entries kept (emptied when full: a miss only serialises again)
_ENTRIES: dict[int, tuple] = {}     # id(a trace entry) -> (the entry, orjson.Fragment of its JSON)


def line_bytes(line: dict) -> bytes:
    """orjson.dumps(line) + b"\\n", a full record's trace entries spliced in as serialised."""
    record = line.get("record")
    if record.__class__ is dict and record.get("trace").__class__ is list:
        line = {**line, "record": {**record, "trace": list(map(_fragment, record["trace"]))}}
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)     # 130 kB not copied to add b"\n"
    return orjson.dumps(line) + b"\n"      # a small line: orjson's buffer (4 kB at least) not kept for it


def _fragment(entry):
    found = _ENTRIES.get(id(entry))
    if found is not None and found[0] is entry:
        return found[1]
    if entry.__class__ is not dict:
        return entry
    fragment = orjson.Fragment(orjson.dumps(entry))
    if len(_ENTRIES) >= ENTRIES_KEPT:
        _ENTRIES.clear()
    _ENTRIES[id(entry)] = (entry, fragment)
    return fragment
