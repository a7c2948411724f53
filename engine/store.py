"""Where a face keeps the records it makes: one seam, `RecordStore.save(record) -> StoredRef`.

The faces (`pnman assess --record`, `interview`, `batch`, the web server) write through a
store and render what it gives back, the record *as stored*: the registry adds where it
was chained (`record["registry"] = {"entry", "head"}`, no decision content) and seals the
record again.

- `engine.registry.RegistryStore`: the append-only, hash-chained SQLite registry (§8);
- `NullStore`: keeps nothing (no --record): the record goes to the file `-o` names, as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, runtime_checkable



@dataclass(frozen=True)
class StoredRef:
    """Where a record went: its id in the store (None when nothing was kept), the chain head
    it was appended after (a registry's; None otherwise), the store's location, and the
    record as stored."""
    id: str | None
    head: str | None
    where: str | None
    record: dict


@runtime_checkable
class RecordStore(Protocol):
    def save(self, record: Mapping[str, Any]) -> StoredRef:
        """Keep the record; return where, and the record as kept."""
        ...


class NullStore:
    """Keeps nothing: the record goes back unchanged."""

    def save(self, record: Mapping[str, Any]) -> StoredRef:
        return StoredRef(None, None, None, dict(record))
