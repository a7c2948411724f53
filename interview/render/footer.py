"""The registry line at the foot of a report: which entry holds the record, the chain head it
was appended after, the latest signed checkpoint then, and the entry it replaces
(`record["registry"]`, set by pnman.records)."""
from __future__ import annotations


def registry_footer(record: dict, w) -> str | None:
    """« Registre : entrée 12-3fa9c1 ; tête de la chaîne à l’enregistrement : sha256:… ;
    dernier point de contrôle signé alors : … », or None for a record kept in no registry.
    `w` is an .l10n.Words."""
    where = record.get("registry")
    if not isinstance(where, dict) or not where.get("entry"):
        return None
    ltr = _isolated if getattr(getattr(w, "cat", None), "direction", "ltr") == "rtl" else str
    if where.get("head"):
        line = w("registry.footer", entry=ltr(where["entry"]), head=ltr(where["head"]))
    else:
        line = w("registry.footer_first", entry=ltr(where["entry"]))
    checkpoint = where.get("checkpoint")
    if isinstance(checkpoint, dict) and checkpoint.get("entry"):
        line += w("registry.footer_and") + w("registry.footer_checkpoint", entry=ltr(checkpoint["entry"]),
                                             count=checkpoint.get("count"),
                                             at=ltr(_when(str(checkpoint.get("at", "")))),
                                             hash=ltr(checkpoint.get("hash")))
    if where.get("replaces"):
        line += " — " + w("registry.footer_replaces", entry=ltr(where["replaces"]))
    return line


def _when(at: str) -> str:
    """2026-03-01T14:30:05.123456+00:00 → 2026-03-01 14:30:05 UTC (as registry pages show times)."""
    return f"{at[:10]} {at[11:19]} UTC" if at else "—"


def _isolated(text) -> str:
    """An id, a hash or a time kept left to right inside a right-to-left sentence (Unicode
    isolates: « 4-2400fd » does not turn into « 2400fd-4 »)."""
    return f"\u2066{text}\u2069"
