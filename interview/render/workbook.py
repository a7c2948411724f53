"""Results as an Excel workbook (contract §15): `pnman batch` and `pnman impact` with
`-o FILE.xlsx`, and the dashboard's « download as .xlsx ».

One row per company, a frozen header in the reader's language, column widths set, right
to left in Arabic, and a summary sheet. openpyxl's write-only mode streams the rows to a
temporary file (memory stays flat for 100,000 companies); the workbook then replaces the
output atomically (files.write_atomic), so a killed run never leaves half a workbook.
"""
from __future__ import annotations

import tempfile
from typing import Any, Iterable, Iterator, Mapping

from ..files import write_atomic

STATUSES = ("eligible", "conditional", "unknown", "ineligible")
_NUMBER = "#,##0"
_BAD_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


class Book:
    """A write-only workbook whose sheets have a bold, frozen header row and set widths."""

    def __init__(self, w):
        from openpyxl import Workbook
        self.w = w
        self.book = Workbook(write_only=True)

    def sheet(self, title: str, headers: list[tuple[str, int]], numbers: Iterable[int] = ()):
        """A sheet with `headers` [(text, width)], its header frozen; `numbers`: the columns
        (0-based) shown with thousands separators."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
        sheet = self.book.create_sheet(title.translate(_BAD_TITLE)[:31])
        sheet.freeze_panes = "A2"
        if self.w.cat.direction == "rtl":
            sheet.sheet_view.rightToLeft = True
        for index, (_, width) in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        cells = []
        for text, _ in headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font, cell.alignment = bold, wrap
            cells.append(cell)
        sheet.append(cells)
        return _Sheet(sheet, set(numbers))

    def write_to(self, handle) -> None:
        """Write the workbook into an open binary file (a download's spool)."""
        self.book.save(handle)

    def save(self, path: str) -> None:
        """Write the workbook to `path` atomically (through a temporary file, streamed)."""
        with tempfile.TemporaryFile() as spool:
            self.book.save(spool)
            spool.seek(0)
            write_atomic(path, iter(lambda: spool.read(1 << 20), b""))


class _Sheet:
    def __init__(self, sheet, numbers: set[int]):
        self.sheet, self.numbers = sheet, numbers

    def heading(self, values: list[Any]) -> None:
        """A bold row: the header of a table further down the sheet."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.font = Font(bold=True)
            cells.append(cell)
        self.sheet.append(cells)

    def append(self, values: list[Any]) -> None:
        if self.numbers:
            values = [_formatted(self.sheet, v) if i in self.numbers and isinstance(v, (int, float)) else v
                      for i, v in enumerate(values)]
        self.sheet.append(values)


def _formatted(sheet, value):
    from openpyxl.cell import WriteOnlyCell
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = _NUMBER
    return cell


def compact_of(line: Mapping[str, Any]) -> dict:
    """What a results row shows, from a batch output line (compact or --full)."""
    if "record" not in line:
        return dict(line)
    record = line["record"]
    return {"row": line.get("row"), "name": record.get("profile", {}).get("name"),
            "size_class": record.get("size_class"),
            "statuses": {str(f["fiche"]): f["status"] for f in record["fiches"]},
            "plan": [{"kind": s["kind"], "fiche": s.get("fiche"), "part": s.get("part")} for s in record["plan"]],
            "totals": record["totals"], "warnings": sorted({w["code"] for w in record.get("warnings", ())}),
            "entry": (record.get("registry") or {}).get("entry")}


def planned_fiches(plan: Iterable[Mapping[str, Any]], w) -> str:
    """The plan's fiches in order, « 9 (préparation), 10, 9 (Post-ERP) »."""
    return ", ".join(f"{s['fiche']} ({w.part(s['part'])})" if s.get("part") else str(s["fiche"])
                     for s in plan if s.get("kind") == "fiche")


def _fiche_numbers(w) -> list[int]:
    return sorted(w.kb.fiches)


def write_results(lines: Iterable[Mapping[str, Any]], summary: Mapping[str, Any], path: str, w) -> None:
    """`pnman batch -o FILE.xlsx`: a results sheet, one row per input row, and a summary sheet."""
    book = Book(w)
    fiches = _fiche_numbers(w)
    headers = ([(w("sheet.row"), 7), (w("sheet.name"), 32), (w("sheet.size_class"), 10)]
               + [(w("sheet.fiche", fiche=n), 12) for n in fiches]
               + [(w("sheet.plan"), 30), (w("sheet.investment_min"), 16), (w("sheet.investment_max"), 16),
                  (w("sheet.days_min"), 12), (w("sheet.days_max"), 12), (w("sheet.warnings"), 24),
                  (w("sheet.entry"), 18), (w("sheet.error"), 50)])
    first_total = 4 + len(fiches)
    results = book.sheet(w("sheet.results"), headers, numbers=range(first_total, first_total + 4))
    for line in lines:
        row = compact_of(line)
        if "error" in row:
            results.append([row["row"]] + [None] * (len(headers) - 2) + [row["error"]])
            continue
        statuses = row["statuses"]
        totals = row["totals"]
        results.append([row["row"], row.get("name"), row.get("size_class")]
                       + [w.status(statuses[str(n)]) if str(n) in statuses else None for n in fiches]
                       + [planned_fiches(row["plan"], w),
                          totals["investment_da_ht"]["min"], totals["investment_da_ht"]["max"],
                          totals["coaching_days"]["min"], totals["coaching_days"]["max"],
                          ", ".join(row.get("warnings") or ()), row.get("entry"), None])
    _summary_sheet(book, summary, w)
    book.save(path)


def _summary_sheet(book: Book, summary: Mapping[str, Any], w) -> None:
    sheet = book.sheet(w("sheet.summary"), [(w("sheet.what"), 44), (w("sheet.value"), 18)]
                       + [("", 14)] * (len(STATUSES) - 1), numbers=range(1, 5))
    inv, days = summary["investment_da_ht"], summary["coaching_days"]
    for label, value in (("sheet.rows", summary["rows"]), ("sheet.assessed", summary["assessed"]),
                         ("sheet.errors", summary["errors"]), ("sheet.edition", summary.get("edition")),
                         ("sheet.investment_min", inv["min"]), ("sheet.investment_max", inv["max"]),
                         ("sheet.days_min", days["min"]), ("sheet.days_max", days["max"])):
        sheet.append([w(label), value])
    top = summary.get("most_common_blocking_condition")
    if top:
        sheet.append([w("sheet.blocking"), top["condition"], top["companies"]])
    sheet.append([])
    sheet.heading([w("sheet.fiche_column")] + [w.status(s) for s in STATUSES])
    for fiche, counts in summary["statuses_per_fiche"].items():
        sheet.append([w("sheet.fiche", fiche=int(fiche))] + [counts.get(s, 0) for s in STATUSES])


def write_impact(lines: Iterable[Mapping[str, Any]], summary: Mapping[str, Any], path: str, w) -> None:
    """`pnman impact -o FILE.xlsx`: one row per company (changed or not), and the summary."""
    book = Book(w)
    headers = [(w("sheet.row"), 7), (w("sheet.name"), 32), (w("sheet.size_class"), 10), (w("sheet.changed"), 10),
               (w("sheet.status_changes"), 30), (w("sheet.steps_added"), 20), (w("sheet.steps_removed"), 20),
               (w("sheet.budget_changes"), 20),
               (w("sheet.investment_before"), 18), (w("sheet.investment_after"), 18),
               (w("sheet.days_before"), 14), (w("sheet.days_after"), 14), (w("sheet.error"), 50)]
    sheet = book.sheet(w("sheet.impact"), headers, numbers=range(8, 12))
    yes, no = w("answers.yes"), w("answers.no")
    for line in lines:
        if "error" in line:
            sheet.append([line["row"]] + [None] * (len(headers) - 2) + [line["error"]])
            continue
        plan = line.get("plan") or {}
        before, after = line["totals"]["from"], line["totals"]["to"]
        sheet.append([line["row"], line.get("name"), line.get("size_class"), yes if line["changed"] else no,
                      ", ".join(f"{s['fiche']}: {w.status(s['from'])} → {w.status(s['to'])}"
                                for s in line.get("statuses") or ()),
                      ", ".join(plan.get("added") or ()), ", ".join(plan.get("removed") or ()),
                      ", ".join(str(b["fiche"]) for b in plan.get("budgets") or ()),
                      before["investment_da_ht"]["max"], after["investment_da_ht"]["max"],
                      before["coaching_days"]["max"], after["coaching_days"]["max"], None])
    totals = book.sheet(w("sheet.summary"), [(w("sheet.what"), 44), (w("sheet.value"), 18)], numbers=[1])
    for key in ("assessed", "affected", "unchanged", "errors"):
        if key in summary:
            totals.append([w(f"sheet.{key}"), summary[key]])
    totals.append([w("sheet.edition_from"), summary.get("from")])
    totals.append([w("sheet.edition_to"), summary.get("to")])
    book.save(path)


def jsonl_lines(path) -> Iterator[dict]:
    """The lines of a batch output file, one at a time."""
    import orjson
    with open(path, "rb") as handle:
        for raw in handle:
            if raw.strip():
                yield orjson.loads(raw)
