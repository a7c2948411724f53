"""The registry line at the foot of a report: which entry holds the record and the chain
head it was appended after (`record["registry"]`, set by pnman.records)."""
from __future__ import annotations


def registry_footer(record: dict, w) -> str | None:
    """« Registre : entrée 12-3fa9c1 ; tête de la chaîne à l’enregistrement : sha256:… », or
    None for a record kept in no registry. `w` is an .l10n.Words."""
    where = record.get("registry")
    if not isinstance(where, dict) or not where.get("entry"):
        return None
    if where.get("head"):
        return w("registry.footer", entry=where["entry"], head=where["head"])
    return w("registry.footer_first", entry=where["entry"])
