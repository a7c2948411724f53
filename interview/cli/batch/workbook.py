"""Reading a portfolio workbook (.xlsx), for `pnman batch` and `pnman impact` (contract §15).

The first worksheet, its first non-empty row the header (profile keys, as in a CSV), one
company a row after it. openpyxl reads it in read-only mode, so memory stays flat whatever
the number of rows. Excel's TRUE/FALSE, numbers and text cells are taken as the values
they hold; text is read as a CSV cell is (« oui », `website;emarketing`).

Before any row, the file itself is checked, without trusting what it declares: a zip
archive (else exit 2), the declared unpacked size of its parts bounded (a zip bomb is
refused unread: zipfile never unpacks more than a member declares), the first sheet
scanned once for its rows (at most MAX_ROWS) and for merged cells (refused, with their
range: a merged cell is one value over several columns or companies). A formula, an
error value (#DIV/0!), a date or a value of the wrong type in a cell is that row's error,
naming the cell (`C17`); the other rows go on.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from typing import Any, Iterator

from pnman.knowledge.errors import InputError, Number, Phrase
from pnman.knowledge.profile import os_reason

from .cells import MAX_ROWS, CellError, check_header, text_value

MAX_SHEET_BYTES = 2_000_000_000       # the first sheet's XML, unpacked (streamed, never held)
MAX_PART_BYTES = 200_000_000          # any other part (shared strings, styles…): openpyxl holds these
MAX_PARTS = 10_000
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?ref=\"([A-Za-z0-9:$]{1,40})\"")
_TAIL = 200                           # bytes kept across chunks: a tag cut in two is still found


def _refuse(path: str, code: str, **figures: Any) -> InputError:
    return InputError(Phrase(f"workbook.{code}", **figures), file=path)


def _check_archive(path: str) -> None:
    """A zip archive whose parts, as declared, stay within bounds (checked before openpyxl opens it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise _refuse(path, "not_zip", hint=Phrase("batch.xlsx_hint")) from None
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=path) from None
    if len(members) > MAX_PARTS:
        raise _refuse(path, "parts", count=len(members))
    for member in members:
        limit = MAX_SHEET_BYTES if member.filename.startswith("xl/worksheets/") else MAX_PART_BYTES
        if member.file_size > limit:
            raise _refuse(path, "bomb", part=repr(member.filename), size=Number(member.file_size), limit=Number(limit))


def _scan_sheet(path: str, archive, member: str) -> int:
    """One pass over the first sheet's XML, unpacked as a stream: its rows (refused beyond
    MAX_ROWS) and its merged cells (refused, naming the first range)."""
    rows = 0
    tail = b""
    try:
        with archive.open(member) as handle:
            while chunk := handle.read(1 << 20):
                data = tail + chunk
                rows += len(_ROW.findall(data, len(tail) - min(len(tail), _TAIL)))
                merged = _MERGE.search(data)
                if merged:
                    raise _refuse(path, "merged", cells=merged.group(1).decode())
                if rows > MAX_ROWS + 1:
                    raise _refuse(path, "too_many_rows", limit=Number(MAX_ROWS))
                tail = data[-_TAIL:]
                rows -= len(_ROW.findall(tail))          # counted again with the next chunk
        rows += len(_ROW.findall(tail))
    except InputError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:    # a damaged member (bad CRC, cut file)
        raise _refuse(path, "damaged", reason=str(exc)[:200], hint=Phrase("batch.xlsx_hint")) from None
    except Exception as exc:    # noqa: BLE001 - zlib's own errors and the like
        raise _refuse(path, "damaged", reason=type(exc).__name__, hint=Phrase("batch.xlsx_hint")) from None
    return rows


def open_workbook(path: str) -> tuple[Any, Any, int]:
    """(the workbook, its first worksheet, its rows as the XML counts them), checked."""
    _check_archive(path)
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:    # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise _refuse(path, "unreadable", reason=reason, hint=Phrase("batch.xlsx_hint")) from None
    try:
        if not book.worksheets:
            raise _refuse(path, "no_sheet")
        sheet = book.worksheets[0]
        rows = _scan_sheet(path, book._archive, sheet._worksheet_path)
        sheet.reset_dimensions()        # what the file declares of its size is not trusted: every row is read
    except BaseException:
        book.close()
        raise
    return book, sheet, rows


def cell_value(key: str, spec, value: Any) -> Any:
    """An Excel cell's value as a profile value of the fact's type (None: unknown), or
    CellError saying what was expected."""
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        raise CellError(Phrase("workbook.date", column=key, expected=_expected(spec)))
    kind = spec.type
    if isinstance(value, bool):
        if kind == "bool":
            return value
        raise CellError(Phrase("workbook.wrong", column=key, expected=_expected(spec), found="TRUE" if value else "FALSE"))
    if isinstance(value, (int, float)):
        whole = isinstance(value, int) or value.is_integer()
        number = int(value) if whole else value
        if kind == "int" and whole:
            return number
        if kind == "intlist" and whole and number >= 0:
            return [number]
        if kind == "string":
            return str(number)
        raise CellError(Phrase("workbook.wrong_number", column=key, expected=_expected(spec), found=number))
    if not isinstance(value, str):
        raise CellError(Phrase("workbook.wrong", column=key, expected=_expected(spec), found=repr(value)))
    separator = ";" if ";" in value or kind == "string" else ","
    return text_value(key, value, spec, separator)


def _expected(spec) -> Phrase:
    return Phrase(f"workbook.kinds.{spec.type if spec.type in ('bool', 'int', 'intlist', 'list') else 'string'}")


class WorkbookRows:
    """The header and the data rows of a portfolio workbook's first sheet."""

    def __init__(self, path: str, kb):
        self.path = path
        book, sheet, self.lines = open_workbook(path)
        try:
            self.header, self.header_row = self._header(sheet, kb)
        finally:
            book.close()

    def _header(self, sheet, kb) -> tuple[list[str], int]:
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            if number > MAX_ROWS + 1:
                break
            values = [getattr(c, "value", None) for c in cells]
            while values and (values[-1] is None or (isinstance(values[-1], str) and not values[-1].strip())):
                values.pop()
            if not values:
                continue
            for cell, value in zip(cells, values):
                if not isinstance(value, str):
                    if value is None:
                        raise _refuse(self.path, "header_empty", cell=cell.coordinate)
                    if getattr(cell, "data_type", None) == "f":
                        raise _refuse(self.path, "header_formula", cell=cell.coordinate)
                    raise _refuse(self.path, "header_value", cell=cell.coordinate, found=repr(value))
                if getattr(cell, "data_type", None) == "f":
                    raise _refuse(self.path, "header_formula", cell=cell.coordinate)
            header = [v.strip() for v in values]
            check_header(header, kb, self.path, Phrase("batch.where_sheet"))
            return header, number
        raise _refuse(self.path, "no_header")

    def rows(self, kb) -> Iterator[tuple[int, Any]]:
        """(Excel row number, profile dict or the row's error naming the cell) for every data row."""
        columns = [(key, kb.facts[key]) for key in self.header]
        width = len(columns)
        book, sheet, _ = open_workbook(self.path)
        try:
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                if number > MAX_ROWS + 1:
                    raise _refuse(self.path, "too_many_rows", limit=Number(MAX_ROWS))
                if number <= self.header_row:
                    continue
                row = _row(cells, columns, width)
                if row is not None:
                    yield number, row
        except InputError:
            raise
        except Exception as exc:    # noqa: BLE001 - a damaged sheet found while reading it
            raise _refuse(self.path, "damaged", reason=f"{type(exc).__name__}: {str(exc)[:200]}", hint="") from None
        finally:
            book.close()


def _row(cells, columns, width) -> dict | Phrase | None:
    """One sheet row as a profile, its error naming the cell, or None for a blank row."""
    profile = {}
    blank = True
    for index, cell in enumerate(cells):
        value = getattr(cell, "value", None)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        blank = False
        kind = getattr(cell, "data_type", None)
        if index >= width:
            return Phrase("workbook.outside", cell=cell.coordinate, width=width)
        key, spec = columns[index]
        if kind == "f":
            return Phrase("workbook.formula", cell=cell.coordinate, column=key, formula=str(value)[:60])
        if kind == "e":
            return Phrase("workbook.error_value", cell=cell.coordinate, column=key, value=value,
                          expected=_expected(spec))
        try:
            converted = cell_value(key, spec, value)
        except CellError as exc:
            return Phrase("workbook.cell", cell=cell.coordinate, detail=exc.phrase)
        if converted is not None:
            profile[key] = converted
    return None if blank else profile
