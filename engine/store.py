"""Where a face keeps the records it makes: one seam, `RecordStore.save(record) -> StoredRef`.

The faces (`pnman assess --record`, `interview`, `batch`, the web server) write through a
store and render what it gives back, the record *as stored*: the registry adds where it
was chained (`record["registry"] = {"entry", "head"}`, no decision content) and seals the
record again.

- `engine.registry.RegistryStore`: the append-only, hash-chained SQLite registry (§8);
- `NullStore`: keeps nothing (no --record);
- `FileStore`: one JSON file per record in a folder (a record kept without a registry).
"""
from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, runtime_checkable

from .chain import timestamp
from .record import canonical_json


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


class FileStore:
    """One file per record, `<time>-<hex>.json` in a folder, written atomically. No chain: a
    file store keeps records, it does not vouch for them."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def save(self, record: Mapping[str, Any]) -> StoredRef:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = timestamp().replace(":", "").replace("+0000", "Z") + "-" + secrets.token_hex(3)
        path = self.folder / f"{name}.json"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(canonical_json(dict(record)).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return StoredRef(name, None, str(path), dict(record))
