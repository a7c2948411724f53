"""`--record` for every face that makes records (assess, interview, batch; serve alike): the
store its options ask for, and the record as the store keeps it.

records/store.py is the seam (`RecordStore.save(record) -> StoredRef`); the registry
(records/registry.py) is the store --record means. Here because the CLI and the
questionnaire both need it and neither may import the other."""
from __future__ import annotations

import sys

from pnman.knowledge.errors import InputError, Phrase


def store_for(record: bool, registry: str | None = None):
    """The registry at `registry` (default_path() when None) when `record`, else a NullStore.
    A registry named without --record is refused: it says where to record, not to record."""
    if not record:
        if registry:
            raise InputError(Phrase("registry.without_record"), key="--registry")
        from pnman.records.store import NullStore
        return NullStore()
    from pnman.records.schema import default_path     # SQLite, the chain: only to record
    from pnman.records.store import RegistryStore
    return RegistryStore(default_path(registry))


def record_store(args):
    """The store of a command's --record and --registry options."""
    return store_for(bool(getattr(args, "record", False)), getattr(args, "registry", None))


def save(store, record: dict, w) -> dict:
    """Keep the record through the store and return it as kept; a registry's entry id is said
    on stderr (« … : entrée 12-3fa9c1 »). `w` is an interview.render.l10n.Words."""
    try:
        ref = store.save(record)
    finally:
        getattr(store, "close", lambda: None)()      # one record per command: the file is closed again
    if ref.id is not None:
        print(w("registry.recorded", entry=ref.id, path=ref.where), file=sys.stderr)
    return ref.record
