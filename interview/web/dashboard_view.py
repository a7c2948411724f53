"""What the dashboard page shows, from the figures of dashboard.py: each chart's geometry
(charts.py) and the table beside it, in the reader's words and number format; and the
filtered list as an .xlsx workbook."""
from __future__ import annotations

from typing import Any, Iterable

from ..render.l10n import Words
from ..render.workbook import Book
from . import charts
from .dashboard import STATUSES
from .dashboard_index import NO_SIZE

SHARE_KEYS = ("eligible", "conditional", "unknown", "ineligible")


def percent(w: Words, share: float) -> str:
    return w("dashboard.percent", value=w.number(round(share * 100, 1)))


def compact_da(w: Words, amount: int) -> str:
    """An amount as a chart's label says it, short (« 491,3 M DA HT »); the table beside it
    gives it in full."""
    from babel.numbers import format_compact_decimal
    number = format_compact_decimal(amount, locale=w.cat.cldr, fraction_digits=1, numbering_system="latn")
    return w("format.da", amount=number.replace("\u202f", "\u00a0").replace(" ", "\u00a0"))


def size_name(w: Words, code: str | None) -> str:
    return code if code and code != NO_SIZE else w("dashboard.no_size")


def page_context(data: dict, w: Words, size_codes: tuple[str, ...], editions: tuple[str, ...], query: str) -> dict:
    rtl = w.cat.direction == "rtl"
    glued = w.glued("\u00a0")
    points = [(p["period"], p["assessments"]) for p in data["over_time"]["points"]]
    over_time = charts.columns(points, rtl, glued.number)
    fiches = [dict(f, label=w("dashboard.fiche", fiche=f["fiche"]),
                   title=w.fiche_title(f["fiche"]),
                   cells=[percent(glued, f["shares"][k]) for k in (*SHARE_KEYS, "planned")])
              for f in data["fiches"]]
    budgets = [dict(b, label=size_name(w, b["size_class"]),
                    investment=glued.da_range(b["investment_da_ht"]["min"], b["investment_da_ht"]["max"]),
                    days=glued.days_range(b["coaching_days"]["min"], b["coaching_days"]["max"]))
               for b in data["budgets"]]
    overrides = [dict(o, label=w("dashboard.fiche", fiche=o["fiche"]), title=w.fiche_title(o["fiche"]),
                      share=percent(glued, o["rate"])) for o in data["overrides"]]
    impact = data.get("impact")
    if impact:
        isolate = "\u2068{}\u2069".format       # an edition id keeps its reading order in Arabic
        impact = dict(impact, sentence=w("dashboard.impact_count", count=impact["changed"],
                                         n=glued.number(impact["changed"]),
                                         companies=glued.number(impact["companies"]),
                                         before=isolate(impact["from"]), after=isolate(impact["to"])),
                      rows=[dict(c, size=size_name(w, c["size_class"]), day=w.date(c["created_at"]),
                                         fiches_text=", ".join(str(n) for n in c["fiches"]),
                                         before=glued.da_range(c["totals"]["from"]["investment_da_ht"]["min"],
                                                               c["totals"]["from"]["investment_da_ht"]["max"]),
                                         after=glued.da_range(c["totals"]["to"]["investment_da_ht"]["min"],
                                                              c["totals"]["to"]["investment_da_ht"]["max"]),
                                         days_before=glued.days_range(c["totals"]["from"]["coaching_days"]["min"],
                                                                      c["totals"]["from"]["coaching_days"]["max"]),
                                         days_after=glued.days_range(c["totals"]["to"]["coaching_days"]["min"],
                                                                     c["totals"]["to"]["coaching_days"]["max"]))
                                    for c in impact["listed"]])
    filters = data["filters"]
    return {
        "data": data, "query": query, "rtl": rtl,
        "over_time": over_time, "points": data["over_time"]["points"],
        "period_title": w(f"dashboard.per_{data['over_time']['period']}"),
        "fiches": fiches, "fiche_chart": charts.stacked(fiches, SHARE_KEYS, rtl),
        "budgets": budgets,
        "budget_chart": charts.bars([(b["label"], b["investment_da_ht"]["max"],
                                      compact_da(w, b["investment_da_ht"]["max"])) for b in budgets], rtl),
        "overrides": overrides,
        "override_chart": charts.bars([(o["label"], o["rate"], o["share"]) for o in overrides], rtl),
        "impact": impact,
        "sizes": [(code, size_name(w, code), code in filters["size_classes"]) for code in (*size_codes, NO_SIZE)],
        "editions": editions, "since": filters["since"] or "", "until": filters["until"] or "",
        "edition_from": filters["from"], "edition_to": filters["to"],
        "status_words": {s: w.status(s) for s in STATUSES},
        "total": glued.number(data["assessments"]), "not_indexed": glued.number(data.get("not_indexed") or 0),
    }


def write_entries(rows: Iterable[dict[str, Any]], w: Words, handle) -> None:
    """The filtered assessments as a workbook: one row per entry, the statuses of every fiche,
    the plan's fiches, the totals and the overrides in force."""
    book = Book(w)
    fiches = sorted(w.kb.fiches)
    headers = ([(w("dashboard.entry"), 14), (w("dashboard.when"), 20), (w("sheet.name"), 32),
                (w("sheet.size_class"), 10), (w("sheet.edition"), 12)]
               + [(w("sheet.fiche", fiche=n), 12) for n in fiches]
               + [(w("sheet.plan"), 30), (w("sheet.investment_min"), 16), (w("sheet.investment_max"), 16),
                  (w("sheet.days_min"), 12), (w("sheet.days_max"), 12), (w("dashboard.overridden"), 12)])
    first_total = 6 + len(fiches)
    sheet = book.sheet(w("dashboard.sheet"), headers, numbers=range(first_total, first_total + 4))
    for row in rows:
        statuses = row["statuses"]
        totals = row["totals"]
        plan = ", ".join(_step_text(step, w) for step in row["steps"])
        sheet.append([row["id"], row["created_at"][:19].replace("T", " "), row["name"], row["size_class"],
                      row["edition"]]
                     + [w.status(statuses[str(n)]) if str(n) in statuses else None for n in fiches]
                     + [plan, totals["investment_da_ht"]["min"], totals["investment_da_ht"]["max"],
                        totals["coaching_days"]["min"], totals["coaching_days"]["max"], row["overrides"]])
    book.write_to(handle)


def _step_text(step: list, w: Words) -> str:
    """A step as the index keeps it, `[9, "post_erp", true]`, as « 9 (Post-ERP) »."""
    number, part, _ = step
    return f"{number} ({w.part(part)})" if part else str(number)
