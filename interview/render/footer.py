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
    if where.get("head"):
        line = w("registry.footer", entry=where["entry"], head=where["head"])
    else:
        line = w("registry.footer_first", entry=where["entry"])
    checkpoint = where.get("checkpoint")
    if isinstance(checkpoint, dict) and checkpoint.get("entry"):
        line += w("registry.footer_and") + w("registry.footer_checkpoint", entry=checkpoint["entry"], count=checkpoint.get("count"),
                  at=_when(str(checkpoint.get("at", ""))), hash=checkpoint.get("hash"))
    if where.get("replaces"):
        line += " — " + w("registry.footer_replaces", entry=where["replaces"])
    return line


def _when(at: str) -> str:
    """2026-03-01T14:30:05.123456+00:00 → 2026-03-01 14:30:05 UTC (as registry pages show times)."""
    return f"{at[:10]} {at[11:19]} UTC" if at else "—"
