"""The dashboard's figures (contract §15): SQL aggregates over the registry's index, for a
date range and size classes. The same dict is `GET /dashboard.json` and what the page draws.

- `over_time`: assessments per day (per month beyond MAX_DAYS days);
- `fiches`: per fiche, the companies for which it is eligible, conditional, unknown,
  ineligible, and planned, with their shares;
- `budgets`: per size class, the investment ceilings and coaching days of the plans;
- `overrides`: per fiche, the assessments with an override in force that changes the
  engine's status (the registry's own count), and their rate;
- `impact`: for two editions, the companies whose plan's budgets change. Editions change
  figures, never conditions, so a plan keeps its steps and a step's budget is a function of
  the fiche, its part, the size class and the edition: the companies are grouped by (size
  class, steps) in SQL and each group is priced under both editions once.

A « company » here (the JSON's `companies`) is an assessment entry: a company assessed twice
counts twice — the page labels these figures as assessments, and says so.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Iterator

import orjson

from pnman.engine.budget import step_budget
from pnman.engine.impact import budget_figures

from .dashboard_index import NO_SIZE, DashboardIndex

STATUSES = ("eligible", "conditional", "unknown", "ineligible")
MAX_DAYS = 62                 # a longer range is counted by month
MAX_LISTED = 25               # companies listed by the impact section (all are counted)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FilterError(ValueError):
    """A filter the dashboard cannot apply: its Phrase names the parameter (str(): English)."""

    def __init__(self, code: str, **figures: Any):
        from pnman.knowledge.errors import Phrase
        self.phrase = Phrase(f"dashboard_filter.{code}", **figures)
        super().__init__(code)

    def words(self, cat) -> str:
        return self.phrase.words(cat)


@dataclass(frozen=True)
class Filters:
    since: str | None = None          # YYYY-MM-DD, inclusive
    until: str | None = None
    sizes: tuple[str, ...] = ()       # size classes (NO_SIZE: none); empty: all
    before: str | None = None         # editions compared by the impact section
    after: str | None = None

    def where(self, alias: str = "") -> tuple[str, list]:
        prefix = f"{alias}." if alias else ""
        clauses, params = [], []
        if self.since:
            clauses.append(f"{prefix}day >= ?")
            params.append(self.since)
        if self.until:
            clauses.append(f"{prefix}day <= ?")
            params.append(self.until)
        if self.sizes:
            clauses.append(f"{prefix}size_class IN ({', '.join('?' * len(self.sizes))})")
            params.extend(self.sizes)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def as_dict(self) -> dict:
        return {"since": self.since, "until": self.until, "size_classes": list(self.sizes),
                "from": self.before, "to": self.after}


def parse_filters(params, size_codes: tuple[str, ...], editions: tuple[str, ...]) -> Filters:
    """Filters from a query string (`since`, `until`, `size` repeated, `from`, `to`); an empty
    field is no filter. FilterError names what is wrong."""
    found: dict[str, Any] = {}
    for key in ("since", "until"):
        value = (params.get(key) or "").strip()
        if value and not _DATE.match(value):
            raise FilterError("date", param=key, found=repr(value[:40]))
        found[key] = value or None
    if found["since"] and found["until"] and found["since"] > found["until"]:
        raise FilterError("order", since=found["since"], until=found["until"])
    sizes = [s for s in params.getlist("size") if s]
    allowed = (*size_codes, NO_SIZE)
    for size in sizes:
        if size not in allowed:
            raise FilterError("size", allowed=", ".join(allowed), found=repr(size[:40]))
    for key, name in (("from", "before"), ("to", "after")):
        value = params.get(key) or None
        if value is not None and value not in editions:
            raise FilterError("edition", param=key, allowed=", ".join(editions), found=repr(value[:40]))
        found[name] = value
    if len(editions) > 1:
        found["before"] = found["before"] or editions[0]
        found["after"] = found["after"] or editions[-1]
    return Filters(found["since"], found["until"], tuple(dict.fromkeys(sizes)), found["before"], found["after"])


def figures(index: DashboardIndex, filters: Filters, knowledge_for=None) -> dict:
    """Every figure of the dashboard for `filters`, from the registry's index (`not_indexed`:
    the entries it does not hold yet).
    `knowledge_for(edition)`: the Knowledge of an edition (the impact section's)."""
    with index.reading() as (conn, behind), _snapshot(conn):
        where, params = filters.where()
        total = conn.execute(f"SELECT COUNT(*) FROM assessments{where}", params).fetchone()[0]
        data = {"schema": "pnman-dashboard/1", "filters": filters.as_dict(), "assessments": total,
                "not_indexed": behind,
                "over_time": _over_time(conn, filters, where, params),
                "fiches": _fiches(conn, where, params),
                "budgets": _budgets(conn, where, params),
                "overrides": _overrides(conn, filters, total)}
        data["impact"] = (_impact(conn, filters, where, params, knowledge_for)
                          if knowledge_for is not None and filters.before and filters.after else None)
    return data


@contextlib.contextmanager
def _snapshot(conn):
    """The queries of one answer in one read transaction: one state of the registry."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def _over_time(conn, filters: Filters, where: str, params: list) -> dict:
    span = conn.execute(f"SELECT MIN(day), MAX(day) FROM assessments{where}", params).fetchone()
    monthly = False
    if span[0] is not None:
        from datetime import date
        low, high = (date.fromisoformat(d) for d in span)
        monthly = (high - low).days > MAX_DAYS
    period = "substr(day, 1, 7)" if monthly else "day"
    rows = conn.execute(f"SELECT {period} AS p, COUNT(*) FROM assessments{where} GROUP BY p ORDER BY p", params)
    return {"period": "month" if monthly else "day",
            "points": [{"period": p, "assessments": n} for p, n in rows]}


def _fiches(conn, where: str, params: list) -> list[dict]:
    counts: dict[int, dict] = {}
    for fiche, status, planned, companies in conn.execute(
            f"SELECT fiche, status, planned, SUM(companies) FROM fiche_status{where} GROUP BY fiche, status, planned",
            params):
        item = counts.setdefault(fiche, {"fiche": fiche, "companies": 0, **dict.fromkeys(STATUSES, 0), "planned": 0})
        item["companies"] += companies
        item[status] = item.get(status, 0) + companies
        if planned:
            item["planned"] += companies
    out = []
    for fiche in sorted(counts):
        item = counts[fiche]
        whole = item["companies"]
        item["shares"] = {key: (item[key] / whole if whole else 0.0) for key in (*STATUSES, "planned")}
        out.append(item)
    return out


def _budgets(conn, where: str, params: list) -> list[dict]:
    rows = conn.execute(f"SELECT size_class, COUNT(*), SUM(investment_min), SUM(investment_max), SUM(days_min), "
                        f"SUM(days_max) FROM assessments{where} GROUP BY size_class ORDER BY size_class", params)
    return [{"size_class": None if size == NO_SIZE else size, "companies": n,
             "investment_da_ht": {"min": inv_min, "max": inv_max},
             "coaching_days": {"min": _number(d_min), "max": _number(d_max)}}
            for size, n, inv_min, inv_max, d_min, d_max in rows]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _overrides(conn, filters: Filters, total: int) -> list[dict]:
    where, params = filters.where("a")
    rows = conn.execute(
        "SELECT o.fiche, COUNT(*) FROM overrides o JOIN assessments a ON a.seq = o.target"
        f"{where or ' WHERE 1'} AND o.status != o.engine_status GROUP BY o.fiche ORDER BY o.fiche", params)
    return [{"fiche": fiche, "overridden": n, "rate": n / total if total else 0.0} for fiche, n in rows]


def _priced(steps: list[list], size: str | None, kb) -> tuple[dict, dict]:
    """The budget figures of each step ((fiche, part) → figures) and the plan's totals under
    one edition's Knowledge; `steps` as the index keeps them (dashboard_index.step_entry)."""
    figures_by_step: dict[tuple[int, str | None], dict] = {}
    inv, days = [0, 0], [0, 0]
    for number, part, optional in steps:
        cost = step_budget(kb.fiche(number), size, part, kb.amendments.get(number, ()))
        figures_by_step[(number, part)] = budget_figures(cost.budget)
        if not optional:
            inv[0] += cost.investment[0]
            days[0] += cost.days[0]
        inv[1] += cost.investment[1]
        days[1] += cost.days[1]
    return figures_by_step, {"investment_da_ht": {"min": inv[0], "max": inv[1]},
                             "coaching_days": {"min": _number(days[0]), "max": _number(days[1])}}


def _impact(conn, filters: Filters, where: str, params: list, knowledge_for) -> dict:
    before, after = knowledge_for(filters.before), knowledge_for(filters.after)
    changed_groups: dict[tuple[str, str], dict] = {}
    companies = changed = 0
    for size, steps_json, n in conn.execute(
            f"SELECT size_class, steps, COUNT(*) FROM assessments{where} GROUP BY size_class, steps", params):
        companies += n
        steps = orjson.loads(steps_json)
        size_class = None if size == NO_SIZE else size
        figures_before, totals_before = _priced(steps, size_class, before)
        figures_after, totals_after = _priced(steps, size_class, after)
        if figures_before != figures_after or totals_before != totals_after:
            fiches = sorted({key[0] for key, figures in figures_before.items() if figures != figures_after.get(key)})
            changed_groups[(size, steps_json)] = {"fiches": fiches, "totals": {"from": totals_before,
                                                                               "to": totals_after}}
            changed += n
    listed = []
    for seq, entry_id, created_at, name, size, steps_json in _changed_rows(conn, where, params, changed_groups):
        group = changed_groups[(size, steps_json)]
        listed.append({"id": entry_id, "created_at": created_at, "name": name,
                       "size_class": None if size == NO_SIZE else size, "fiches": group["fiches"],
                       "totals": group["totals"]})
    return {"from": filters.before, "to": filters.after, "companies": companies, "changed": changed,
            "listed": listed}


def _changed_rows(conn, where: str, params: list, groups: dict) -> Iterator[tuple]:
    """The newest assessments of the changed groups, at most MAX_LISTED."""
    if not groups:
        return iter(())
    pairs = " OR ".join("(size_class = ? AND steps = ?)" for _ in groups)
    flat = [value for key in groups for value in key]
    clause = f"{where} AND ({pairs})" if where else f" WHERE ({pairs})"
    return conn.execute(f"SELECT seq, id, created_at, name, size_class, steps FROM assessments{clause} "
                        f"ORDER BY seq DESC LIMIT {MAX_LISTED}", params + flat)


def entries(index: DashboardIndex, filters: Filters) -> Iterator[dict]:
    """The filtered assessments, newest first, one dict each (the .xlsx download)."""
    where, params = filters.where("a")
    with index.reading() as (conn, _), _snapshot(conn):
        rows = conn.execute(
            "SELECT a.id, a.created_at, a.name, a.size_class, a.edition, a.steps, a.statuses, a.investment_min, "
            "a.investment_max, a.days_min, a.days_max, "
            "(SELECT COUNT(*) FROM overrides o WHERE o.target = a.seq AND o.status != o.engine_status) "
            f"FROM assessments a{where} ORDER BY a.seq DESC", params).fetchall()
    for (entry_id, created_at, name, size, edition, steps, statuses, inv_min, inv_max, d_min, d_max,
         overridden) in rows:
        yield {"id": entry_id, "created_at": created_at, "name": name, "size_class": None if size == NO_SIZE else size,
               "edition": edition, "steps": orjson.loads(steps), "statuses": orjson.loads(statuses),
               "totals": {"investment_da_ht": {"min": inv_min, "max": inv_max},
                          "coaching_days": {"min": _number(d_min), "max": _number(d_max)}},
               "overrides": overridden}
