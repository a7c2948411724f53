"""Reading a portfolio (CSV, JSONL or an Excel workbook), for `pnman batch` and `pnman impact`: the file's
checks before any row is assessed (size, lines, UTF-8, header), the CSV dialect, the cells
read into profile values, and each row's number (the line where its record starts). A bad
row is that row's error message, never an exception: the others go on.

CSV: columns separated by ',' (lists in a cell by ';') or by ';' as French Excel writes
them (lists by ','), the separator read from the header line; UTF-8 with or without a
BOM, LF or CRLF. JSONL: one JSON object per line, lines split on "\\n" only. An .xlsx
workbook: its first sheet, read by `workbook.py`.
"""
from __future__ import annotations

import codecs
import csv
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.profile import os_reason
from pnman.knowledge.yamlio import RefusedText, SyntaxProblem, lone_surrogate, parse_text

from .cells import BOOLEANS, MAX_ROWS, CellError, check_header, text_value

MAX_BYTES = 500_000_000
MAX_LINE = 100_000            # bytes of one JSONL line (longer: that row's error)
MAX_CSV_LINE = 1_000_000      # bytes of one physical CSV line (longer: the file is refused before any row)
BOM = b"\xef\xbb\xbf"
LIST_SEPARATOR = {",": ";", ";": ","}   # column separator -> separator of the items of a list cell


def json_safe(text: str) -> str:
    """Text that can always be written as UTF-8 JSON (a lone surrogate is shown escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _scan(path: str) -> int:
    """One cheap pass over the bytes: refuse binary and non-UTF-8 input (and, for a CSV, a line
    too long to be a row) before any row is assessed, and count the lines (the progress bar's
    estimate)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = offset = run = 0
    csv_file = path.lower().endswith(".csv")
    content = False
    last = b""
    hint = Phrase("excel_hint") if csv_file else ""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                if offset == 0 and chunk.startswith(BOM):
                    chunk, offset = chunk[3:], 3
                if b"\x00" in chunk:
                    raise InputError(Phrase("binary", expected=Phrase("expect.portfolio")), file=path)
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise InputError(Phrase("not_utf8", position=offset + max(exc.start, 0), hint=hint),
                                     file=path) from None
                if csv_file:    # only a line across chunks can be too long: the length of the open one
                    ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
                    if ends:
                        if run + min(ends) > MAX_CSV_LINE:
                            break
                        run = len(chunk) - 1 - max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
                    else:
                        run += len(chunk)
                    if run > MAX_CSV_LINE:
                        lines += chunk.count(b"\n")
                        break
                lines += chunk.count(b"\n")
                content = content or bool(chunk.strip())
                offset += len(chunk)
                last = chunk[-1:] or last
            else:
                run = 0
            if run:
                raise InputError(Phrase("batch.line_too_long", line=lines + 1, limit=MAX_CSV_LINE // 1_000_000),
                                 file=path)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InputError(Phrase("not_utf8_end", hint=hint), file=path) from None
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=path) from None
    if not content:
        raise InputError(Phrase("batch.empty"), file=path)
    return lines + (1 if last != b"\n" else 0)


def _separator(line: str, kb, path: str) -> str:
    """The column separator, from the header line: ',' or ';' (French Excel), outside quotes."""
    counts = {",": 0, ";": 0}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    if counts[","] and counts[";"]:
        raise InputError(Phrase("batch.both_separators", semicolons=counts[";"], commas=counts[","]), file=path)
    if counts[";"]:
        return ";"
    if counts[","]:
        return ","
    name = line.strip().strip('"').strip()
    found = next((label for ch, label in (("\t", "tabs"), ("|", "bars"), (" ", "spaces")) if ch in name), None)
    if found and name not in kb.facts:
        raise InputError(Phrase("batch.no_separator", found=Phrase(f"batch.found.{found}")), file=path)
    return ","      # a single column


@dataclass
class Source:
    """A portfolio file, checked and ready to be streamed row by row."""
    path: str
    kind: str                 # "csv", "jsonl" or "xlsx"
    lines: int                # physical lines: the progress bar's estimate
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    sheet: Any = None         # a workbook's rows (workbook.WorkbookRows)

    @property
    def estimate(self) -> int:
        return max(0, self.lines - (0 if self.kind == "jsonl" else 1))

    @property
    def list_separator(self) -> str:
        return LIST_SEPARATOR[self.delimiter]

    def rows(self, kb, raw: bool = False) -> Iterator[tuple[int, Any]]:
        """(row number, profile dict or an error message) for every data row; the row number
        is the line where the row's record starts. With `raw`, a CSV row is its cells (a tuple)
        for `CsvRecord` to read where the row is assessed: a worker, not the main process."""
        if self.kind == "jsonl":
            return self._jsonl()
        if self.kind == "xlsx":
            return self.sheet.rows(kb)
        rows = self._csv()
        if raw:
            return rows
        record = self.record(kb)
        return ((number, record(data) if isinstance(data, tuple) else data) for number, data in rows)

    def record(self, kb) -> CsvRecord | None:
        """What reads this file's CSV cells into a profile (None for JSONL and workbooks: their
        rows are profiles already)."""
        return CsvRecord(self.header, kb, self.list_separator) if self.kind == "csv" else None

    def _jsonl(self) -> Iterator[tuple[int, Any]]:
        with open(self.path, "rb") as handle:
            for number in itertools.count(1):
                line = handle.readline(MAX_LINE + 1)      # split on b"\n" only: U+2028 is not an end of line
                if not line:
                    return
                if len(line) > MAX_LINE and not line.endswith(b"\n"):
                    while (more := handle.readline(1 << 16)) and not more.endswith(b"\n"):
                        pass
                    yield number, Phrase("batch.row_too_long", limit=MAX_LINE // 1000)
                    continue
                if number == 1 and line.startswith(BOM):
                    line = line[3:]
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield number, f"not UTF-8 text (invalid byte at position {exc.start})"
                    continue
                if not text.strip():
                    continue
                yield number, _json_row(text)

    def _csv(self) -> Iterator[tuple[int, Any]]:
        with open(self.path, encoding="utf-8-sig", newline="") as handle:
            base, lines, _ = _csv_start(handle)
            reader = csv.reader(lines, delimiter=self.delimiter)
            try:
                next(reader)        # the header, checked by open_source
                while True:
                    start = base + reader.line_num + 1
                    try:
                        record = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        if base + reader.line_num < start:      # nothing consumed: give up rather than loop
                            return
                        yield start, f"unreadable CSV row: {exc}"
                        continue
                    if not "".join(record).strip():         # a blank record is no row
                        continue
                    yield start, tuple(record)
            except UnicodeDecodeError as exc:
                raise InputError(Phrase("batch.changed"), file=self.path) from None


class CsvRecord:
    """A CSV record (its cells, a tuple) read into a profile dict, or the reason it is not one."""

    def __init__(self, header: list[str], kb, list_sep: str):
        self.columns = [(key, kb.facts[key], kb.facts[key].type == "bool") for key in header]
        self.list_sep = list_sep

    def __call__(self, cells: tuple[str, ...]) -> dict | str | Phrase:
        if len(cells) != len(self.columns):
            return Phrase("batch.columns", expected=len(self.columns), found=len(cells))
        profile = {}
        try:
            for (key, spec, boolean), cell in zip(self.columns, cells):
                text = cell.strip()
                if not text:
                    continue            # unknown
                value = BOOLEANS.get(text.lower()) if boolean else None
                if value is None:       # what text_value says of it (a bad true/false included)
                    value = text_value(key, text, spec, self.list_sep)
                    if value is None:
                        continue
                profile[key] = value
        except CellError as exc:
            return exc.phrase
        return profile



_SEP_HINT = re.compile(r'\s*"?sep=(.)"?\s*')


def _csv_start(handle) -> tuple[int, Iterator[str], str | None]:
    """Lines before the header (blank lines, Excel's `sep=;` hint) are skipped: (how many,
    the lines from the header on, the hinted separator)."""
    lines = iter(handle)
    skipped = 0
    hinted = None
    for line in lines:
        match = _SEP_HINT.fullmatch(line) if hinted is None and not skipped else None
        if match and match.group(1) in LIST_SEPARATOR:
            hinted = match.group(1)
        elif line.strip():
            return skipped, itertools.chain([line], lines), hinted
        skipped += 1
    return skipped, iter(()), hinted


def _json_row(text: str) -> Any:
    """One JSONL line: a value, or the reason it is not one (duplicate keys and lone surrogates
    included)."""
    try:
        data = parse_text(text, kind="json")
    except SyntaxProblem as exc:
        return Phrase("text.json_at", column=exc.column, problem=exc.problem)
    except RefusedText as exc:      # duplicate keys, nesting, lone surrogates
        return Phrase("text.json", problem=exc.phrase)
    except ValueError as exc:       # json's own (an over-long integer)
        return Phrase("text.json", problem=str(exc)[:200])
    bad = lone_surrogate(data)
    if bad is not None:
        char = json_safe(next(c for c in bad if 0xD800 <= ord(c) <= 0xDFFF))
        return Phrase("text.json", problem=Phrase("text.surrogate_in", text=repr(bad), char=char))
    return data


def open_source(path: str, kb) -> Source:
    """Check a portfolio file (exit 2 on a bad file or header) without reading its rows."""
    source = Path(path)
    if not source.is_file():
        raise InputError(Phrase("batch.no_such" if not source.exists() else "batch.not_regular"), file=path)
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".xlsx"):
        hint = Phrase("batch.xlsx_hint") if suffix in (".xls", ".xlsm", ".ods") else ""
        raise InputError(Phrase("batch.extension", suffix=suffix, hint=hint), file=path)
    if source.stat().st_size > MAX_BYTES:
        raise InputError(Phrase("batch.too_large", limit=MAX_BYTES // 1_000_000), file=path)
    if suffix == ".xlsx":
        from .workbook import WorkbookRows
        sheet = WorkbookRows(path, kb)
        return Source(path, "xlsx", sheet.lines, header=sheet.header, sheet=sheet)
    lines = _scan(path)
    if lines > MAX_ROWS + 1:
        raise InputError(Phrase("batch.too_many_lines", limit=MAX_ROWS), file=path)
    if suffix == ".jsonl":
        return Source(path, "jsonl", lines)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        _, header_lines, hinted = _csv_start(handle)
        first = next(header_lines, "")
        delimiter = hinted or _separator(first, kb, path)
        try:
            header = next(csv.reader([first], delimiter=delimiter))
        except (StopIteration, csv.Error) as exc:
            raise InputError(Phrase("batch.no_header"), file=path) from None
    header = [h.strip() for h in header]
    check_header(header, kb, path, Phrase("batch.where_csv", separator=delimiter))
    return Source(path, "csv", lines, delimiter, header)


def read_rows(path: str, kb) -> Iterator[tuple[int, Any]]:
    """(row number, profile dict or an error message) for every data row of the file."""
    return open_source(path, kb).rows(kb)
