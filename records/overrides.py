"""A diagnostician's override of one fiche's status for an assessment entry (contract §8):
the rules an override must follow, appending it, and the per-fiche summary of overrides.

An override is an entry of its own, `{entry, fiche, status, engine_status, reason,
justification, by}`; it never changes the assessment's entry. The plan with overrides
forced is decision code: pnman.engine.overrides.replan.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import orjson

from pnman.knowledge.errors import InputError, Phrase, Word

from .append import append
from .chain import unpack
from .entries import assessment_row, payload_of

OVERRIDE_STATUSES = ("eligible", "conditional", "ineligible")
MIN_JUSTIFICATION = 20                   # characters
MAX_TEXT = 5000                          # characters of a justification; a name has at most MAX_NAME
MAX_NAME = 200


@dataclass(frozen=True)
class Override:
    """A diagnostician's override of one fiche's status for an assessment entry."""
    id: str                 # the override's own entry id
    entry: str              # the assessment entry it overrides
    fiche: int
    status: str
    engine_status: str      # the engine's status in that record
    reason: str
    justification: str
    by: str
    at: str                 # when it was recorded (the override entry's created_at)
    hash: str

    def as_dict(self) -> dict:
        return {"id": self.id, "entry": self.entry, "fiche": self.fiche, "status": self.status,
                "engine_status": self.engine_status, "reason": self.reason, "justification": self.justification,
                "by": self.by, "at": self.at, "hash": self.hash}


def override_of(row) -> Override:
    """An override entry's row as an Override."""
    return _override(row[1], row[2], row[6], payload_of(row))


def _override(entry_id: str, at: str, digest: str, data: dict) -> Override:
    return Override(entry_id, data["entry"], data["fiche"], data["status"], data["engine_status"], data["reason"],
                    data["justification"], data["by"], at, digest)


def add_override(conn: sqlite3.Connection, path: Path, entry_id: str, *, fiche: int, status: str, reason: str,
                 justification: str, by: str, reasons: Iterable[str] | None = None) -> Override:
    """Append a diagnostician's override of fiche `fiche` of assessment `entry_id`. Refused
    (InputError, exit 2): an unknown entry or fiche, a status other than eligible,
    conditional or ineligible, or the status in force already, an unknown reason code, a
    justification under MIN_JUSTIFICATION characters, no name."""
    if reasons is None:
        from pnman.knowledge.overrides import override_reasons
        reasons = override_reasons()
    reasons = tuple(reasons)
    if status not in OVERRIDE_STATUSES:
        raise InputError(Phrase("override.status", allowed=", ".join(OVERRIDE_STATUSES), found=repr(status)), key="status")
    if reason not in reasons:
        raise InputError(Phrase("override.reason", found=repr(reason), allowed=", ".join(reasons)), key="reason")
    justification = _text(justification, "justification", MAX_TEXT)
    if len(justification) < MIN_JUSTIFICATION:
        raise InputError(Phrase("override.justification", min=MIN_JUSTIFICATION, length=len(justification)),
                         key="justification")
    by = _text(by, "by", MAX_NAME)
    if not by:
        raise InputError(Phrase("override.by"), key="by")
    if isinstance(fiche, bool) or not isinstance(fiche, int):
        raise InputError(Phrase("cli.fiche_number", found=repr(fiche)), key="fiche")

    def build(new_id_: str, head: str | None, conn: sqlite3.Connection):
        record = payload_of(assessment_row(conn, path, entry_id))["record"]
        statuses = {f.get("fiche"): f.get("status") for f in record.get("fiches", []) if isinstance(f, dict)}
        if fiche not in statuses:
            numbers = sorted(n for n in statuses if isinstance(n, int))
            span = Phrase("registry.span", low=numbers[0], high=numbers[-1]) if numbers else Phrase("registry.span_none")
            raise InputError(Phrase("registry.no_fiche_in_entry", entry=entry_id, fiche=fiche, span=span), key="fiche")
        engine_status = statuses[fiche]
        current = engine_status
        for (blob,) in conn.execute("SELECT payload FROM entries WHERE kind = 'override' AND target = ? "
                                    "ORDER BY seq", (entry_id,)):
            earlier = orjson.loads(unpack(blob))
            if earlier.get("fiche") == fiche:
                current = earlier.get("status")
        if status == current:
            code = "registry.already_engine" if current == engine_status else "registry.already_override"
            raise InputError(Phrase(code, fiche=fiche, entry=entry_id, status=Word(f"status.{status}")), key="status")
        payload = {"entry": entry_id, "fiche": fiche, "status": status, "engine_status": engine_status,
                   "reason": reason, "justification": justification, "by": by}
        return "override", payload, (None, None, None, None, entry_id, None)

    entry = append(conn, path, [build])[0]
    return _override(entry.id, entry.created_at, entry.hash, entry.payload)


@dataclass(frozen=True)
class FicheOverrides:
    """The overrides in force on one fiche over the listed assessments."""
    fiche: int
    overridden: int                             # assessments with an override in force on it
    rate: float                                 # overridden / assessments listed
    reasons: tuple[tuple[str, int], ...]        # (reason code, count), most common first
    changes: tuple[tuple[str, str, int], ...]   # (engine status, override status, count), most common first

    def as_dict(self) -> dict:
        """As `registry list --summary --format json` prints it: a change is keyed
        `engine>override` (the one place that spells it)."""
        return {"fiche": self.fiche, "overridden": self.overridden, "rate": self.rate,
                "reasons": dict(self.reasons),
                "changes": {f"{engine}>{status}": count for engine, status, count in self.changes}}


@dataclass(frozen=True)
class OverrideSummary:
    assessments: int                            # assessments listed
    fiches: tuple[FicheOverrides, ...]          # by fiche number, only fiches with an override in force

    def as_dict(self) -> dict:
        return {"assessments": self.assessments, "fiches": [item.as_dict() for item in self.fiches]}


def override_summary(conn: sqlite3.Connection, listed) -> OverrideSummary:
    """Per fiche, over the listed assessments (queries.Summary): how many have an override in
    force on it, the rate, and the reasons and status changes behind them."""
    listed = list(listed)
    ids = {s.id for s in listed}
    latest: dict[tuple[str, int], dict] = {}
    for (blob,) in conn.execute("SELECT payload FROM entries WHERE kind = 'override' ORDER BY seq"):
        data = orjson.loads(unpack(blob))
        if data.get("entry") in ids:
            latest[(data["entry"], data["fiche"])] = data
    counted: dict[int, tuple[Counter, Counter]] = {}
    for (_, number), data in sorted(latest.items(), key=lambda kv: kv[0][1]):
        if data["status"] == data["engine_status"]:
            continue
        reasons, changes = counted.setdefault(number, (Counter(), Counter()))
        reasons[data["reason"]] += 1
        changes[(data["engine_status"], data["status"])] += 1
    total = len(listed)
    fiches = []
    for number, (reasons, changes) in sorted(counted.items()):
        overridden = sum(reasons.values())
        fiches.append(FicheOverrides(number, overridden, overridden / total if total else 0.0,
                                     tuple(reasons.most_common()),
                                     tuple((engine, status, count) for (engine, status), count in changes.most_common())))
    return OverrideSummary(total, tuple(fiches))


def _text(value: Any, key: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(Phrase("override.text", found=type(value).__name__), key=key)
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(Phrase("override.surrogate"), key=key) from None
    if any(not (ch.isprintable() or ch in "\n\t") for ch in value):
        raise InputError(Phrase("override.control"), key=key)
    if len(value) > limit:
        raise InputError(Phrase("override.too_long", limit=limit, found=len(value)), key=key)
    return value
