"""Excel workbooks in and out (contract §15): a portfolio read from .xlsx gives what its CSV
gives; results written as .xlsx read back as the JSON lines say; hostile workbooks (not a
zip, a zip bomb, 1 M rows, merged cells, formulas, wrong types, a lying size) give one
clear exit-2 line or the row's error naming the cell."""
from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from bench.portfolio import profiles as portfolio
from bench.portfolio import write_csv
from conftest import one_clean_line, run
from pnman.interview.cli.batch import workbook as workbook_reading
from pnman.interview.render.l10n import Words
from pnman.knowledge import default

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = list(default().facts)


def write_xlsx(path: Path, rows: list[list], header: list[str] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header or COLUMNS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def as_cells(profile: dict) -> list:
    """A profile as Excel cells: booleans and numbers as themselves, lists as « a;b »."""
    return [";".join(map(str, v)) if isinstance(v, list) else v for v in (profile.get(k) for k in COLUMNS)]


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def batch(capsys, *argv):
    return run(capsys, "batch", *argv)


# -- reading ----------------------------------------------------------------------------------------

def test_a_workbook_portfolio_gives_what_its_csv_gives(capsys, tmp_path):
    rows = list(portfolio(60, seed=11))
    write_csv(tmp_path / "p.csv", rows)
    write_xlsx(tmp_path / "p.xlsx", [as_cells(r) for r in rows])
    assert batch(capsys, str(tmp_path / "p.csv"), "-o", str(tmp_path / "c.jsonl"))[0] == 0
    code, _, err = batch(capsys, str(tmp_path / "p.xlsx"), "-o", str(tmp_path / "x.jsonl"))
    assert code == 0, err
    csv_lines, xlsx_lines = lines_of(tmp_path / "c.jsonl"), lines_of(tmp_path / "x.jsonl")
    assert len(xlsx_lines) == 60 and xlsx_lines == csv_lines       # same row numbers, profiles, results
    assert json.loads((tmp_path / "x.summary.json").read_text()) == json.loads((tmp_path / "c.summary.json").read_text())


def test_excel_values_and_text_cells_are_read_as_values(capsys, tmp_path):
    header = ["name", "employees", "pnman_member", "uses_it", "goals", "fiches", "workstations_needed"]
    source = write_xlsx(tmp_path / "p.xlsx", [
        ["Numbers", 12, True, False, "network;website", 16, 3.0],
        ["Words", "12", "oui", "non", "network, website", "16;18", "3"],
        [1234, 30.0, "TRUE", "false", "network", None, None],
        [None, None, None, None, None, None, None],            # a blank row is no row
    ], header)
    code, _, err = batch(capsys, str(source), "-o", str(tmp_path / "o.jsonl"))
    assert code == 0, err
    lines = lines_of(tmp_path / "o.jsonl")
    assert [line["row"] for line in lines] == [2, 3, 4]
    first, second, third = (line["profile"] for line in lines)
    assert first == {"name": "Numbers", "employees": 12, "pnman_member": True, "uses_it": False,
                     "goals": ["network", "website"], "fiches": [16], "workstations_needed": 3}
    assert second == dict(first, name="Words", fiches=[16, 18])
    assert third == {"name": "1234", "employees": 30, "pnman_member": True, "uses_it": False, "goals": ["network"]}


def test_bad_cells_are_the_rows_errors_naming_the_cell(capsys, tmp_path):
    header = ["name", "employees", "pnman_member", "goals"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    sheet.append(["Good", 12, True, "network"])
    sheet.append(["Formula", "=6*2", True, "network"])
    sheet.append(["Word", "douze", True, "network"])
    sheet.append(["Number for a yes/no", 12, 1, "network"])
    sheet.append(["Date", dt.datetime(2026, 1, 5), True, "network"])
    sheet.append(["Error value", "#DIV/0!", True, "network"])
    sheet.append(["Outside", 12, True, "network", "extra"])
    sheet.append(["Fraction", 12.5, True, "network"])
    sheet.append(["Good too", 40, False, "website"])
    book.save(tmp_path / "p.xlsx")
    code, _, err = batch(capsys, str(tmp_path / "p.xlsx"), "-o", str(tmp_path / "o.jsonl"), "--lang", "en")
    assert code == 0 and "Traceback" not in err
    errors = {line["row"]: line["error"] for line in lines_of(tmp_path / "o.jsonl") if "error" in line}
    assert errors[3].startswith("B3: column 'employees': a formula (=6*2)")
    assert errors[4] == "B4: column 'employees': expected a whole number, found 'douze'"
    assert errors[5] == "C5: column 'pnman_member': expected TRUE/FALSE (or oui/non), found the number 1"
    assert errors[6].startswith("B6: column 'employees': a date or time")
    assert errors[7].startswith("B7: column 'employees': the error value #DIV/0!")
    assert errors[8] == "E8: a value outside the header's 4 columns"
    assert errors[9] == "B9: column 'employees': expected a whole number, found the number 12.5"
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "row 3: B3:" in err                                    # said on standard error too


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("name,employees\nA,12\n"), "is not an .xlsx workbook (not a zip archive)"),
    (lambda p: p.write_bytes(b""), "is not an .xlsx workbook (not a zip archive)"),
    (lambda p: zipfile.ZipFile(p, "w").writestr("hello.txt", "hello"), "is not a readable .xlsx workbook"),
])
def test_a_file_that_is_no_workbook_is_exit_2(capsys, tmp_path, make, message):
    path = tmp_path / "p.xlsx"
    make(path)
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and message in err and str(path) in err
    assert not (tmp_path / "o.jsonl").exists()


def test_an_xls_file_is_told_to_be_saved_as_xlsx(capsys, tmp_path):
    path = tmp_path / "p.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "Classeur Excel (.xlsx)" in err


def test_a_zip_bomb_is_refused_unread(capsys, tmp_path, monkeypatch):
    """A part that would unpack to more than the bound is refused from the archive's directory
    (zipfile never unpacks more than a member declares): 20 MB of zeros in a 20 kB file here,
    against a bound lowered to 10 MB."""
    path = write_xlsx(tmp_path / "p.xlsx", [["A", 12]], ["name", "employees"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/bomb.bin", b"\0" * 20_000_000)
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(workbook_reading, "MAX_PART_BYTES", 10_000_000)
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "would unpack to 20,000,000 bytes" in err and "refused unread" in err


def test_merged_cells_are_refused_naming_the_range(capsys, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "employees", "uses_it"])
    sheet.append(["A", 12, True])
    sheet.append(["B", 12, True])
    sheet.merge_cells("C2:C3")
    book.save(tmp_path / "p.xlsx")
    code, _, err = batch(capsys, str(tmp_path / "p.xlsx"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "merged cells C2:C3" in err


def test_a_bad_header_is_exit_2(capsys, tmp_path):
    write_xlsx(tmp_path / "p.xlsx", [["A", 12]], ["name", "employes"])
    code, _, err = batch(capsys, str(tmp_path / "p.xlsx"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "unknown column 'employes'; did you mean 'employees'?" in err
    write_xlsx(tmp_path / "q.xlsx", [["A", 12]], ["name", 12])
    code, _, err = batch(capsys, str(tmp_path / "q.xlsx"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "header cell B1 holds 12" in err
    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    code, _, err = batch(capsys, str(tmp_path / "empty.xlsx"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "has no header row" in err


# A workbook written by hand, part by part: what no spreadsheet program would write.
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
    'name="P" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def hand_made(path: Path, rows, dimension: str | None = None) -> Path:
    """An .xlsx whose sheet holds `rows` (iterables of XML row strings), streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main">' + (f'<dimension ref="{dimension}"/>'.encode() if dimension else b"")
                        + b"<sheetData>")
            for row in rows:
                sheet.write(row.encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def _row(number: int, name: str, employees: int) -> str:
    return (f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{name}</t></is></c>'
            f'<c r="B{number}"><v>{employees}</v></c></row>')


HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>employees</t></is></c></row>')


def test_a_sheet_that_understates_its_size_is_read_whole(capsys, tmp_path):
    """The sheet says A1:B2 (one company); every row it holds is read."""
    path = hand_made(tmp_path / "p.xlsx", [HEADER_ROW] + [_row(n, f"C{n}", 12) for n in range(2, 7)], "A1:B2")
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 0, err
    assert [line["row"] for line in lines_of(tmp_path / "o.jsonl")] == [2, 3, 4, 5, 6]


def test_a_million_rows_and_one_are_refused_before_any_is_assessed(capsys, tmp_path):
    rows = (HEADER_ROW, *(f'<row r="{n}"><c r="B{n}"><v>12</v></c></row>' for n in range(2, 1_000_003)))
    path = hand_made(tmp_path / "p.xlsx", rows)
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "has more than 1,000,000 rows; split the portfolio" in err
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.partial").exists()


def test_a_row_far_below_the_others_is_read_without_walking_every_gap(capsys, tmp_path):
    path = hand_made(tmp_path / "p.xlsx", [HEADER_ROW, _row(2, "A", 12), _row(900_000, "Far", 30)])
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 0, err
    assert [line["row"] for line in lines_of(tmp_path / "o.jsonl")] == [2, 900_000]


def test_damaged_xml_in_the_sheet_is_exit_2(capsys, tmp_path):
    path = hand_made(tmp_path / "p.xlsx", [HEADER_ROW, _row(2, "A", 12), '<row r="3"><c r="A3"><v>1</v></c>'])
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "workbook" in err


# -- writing ----------------------------------------------------------------------------------------

def sheet_rows(path: Path, index: int = 0) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.worksheets[index].iter_rows(values_only=True))
    finally:
        book.close()


@pytest.mark.parametrize("full", [False, True])
def test_results_as_xlsx_read_back_as_the_json_lines_say(capsys, tmp_path, full):
    kb = default()
    rows = list(portfolio(40, seed=5)) + ["not a profile"]
    source = tmp_path / "p.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    extra = ["--full"] if full else []
    assert batch(capsys, str(source), "-o", str(tmp_path / "r.jsonl"), *extra)[0] == 0
    code, out, err = batch(capsys, str(source), "-o", str(tmp_path / "r.xlsx"), *extra, "--jobs", "2")
    assert code == 0, err
    assert not (tmp_path / "r.xlsx.partial").exists()
    expected = lines_of(tmp_path / "r.jsonl")
    w = Words("fr", kb)
    back_status = {w.status(s): s for s in ("eligible", "conditional", "ineligible", "unknown")}
    header, *written = sheet_rows(tmp_path / "r.xlsx")
    assert header[:4] == ("Ligne", "Entreprise", "Taille", "Fiche 1") and len(written) == len(expected) == 41
    fiches = sorted(kb.fiches)
    for line, row in zip(expected, written):
        assert row[0] == line["row"]
        if "error" in line:
            assert row[-1] == line["error"] and row[1] is None
            continue
        result = line.get("record", line)
        statuses = ({str(f["fiche"]): f["status"] for f in result["fiches"]} if full else result["statuses"])
        name = result["profile"].get("name")
        assert row[1] == name and row[2] == result["size_class"]
        assert {str(n): back_status[row[3 + i]] for i, n in enumerate(fiches)} == statuses
        plan = [s["fiche"] for s in result["plan"] if s["kind"] == "fiche"]
        assert [int(item.split(" ")[0]) for item in (row[3 + len(fiches)] or "").split(", ") if item] == plan
        totals = result["totals"]
        assert row[4 + len(fiches):8 + len(fiches)] == (totals["investment_da_ht"]["min"], totals["investment_da_ht"]["max"],
                                                          totals["coaching_days"]["min"], totals["coaching_days"]["max"])
    summary = json.loads((tmp_path / "r.summary.json").read_text())
    table = sheet_rows(tmp_path / "r.xlsx", 1)
    assert ("Entreprises évaluées", summary["assessed"]) in [row[:2] for row in table]
    assert ("Lignes rejetées", 1) in [row[:2] for row in table]
    per_fiche = {row[0]: row[1:] for row in table if row and isinstance(row[0], str) and row[0].startswith("Fiche ")}
    for fiche, counts in summary["statuses_per_fiche"].items():
        assert per_fiche[f"Fiche {fiche}"] == tuple(counts.get(s, 0) for s in
                                                    ("eligible", "conditional", "unknown", "ineligible"))


@pytest.mark.parametrize("lang, first, rtl", [("fr", "Ligne", False), ("en", "Row", False), ("ar", "السطر", True)])
def test_results_workbook_speaks_the_language_frozen_header_and_widths(capsys, tmp_path, lang, first, rtl):
    source = write_xlsx(tmp_path / "p.xlsx", [as_cells(r) for r in portfolio(3)])
    assert batch(capsys, str(source), "-o", str(tmp_path / "r.xlsx"), "--lang", lang)[0] == 0
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    results, summary = book.worksheets
    assert results["A1"].value == first and results["A1"].font.b
    assert results.freeze_panes == "A2" and summary.freeze_panes == "A2"
    assert bool(results.sheet_view.rightToLeft) is rtl
    assert results.column_dimensions["B"].width == 32
    assert results.cell(2, 2).value == "Entreprise 1"
    assert results.cell(2, 4).value in {Words(lang, default()).status(s)
                                         for s in ("eligible", "conditional", "ineligible", "unknown")}


def test_a_resumed_run_writes_the_whole_workbook(capsys, tmp_path):
    """A killed run's JSON lines (OUTPUT.xlsx.partial) are kept by --resume; the workbook
    holds every row once."""
    rows = list(portfolio(12, seed=3))
    source = write_xlsx(tmp_path / "p.xlsx", [as_cells(r) for r in rows])
    assert batch(capsys, str(source), "-o", str(tmp_path / "all.jsonl"))[0] == 0
    complete = (tmp_path / "all.jsonl").read_text(encoding="utf-8").split("\n")
    (tmp_path / "r.xlsx.partial").write_text("\n".join(complete[:5]) + "\n", encoding="utf-8")
    code, _, err = batch(capsys, str(source), "-o", str(tmp_path / "r.xlsx"), "--resume")
    assert code == 0, err
    assert [row[0] for row in sheet_rows(tmp_path / "r.xlsx")[1:]] == list(range(2, 14))


@pytest.fixture()
def editions(monkeypatch):
    monkeypatch.setenv("PNMAN_EDITIONS", str(ROOT / "tests" / "editions"))


def test_impact_reads_and_writes_workbooks(capsys, tmp_path, editions):
    rows = list(portfolio(30, seed=8))
    write_csv(tmp_path / "p.csv", rows)
    write_xlsx(tmp_path / "p.xlsx", [as_cells(r) for r in rows])
    code, _, err = run(capsys, "impact", str(tmp_path / "p.csv"), "--from", "base", "--to", "2027-test",
                       "-o", str(tmp_path / "i.jsonl"))
    assert code == 0, err
    code, _, err = run(capsys, "impact", str(tmp_path / "p.xlsx"), "--from", "base", "--to", "2027-test",
                       "-o", str(tmp_path / "i.xlsx"), "--lang", "en")
    assert code == 0, err
    *companies, last = lines_of(tmp_path / "i.jsonl")
    header, *written = sheet_rows(tmp_path / "i.xlsx")
    assert header[:4] == ("Row", "Company", "Size", "Changed")
    assert [(r[0], r[1], r[3] == "yes") for r in written] == [(c["row"], c["name"], c["changed"]) for c in companies]
    assert [r[8:12] for r in written] == [(c["totals"]["from"]["investment_da_ht"]["max"],
                                           c["totals"]["to"]["investment_da_ht"]["max"],
                                           c["totals"]["from"]["coaching_days"]["max"],
                                           c["totals"]["to"]["coaching_days"]["max"]) for c in companies]
    assert any(c["changed"] for c in companies)
    summary = dict((r[0], r[1]) for r in sheet_rows(tmp_path / "i.xlsx", 1)[1:])
    assert summary["Companies affected"] == last["summary"]["affected"]
    assert summary["Edition after"] == "2027-test"


@pytest.mark.parametrize("lang, figure", [("fr", "20 000 000"), ("en", "20,000,000"), ("ar", "20.000.000")])
def test_a_refusal_groups_its_figures_as_the_language_writes_them(capsys, tmp_path, monkeypatch, lang, figure):
    path = write_xlsx(tmp_path / "p.xlsx", [["A", 12]], ["name", "employees"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/bomb.bin", b"\0" * 20_000_000)
    monkeypatch.setattr(workbook_reading, "MAX_PART_BYTES", 10_000_000)
    monkeypatch.setenv("PNMAN_LANG", lang)
    code, _, err = batch(capsys, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and figure in err, err
