"""The summary of a portfolio: statuses per fiche, the investment ceilings and coaching days
added up, the most common blocking condition. It is added up row by row in the workers,
merged in input order, read back from a partial output (--resume), and written as
OUTPUT.summary.json and as text.
"""
from __future__ import annotations

from collections import Counter


def summary_fields(line: dict, kb) -> dict:
    """What the portfolio summary needs from one assessed output line, compact or full: the same
    figures whether the line was just assessed or read back from a partial output (--resume).
    A full record names its failing conditions by id: the knowledge gives their clause."""
    if "record" in line:
        record = line["record"]
        return {"statuses": {str(f["fiche"]): f["status"] for f in record["fiches"]},
                "totals": record["totals"],
                "blocking": sorted({_clause(c["id"], kb) for f in record["fiches"] for c in f["conditions"]
                                    if c["outcome"] == "failed" and c["kind"] == "eligibility"})}
    return {"statuses": line["statuses"], "totals": line["totals"], "blocking": line["blocking"]}


def assessed_fields(evaluation, plan) -> dict:
    """summary_fields of an assessment's line, from the assessment itself: a full record's
    fiches and their conditions are not walked again (0.035 ms a full row; 0.01 from the
    assessment). The same fields: tests/test_batch_lines.py."""
    statuses = evaluation.statuses
    return {"statuses": {str(n): s.status for n, s in statuses.items()},
            "totals": plan.totals,
            "blocking": sorted({c.condition.clause for s in statuses.values() if s.status == "ineligible"
                                for c in s.failing("eligibility")})}


def _clause(condition_id: str, kb) -> str:
    """A recorded condition's clause (`population.size`), the same for every fiche; an id the
    knowledge does not know (an edited file) is kept whole."""
    condition = kb.condition.get(condition_id)
    return condition_id if condition is None else condition.clause


class Summary:
    def __init__(self):
        self.rows = 0
        self.errors = 0
        self.statuses: Counter = Counter()      # (fiche, status) -> companies
        self.investment = [0, 0]
        self.days = [0, 0]
        self.blocking: Counter = Counter()      # in the order first met: a tie goes to the first

    def add(self, fields: dict | None) -> None:
        """One output row: its summary fields, or None for a rejected row."""
        self.rows += 1
        if fields is None:
            self.errors += 1
            return
        self.statuses.update(fields["statuses"].items())
        totals = fields["totals"]
        investment, days = totals["investment_da_ht"], totals["coaching_days"]
        self.investment[0] += investment["min"]
        self.investment[1] += investment["max"]
        self.days[0] += days["min"]
        self.days[1] += days["max"]
        self.blocking.update(fields["blocking"])

    def merge(self, other: Summary) -> None:
        """The rows of `other`, which come after this one's."""
        self.rows += other.rows
        self.errors += other.errors
        self.statuses.update(other.statuses)
        self.investment = [a + b for a, b in zip(self.investment, other.investment)]
        self.days = [a + b for a, b in zip(self.days, other.days)]
        self.blocking.update(other.blocking)

    def as_dict(self) -> dict:
        top = self.blocking.most_common(1)
        per_fiche: dict[str, dict] = {}
        for (fiche, status), count in sorted(self.statuses.items()):
            per_fiche.setdefault(fiche, {})[status] = count
        return {"rows": self.rows, "assessed": self.rows - self.errors, "errors": self.errors,
                "statuses_per_fiche": dict(sorted(per_fiche.items(), key=lambda kv: int(kv[0]))),
                "investment_da_ht": {"min": self.investment[0], "max": self.investment[1]},
                "coaching_days": {"min": self.days[0], "max": self.days[1]},
                "most_common_blocking_condition": {"condition": top[0][0], "companies": top[0][1]} if top else None}


def _blocking_words(condition: str, w) -> str:
    """A blocking condition, counted without its fiche, in words (its id under the words)."""
    from ...render.reasons import condition_words
    for conditions in w.kb.conditions.values():
        for candidate in conditions:
            if candidate.clause == condition:
                return condition_words(candidate.id, w)     # its id stays in the JSON summary
    return condition


def summary_text(data: dict, w) -> str:
    lines = [w("batch.assessed", assessed=w.count("counts.companies_assessed", data["assessed"]),
               errors=w.count("counts.rows_rejected", data["errors"]), rows=w.count("counts.rows_read", data["rows"])),
             w("batch.statuses")]
    for fiche, counts in data["statuses_per_fiche"].items():
        lines.append(f"  fiche {int(fiche):2d}: {counts.get('eligible', 0):6d} / {counts.get('conditional', 0):6d} / "
                     f"{counts.get('unknown', 0):6d} / {counts.get('ineligible', 0):6d}")
    inv, days = data["investment_da_ht"], data["coaching_days"]
    lines.append(w("batch.investment", range=w.da_range(inv["min"], inv["max"])))
    lines.append(w("batch.days", range=w.number(days["min"]) if days["min"] == days["max"]
                   else w("format.range", low=w.number(days["min"]), high=w.number(days["max"]))))
    top = data["most_common_blocking_condition"]
    if top:
        lines.append(w("batch.blocking", condition=_blocking_words(top["condition"], w), companies=w.count("counts.companies", top["companies"])))
    return "\n".join(lines) + "\n"
