"""Where a face keeps the records it makes: one seam, `RecordStore.save(record) -> StoredRef`.

The faces (`pnman assess --record`, `interview`, `batch`, the web server) write through a
store and render what it gives back, the record *as stored*: the registry adds where it
was chained (`record["registry"] = {"entry", "head"}`, no decision content) and seals the
record again.

- `RegistryStore`: the append-only, hash-chained SQLite registry (§8);
- `NullStore`: keeps nothing (no --record): the record goes to the file `-o` names, as before.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from typing import Any, Mapping, Protocol, runtime_checkable


TYPE_CHECKING = False
if TYPE_CHECKING:       # loaded at the first append: a face run without --record (a NullStore) never loads it
    from .registry import Registry

@dataclass(frozen=True)
class StoredRef:
    """Where a record went: its id in the store (None when nothing was kept), the chain head
    it was appended after (a registry's; None otherwise), the store's location, and the
    record as stored."""
    id: str | None
    head: str | None
    where: str | None
    record: dict
    recorded_before: bool = False       # its source was recorded already: nothing was appended


@runtime_checkable
class RecordStore(Protocol):
    def save(self, record: Mapping[str, Any], *, source: Mapping[str, Any] | None = None,
             replaces: str | None = None) -> StoredRef:
        """Keep the record (once per `source`, replacing the entry `replaces` names); return
        where, and the record as kept."""
        ...


class NullStore:
    """Keeps nothing: the record goes back unchanged."""

    def save(self, record: Mapping[str, Any], *, source: Mapping[str, Any] | None = None,
             replaces: str | None = None) -> StoredRef:
        return StoredRef(None, None, None, dict(record))


class RegistryStore:
    """The registry as a RecordStore: `save(record)` appends it and gives back the record as
    stored. Opens the file on first use in each process (batch workers are forked)."""

    def __init__(self, path: str | os.PathLike | None = None, *, durable: bool = True):
        from .schema import default_path     # SQLite: not for a NullStore
        self.path = default_path(path)
        self.durable = durable
        self._registry: Registry | None = None
        self._pid: int | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None or self._pid != os.getpid():
            from .registry import Registry
            self._registry, self._pid = Registry(self.path, durable=self.durable), os.getpid()
        return self._registry

    def save(self, record: Mapping[str, Any], *, source: Mapping[str, Any] | None = None,
             replaces: str | None = None) -> StoredRef:
        entry = self.registry.append_assessment(record, source=source, replaces=replaces)
        return StoredRef(entry.id, entry.prev_hash, str(self.path), entry.record, entry.recorded_before)

    def save_many(self, records: list[Mapping[str, Any]], *, sources: list[Mapping[str, Any] | None],
                  parts: list[Mapping | None] | None = None) -> list[StoredRef]:
        """Keep several records in one transaction (a batch's chunk): each once per source;
        `parts`: each record's engine.record.kept_parts, taken when it was made."""
        entries = self.registry.append_assessments(records, sources=sources, parts=parts)
        return [StoredRef(e.id, e.prev_hash, str(self.path), e.record, e.recorded_before) for e in entries]

    def recorded_rows(self, portfolio: str, rows: list[int]) -> dict[int, str]:
        """The rows of this portfolio recorded already, and their entries, in one query (a
        chunk of a rerun need not build their records again; save_many checks again under
        the lock)."""
        return self.registry.source_entries(portfolio, rows)

    def recorded(self, source: Mapping[str, Any]) -> str | None:
        """The entry recorded from this source already, or None: a rerun need not build the
        record again to find out (save() checks again under the lock)."""
        return self.registry.source_entry(source)

    def close(self) -> None:
        if self._registry is not None and self._pid == os.getpid():
            self._registry.close()
        self._registry = None
