"""`pnman batch`: assess a portfolio of companies (CSV or JSONL) with worker processes.

durable-rules holds the GIL, so the work is spread over processes, each with its own
engine: the main process reads the input in chunks of rows, hands each chunk to a worker
(which reads the CSV cells, assesses and writes the output lines) and writes the lines it
gets back. The input is streamed: at most a small window of chunks is in flight, so
memory stays flat whatever the portfolio's size. Output keeps the input order and is
written as results come, to `OUTPUT.partial`, renamed `OUTPUT` when the run ends;
`--resume` continues a killed run from the rows already there. A `OUTPUT.lock`
(fcntl.flock) keeps two runs from writing one output.

A bad row, or any failure while assessing it, becomes that row's error line (its row
number: the line where its record starts) and the others go on; so does a row whose
assessment kills its worker process (a crash in durable-rules' C code, the OOM killer):
the worker is replaced, and the rows it held are assessed again one by one to find it.
The summary counts statuses per fiche, adds up the investment ceilings and names the
most common blocking condition.

CSV: columns separated by ',' (lists in a cell by ';') or by ';' as French Excel writes
them (lists by ','), the separator read from the header line; UTF-8 with or without a
BOM, LF or CRLF. JSONL: one JSON object per line, lines split on "\\n" only.
"""
from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import errno
import fcntl
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import re
import signal
import stat
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from knowledge.errors import InputError, PnmanError
from knowledge.profile import NO_WORDS, YES_WORDS
from knowledge.yamlio import lone_surrogate, parse_text

from ..render.l10n import Words
from ..files import fsync_dir
from .output import to_json

BOOLEANS = {**dict.fromkeys(YES_WORDS, True), **dict.fromkeys(NO_WORDS, False)}
MAX_ROWS = 1_000_000          # lines of the input
MAX_BYTES = 500_000_000
MAX_LINE = 100_000            # bytes of one JSONL line (longer: that row's error)
MAX_CSV_LINE = 1_000_000      # bytes of one physical CSV line (longer: the file is refused before any row)
MAX_JOBS = 64
JOBS_PER_CPU = 4
FLUSH_SECONDS = 0.5           # a killed run loses at most this much of its results, or FLUSH_ROWS of them
FLUSH_ROWS = 100
REFRESH_SECONDS = 0.1         # the progress bar's
BOM = b"\xef\xbb\xbf"
LIST_SEPARATOR = {",": ";", ";": ","}   # column separator -> separator of the items of a list cell


def _clean(text: str) -> str:
    """Text that can always be written as UTF-8 JSON (a lone surrogate is shown escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- reading the portfolio -------------------------------------------------------------------------

def _cell(key: str, text: str, spec, list_sep: str = ";") -> Any:
    """A CSV cell as a profile value of the fact's type; empty means unknown."""
    text = text.strip()
    if text == "":
        return None
    kind = spec.type
    if kind == "bool":
        value = BOOLEANS.get(text.lower())
        if value is not None:
            return value
        raise ValueError(f"column '{key}': expected true/false (oui/non), found {text!r}")
    if kind == "int":
        if not text.lstrip("-").isdigit():
            raise ValueError(f"column '{key}': expected a whole number, found {text!r}")
        return int(text)
    if kind in ("list", "intlist"):
        items = [i.strip() for i in text.split(list_sep) if i.strip()]
        if kind == "intlist":
            if not all(i.isdigit() for i in items):
                raise ValueError(f"column '{key}': expected fiche numbers separated by '{list_sep}', found {text!r}")
            return [int(i) for i in items]
        return items
    return text


def _scan(path: str) -> int:
    """One cheap pass over the bytes: refuse binary and non-UTF-8 input (and, for a CSV, a line
    too long to be a row) before any row is assessed, and count the lines (the progress bar's
    estimate)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = offset = run = 0
    csv_file = path.lower().endswith(".csv")
    content = False
    last = b""
    hint = "; in Excel, save the sheet as « CSV UTF-8 »" if csv_file else ""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                if offset == 0 and chunk.startswith(BOM):
                    chunk, offset = chunk[3:], 3
                if b"\x00" in chunk:
                    raise InputError("is a binary file, expected UTF-8 text (a CSV or JSONL portfolio)", file=path)
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise InputError(f"is not UTF-8 text (invalid byte at position {offset + max(exc.start, 0)}){hint}",
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
                raise InputError(f"line {lines + 1} is longer than {MAX_CSV_LINE // 1_000_000} MB; expected one "
                                 "row of profile values a line", file=path)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InputError(f"is not UTF-8 text (it ends inside a character){hint}", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=path) from None
    if not content:
        raise InputError("is empty, expected a CSV or JSONL portfolio", file=path)
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
        raise InputError(f"the header has both ';' ({counts[';']}) and ',' ({counts[',']}) between column names; "
                         "expected one separator: ',' or ';' (French Excel)", file=path)
    if counts[";"]:
        return ";"
    if counts[","]:
        return ","
    name = line.strip().strip('"').strip()
    found = next((label for ch, label in (("\t", "tabs"), ("|", "'|'"), (" ", "spaces")) if ch in name), None)
    if found and name not in kb.facts:
        raise InputError(f"the header has neither ',' nor ';' between column names (found {found}); "
                         "expected profile keys separated by ',' or ';'", file=path)
    return ","      # a single column


@dataclass
class Source:
    """A portfolio file, checked and ready to be streamed row by row."""
    path: str
    kind: str                 # "csv" or "jsonl"
    lines: int                # physical lines: the progress bar's estimate
    delimiter: str = ","
    header: list[str] = field(default_factory=list)

    @property
    def estimate(self) -> int:
        return max(0, self.lines - (1 if self.kind == "csv" else 0))

    @property
    def list_separator(self) -> str:
        return LIST_SEPARATOR[self.delimiter]

    def rows(self, kb, raw: bool = False) -> Iterator[tuple[int, Any]]:
        """(row number, profile dict or an error message) for every data row; the row number
        is the line where the row's record starts. With `raw`, a CSV row is its cells (a tuple)
        for `CsvRecord` to read where the row is assessed: a worker, not the main process."""
        if self.kind == "jsonl":
            return self._jsonl()
        rows = self._csv()
        if raw:
            return rows
        record = self.record(kb)
        return ((number, record(data) if isinstance(data, tuple) else data) for number, data in rows)

    def record(self, kb) -> CsvRecord | None:
        """What reads this file's CSV cells into a profile (None for JSONL)."""
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
                    yield number, f"line longer than {MAX_LINE // 1000} kB"
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
                raise InputError(f"is not UTF-8 text any more (it changed during the run: {exc.reason})",
                                 file=self.path) from None


class CsvRecord:
    """A CSV record (its cells, a tuple) read into a profile dict, or the reason it is not one."""

    def __init__(self, header: list[str], kb, list_sep: str):
        self.columns = [(key, kb.facts[key], kb.facts[key].type == "bool") for key in header]
        self.list_sep = list_sep

    def __call__(self, cells: tuple[str, ...]) -> dict | str:
        if len(cells) != len(self.columns):
            return f"expected {len(self.columns)} columns, found {len(cells)}"
        profile = {}
        try:
            for (key, spec, boolean), cell in zip(self.columns, cells):
                text = cell.strip()
                if not text:
                    continue            # unknown
                value = BOOLEANS.get(text.lower()) if boolean else None
                if value is None:       # what _cell says of it (a bad true/false included)
                    value = _cell(key, text, spec, self.list_sep)
                    if value is None:
                        continue
                profile[key] = value
        except ValueError as exc:
            return str(exc)
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
    except ValueError as exc:       # DuplicateKeyError, JSONDecodeError, over-long integers, nesting
        reason = str(exc).replace("invalid JSON at line 1, column", "invalid JSON at column")
        return reason if reason.startswith("invalid JSON") else f"invalid JSON: {reason}"
    bad = lone_surrogate(data)
    if bad is not None:
        return f"invalid JSON: {bad!r} holds a lone surrogate ({_clean(next(c for c in bad if 0xD800 <= ord(c) <= 0xDFFF))}), which is not text"
    return data


def open_source(path: str, kb) -> Source:
    """Check a portfolio file (exit 2 on a bad file or header) without reading its rows."""
    source = Path(path)
    if not source.is_file():
        raise InputError("no such batch file" if not source.exists() else "is not a regular file", file=path)
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise InputError(f"has extension '{suffix}', expected .csv or .jsonl", file=path)
    if source.stat().st_size > MAX_BYTES:
        raise InputError(f"is larger than {MAX_BYTES // 1_000_000} MB; split the portfolio", file=path)
    lines = _scan(path)
    if lines > MAX_ROWS + 1:
        raise InputError(f"has more than {MAX_ROWS} lines; split the portfolio", file=path)
    if suffix == ".jsonl":
        return Source(path, "jsonl", lines)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        _, header_lines, hinted = _csv_start(handle)
        first = next(header_lines, "")
        delimiter = hinted or _separator(first, kb, path)
        try:
            header = next(csv.reader([first], delimiter=delimiter))
        except (StopIteration, csv.Error) as exc:
            raise InputError(f"has no readable CSV header ({exc})", file=path) from None
    header = [h.strip() for h in header]
    if "" in header:
        raise InputError(f"column {header.index('') + 1} of the header has no name; expected a profile key "
                         f"(columns separated by '{delimiter}')", file=path)
    unknown = [h for h in header if h not in kb.facts]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(kb.facts), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"unknown column '{unknown[0]}'{hint}", file=path, key=unknown[0])
    if len(set(header)) != len(header):
        raise InputError("a column appears twice in the header", file=path)
    return Source(path, "csv", lines, delimiter, header)


def read_rows(path: str, kb) -> Iterator[tuple[int, Any]]:
    """(row number, profile dict or an error message) for every data row of the file."""
    return open_source(path, kb).rows(kb)


# -- assessing rows (in a worker) -------------------------------------------------------------------

_KB = None
_FULL = False
_WORDS = None
_RECORD: CsvRecord | None = None
_STORE = None          # --record: the registry (engine.registry.RegistryStore); each process opens its own


def _init_worker(full: bool = False, lang: str = "fr", pooled: bool = False,
                 record: CsvRecord | None = None, kb=None, store=None) -> None:
    global _KB, _FULL, _WORDS, _RECORD, _STORE
    from knowledge import default
    if pooled:      # Ctrl-C is the main process's to handle: it stops the workers and keeps the partial output
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _KB = kb or default()      # the Knowledge of the run's guide edition (--edition)
    _FULL = full
    _WORDS = Words(lang, _KB)
    _RECORD = record
    _STORE = store


def _assess(number: int, data: Any) -> dict:
    from engine.facade import assess
    from knowledge.profile import check_profile

    from ..render.l10n import localise
    if isinstance(data, tuple):         # a CSV record's cells
        data = _RECORD(data)
    if isinstance(data, str):
        return {"row": number, "error": data}
    try:
        assessment = assess(check_profile(data, _KB, file=f"row {number}"), _KB)
        if _STORE is not None:      # --record: appended (a failure is this row's error); the line names its entry
            stored = _STORE.save(localise(assessment.record(), _WORDS))
            if _FULL:
                return {"row": number, "record": stored.record}
            return {"row": number, **compact(assessment.evaluation, assessment.plan, _KB), "entry": stored.id}
        if _FULL:
            return {"row": number, "record": localise(assessment.record(timestamp="batch"), _WORDS)}
        return {"row": number, **compact(assessment.evaluation, assessment.plan, _KB)}
    except PnmanError as exc:
        return {"row": number, "error": exc.detail if not exc.key else f"key '{exc.key}': {exc.detail}"}
    except RecursionError:
        return {"row": number, "error": "nested too deeply"}


def assess_row(item: tuple[int, Any]) -> tuple[int, bytes, dict | None, str | None]:
    """Assess one row: (row, its output line as bytes, its summary fields or None, its error or
    None). Whatever goes wrong becomes the row's error: a worker never raises."""
    number = item[0]
    try:
        line = _assess(number, item[1])
        if "error" in line:
            line["error"] = _clean(str(line["error"]))
            return number, orjson.dumps(line) + b"\n", None, line["error"]
        fields = summary_fields(line)
        return number, orjson.dumps(line) + b"\n", fields, None
    except (Exception, SystemExit) as exc:   # noqa: BLE001 - one row's failure never stops the run
        kind = "cannot be written as JSON" if isinstance(exc, TypeError) and "UTF-8" in str(exc) else \
            "could not be assessed"
        error = _clean(f"{kind} ({type(exc).__name__}: {str(exc)[:200]})")
        return number, orjson.dumps({"row": number, "error": error}) + b"\n", None, error


# The results of consecutive rows: their output lines, (row, error) of the rejected ones, their summary.
Part = tuple[bytes, list[tuple[int, str]], "Summary"]


def assess_rows(rows: list[tuple[int, Any]]) -> Part:
    """Assess consecutive rows: their output lines as one bytes, the errors of the rejected ones
    and their summary (a worker sends this little back, not one message per row)."""
    lines = []
    errors = []
    summary = Summary()
    for item in rows:
        number, line, fields, error = assess_row(item)
        lines.append(line)
        if error is not None:
            errors.append((number, error))
        summary.add(fields)
    return b"".join(lines), errors, summary


def _error_part(number: int, error: str) -> Part:
    summary = Summary()
    summary.add(None)
    return orjson.dumps({"row": number, "error": error}) + b"\n", [(number, error)], summary


def compact(evaluation, plan, kb) -> dict:
    """What a portfolio needs: statuses, blocking conditions, plan, totals, warnings, and the
    profile as read, so that any row can be assessed in full (`pnman assess`) and audited."""
    return {
        "name": evaluation.profile.get("name"),
        "size_class": evaluation.size_class,
        "statuses": {str(n): s.status for n, s in evaluation.statuses.items()},
        "blocking": sorted({c.condition.id.split(".", 1)[1] for s in evaluation.statuses.values()
                            if s.status == "ineligible" for c in s.failing("eligibility")}),
        "plan": [{"step": s["step"], "kind": s["kind"], **({"fiche": s["fiche"], "part": s.get("part")}
                                                           if s["kind"] == "fiche" else {"id": s["id"]})}
                 for s in plan.steps],
        "totals": plan.totals,
        "warnings": sorted({w.code for w in plan.warnings}),
        "knowledge_version": kb.version,
        "edition": kb.edition,
        "profile": dict(evaluation.profile),
    }


def summary_fields(line: dict) -> dict:
    """What the portfolio summary needs from one assessed output line, compact or full: the same
    figures whether the line was just assessed or read back from a partial output (--resume)."""
    if "record" in line:
        record = line["record"]
        return {"statuses": {str(f["fiche"]): f["status"] for f in record["fiches"]},
                "totals": record["totals"],
                "blocking": sorted({c["id"].split(".", 1)[1] for f in record["fiches"] for c in f["conditions"]
                                    if c["outcome"] == "failed" and c["kind"] == "eligibility"})}
    return {"statuses": line["statuses"], "totals": line["totals"], "blocking": line["blocking"]}


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


# -- the output: target, lock, partial file ---------------------------------------------------------

STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


@dataclass
class Target:
    """Where the results go: standard output, or a file written through FILE.partial."""
    name: str
    path: Path | None = None      # None: standard output
    mode: int | None = None       # the permissions of an existing output, kept

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    @property
    def lock(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def summary(self) -> Path:
        return self.path.with_name(self.path.stem + ".summary.json")


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def resolve_target(output: str, input_path: str) -> Target:
    if output in STDOUT_NAMES:
        return Target(output)
    path = Path(output)
    try:
        found = os.stat(path)       # follows a symbolic link: what would be written
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise InputError(f"cannot be used as the output ({exc.strerror})", file=output) from None
    if found is not None and not stat.S_ISREG(found.st_mode):
        with contextlib.suppress(OSError):
            if _same(found, os.fstat(1)):
                return Target(output)       # a link to this process's standard output
        kind = "a folder" if stat.S_ISDIR(found.st_mode) else "not a regular file (a device or a pipe)"
        raise InputError(f"is {kind}; expected a file to write, or '-' for standard output", file=output)
    directory = path.parent
    if not directory.is_dir():
        raise InputError("its folder does not exist", file=output)
    with contextlib.suppress(OSError):
        if found is not None and _same(found, os.stat(input_path)):
            raise InputError("is the input file; choose another output", file=output)
    target = Target(output, path, stat.S_IMODE(found.st_mode) if found is not None else None)
    for extra in (target.summary, target.partial):
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(extra, follow_symlinks=False).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise InputError(f"{extra.name} beside it is not a regular file; move it away", file=output)
    return target


class OutputLock:
    """An exclusive flock on OUTPUT.lock for the run. The lock file is never followed through a
    symbolic link, never truncated nor written; an empty one is removed when the run ends."""

    def __init__(self, path: Path, output: str):
        self.path, self.output, self.fd = path, output, None

    def __enter__(self):
        flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        for _ in range(20):
            try:
                fd = os.open(self.path, flags, 0o666)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise InputError(f"its lock file {self.path.name} is a symbolic link; remove it", file=self.output) \
                        from None
                raise InputError(f"its lock file {self.path.name} cannot be opened ({exc.strerror})",
                                 file=self.output) from None
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                os.close(fd)
                raise InputError(f"its lock file {self.path.name} is not a regular file; remove it", file=self.output)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InputError(f"another 'pnman batch' is writing it (its lock {self.path.name} is held); "
                                     "wait for that run to end or choose another output", file=self.output) from None
                raise InputError(f"its lock file {self.path.name} cannot be locked ({exc.strerror})",
                                 file=self.output) from None
            try:
                current = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                current = None
            if current is not None and _same(current, opened):
                self.fd = fd
                return self
            os.close(fd)        # removed or replaced by the run that just ended: lock the new one
        raise InputError(f"its lock file {self.path.name} keeps changing; try again", file=self.output)

    def __exit__(self, *exc) -> None:
        try:
            with contextlib.suppress(OSError):
                current = os.stat(self.path, follow_symlinks=False)
                mine = os.fstat(self.fd)
                if _same(current, mine) and mine.st_size == 0:
                    os.unlink(self.path)
        finally:
            os.close(self.fd)


def _open_new(path: Path, mode: int | None) -> int:
    """Create a file that did not exist (O_EXCL: never through a symbolic link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    if mode is not None:
        os.fchmod(fd, mode)
    return fd


def _write_file(path: Path, data: bytes) -> None:
    """Replace a file atomically through a new temporary file (never following a link); an
    existing file's permissions are kept."""
    try:
        existing = os.stat(path, follow_symlinks=False)
        mode = stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)   # O_EXCL | O_NOFOLLOW
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@dataclass
class Done:
    """What an interrupted run already wrote (--resume)."""
    rows: int = 0
    last_row: int = 0
    last_line: dict | None = None
    summary: Summary = field(default_factory=Summary)


def read_partial(fd: int, target: Target, full: bool, lang: str, edition: str | None = None) -> tuple[Done, int]:
    """The complete lines of a partial output, and the offset after the last of them (a line
    cut by a kill, or any unreadable line, ends what is kept)."""
    done = Done()
    good = 0
    with open(fd, "rb", closefd=False) as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                line = orjson.loads(raw)
                row = line["row"]
                if not isinstance(row, int) or row <= done.last_row:
                    break
                fields = None if "error" in line else summary_fields(line)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                break
            if fields is not None and ("record" in line) != full:
                raise InputError(f"{target.partial.name} was written {'without' if full else 'with'} --full; "
                                 "resume with the options of the interrupted run, or run again without --resume",
                                 file=target.name)
            if full and fields is not None and line["record"].get("lang", lang) != lang:
                raise InputError(f"{target.partial.name} was written with --lang {line['record'].get('lang')}; "
                                 "resume with the options of the interrupted run", file=target.name)
            written = line.get("record", line).get("edition", "base") if fields is not None else edition
            if edition is not None and written != edition:
                raise InputError(f"{target.partial.name} was written with --edition {written}; resume with the "
                                 "options of the interrupted run", file=target.name)
            done.summary.add(fields)
            done.rows += 1
            done.last_row, done.last_line = row, line
            good += len(raw)
    return done, good


def _skip_done(rows: Iterator[tuple[int, Any]], done: Done, kb, source: str, target: Target,
               record: CsvRecord | None = None):
    """The rows after those already written; the last written one must still be the input's
    (a CSV row's cells are read into its profile by `record`)."""
    if not done.last_row:
        yield from rows
        return
    from knowledge.profile import check_profile

    mismatch = InputError(f"row {done.last_row} is not the one in {target.partial.name}: the input changed since "
                          "the interrupted run; run again without --resume", file=source)
    checked = False
    for number, data in rows:
        if number < done.last_row:
            continue
        if number == done.last_row:
            if isinstance(data, tuple):
                data = record(data)
            written = done.last_line
            expected = written.get("record", written).get("profile")
            if "error" not in written:
                try:
                    if isinstance(data, str) or dict(check_profile(data, kb)) != expected:
                        raise mismatch
                except PnmanError:
                    raise mismatch from None
            checked = True
            continue
        if not checked:
            raise mismatch
        yield number, data
    if not checked:
        raise mismatch


# -- the run ----------------------------------------------------------------------------------------

def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _jobs(requested: int) -> tuple[int, str | None]:
    """The number of worker processes, capped at what the machine can use (with a notice)."""
    if requested < 1:
        raise InputError(f"expected a number of worker processes of at least 1, found {requested}", key="--jobs")
    cpus = _cpus()
    cap = min(MAX_JOBS, JOBS_PER_CPU * cpus)
    if requested <= cap:
        return requested, None
    return cap, (f"pnman batch: --jobs {requested} is more than this machine can use; using {cap} "
                 f"(at most {JOBS_PER_CPU} per CPU, {cpus} CPU{'s' if cpus > 1 else ''}, and never more than {MAX_JOBS})")


def _chunks(items: Iterator[tuple[int, Any]], size: int, remaining: int, jobs: int) -> Iterator[list]:
    """Chunks of at most `size` rows, smaller towards the end of the input (about `remaining` rows
    more) so that the workers finish together."""
    while chunk := list(itertools.islice(items, max(1, min(size, remaining // (4 * jobs))))):
        remaining -= len(chunk)
        yield chunk


def _end(code: int | None) -> tuple[str, str]:
    """How a worker ended: ("died", "signal 9, SIGKILL") or ("ended", "exit code 3")."""
    if code is not None and code < 0:
        try:
            name = f", {signal.Signals(-code).name}"
        except ValueError:
            name = ""
        return "died", f"signal {-code}{name}"
    return "ended", f"exit code {code}"


def _death(code: int | None) -> str:
    """A worker's end, as the error of the row it was assessing."""
    verb, how = _end(code)
    return f"the process assessing this row {verb} ({how})"


def _work(conn, close: list, work=None) -> None:
    """A worker process: assess the chunks of rows it is sent, until the main process stops it
    (an empty message) or is gone (end of file)."""
    code = 0
    try:
        for other in close:         # the main process's ends: its death is then this end of file
            with contextlib.suppress(OSError):
                other.close() if hasattr(other, "close") else os.close(other)
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the main process's to handle
        conn.send_bytes(b"")                            # ready
        while data := conn.recv_bytes():
            conn.send_bytes(pickle.dumps((work or assess_rows)(pickle.loads(data)), pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):
        pass
    except BaseException:   # noqa: BLE001 - the main process sees this worker end and names its row
        code = 70
    finally:
        os._exit(code)      # never the main process's exit handlers, nor its buffered output


class _Task:
    """Rows of the input (a chunk) sent to one worker; `index`: the chunk's row this task is
    alone, when the chunk is assessed again row by row after a worker died on it."""
    __slots__ = ("chunk", "index", "payload")

    def __init__(self, chunk: _Chunk, index: int | None, rows: list):
        self.chunk, self.index = chunk, index
        self.payload = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


class _Chunk:
    __slots__ = ("rows", "parts", "missing")

    def __init__(self, rows: list):
        self.rows = rows
        self.parts: list = [None]
        self.missing = 1


class _Worker:
    def __init__(self, context, others: list[_Worker], close: list[int], work=None):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, daemon=True,
                                       args=(child, [w.conn for w in others] + [self.conn] + close)
                                       + ((work,) if work is not None else ()))
        self.process.start()
        child.close()
        self.ready = False
        self.task: _Task | None = None

    def stop(self, kill: bool) -> None:
        with contextlib.suppress(OSError):
            if not kill:
                self.conn.send_bytes(b"")
            self.conn.close()
        if kill:
            self.process.terminate()
        self.process.join(5)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()


class Workers:
    """The worker processes, fed chunks of rows in input order, at most one chunk each at a time.

    A worker that dies (killed, out of memory, a crash in durable-rules' C code) is replaced
    and the run goes on: the rows of its chunk are assessed again one at a time, and a row
    that kills its worker once more becomes that row's error. The results come back in input
    order, and only a few chunks are read ahead of the one written: memory stays flat."""

    DEATHS_WITHOUT_A_ROW = 5    # workers that keep dying with no row to blame: the run stops

    def __init__(self, jobs: int, close: list[int], work=None, error_part=None):
        """`work`: what a worker does with a chunk of rows (default: assess_rows), giving back a
        Part; `error_part(row, error)`: the Part of a row that killed its worker (pnman impact)."""
        self.jobs = jobs
        self.close = close          # file descriptors of the main process a worker has no use for
        self.context = multiprocessing.get_context("fork")
        self.workers: list[_Worker] = []
        self.unexplained = 0
        self.work, self.error_part = work, error_part or _error_part

    def start(self) -> None:
        if len(self.workers) >= self.jobs:
            return
        gc.freeze()     # a worker's collector never scans what it inherits, nor copies those pages
        try:
            while len(self.workers) < self.jobs:
                self.workers.append(_Worker(self.context, self.workers, self.close, self.work))
        finally:
            gc.unfreeze()

    def stop(self, kill: bool = False) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.stop(kill)

    def run(self, chunks: Iterator[list]) -> Iterator[Part]:
        """The parts of the results, in input order."""
        window: collections.deque[_Chunk] = collections.deque()    # read, not yet given back
        queue: collections.deque[_Task] = collections.deque()      # waiting for a worker
        ahead = 2 * self.jobs + 2                                   # chunks in window at most
        exhausted = False
        while True:
            if not exhausted and not queue and len(window) < ahead:    # one chunk read ahead
                rows = next(chunks, None)
                if rows is None:
                    exhausted = True
                else:
                    window.append(_Chunk(rows))
                    queue.append(_Task(window[-1], None, rows))
            if queue:
                self.start()
            for worker in self.workers:
                if queue and worker.ready and worker.task is None:
                    worker.task = task = queue.popleft()
                    payload, task.payload = task.payload, None      # a task is never sent twice
                    try:
                        worker.conn.send_bytes(payload)
                    except OSError:
                        pass        # it died: its end is seen below, and its rows given again
            while window and not window[0].missing:
                yield from window.popleft().parts
            if exhausted and not window:
                return
            if not exhausted and not queue and len(window) < ahead:
                continue
            waits = {}
            for worker in self.workers:
                waits[worker.conn] = waits[worker.process.sentinel] = worker
            for ready in multiprocessing.connection.wait(list(waits)):
                worker = waits[ready]
                if worker not in self.workers:
                    continue
                dead = ready is worker.process.sentinel
                try:
                    while worker.conn.poll():
                        self._received(worker, worker.conn.recv_bytes())
                except (EOFError, OSError):     # its end of the pipe closed: it is ending
                    dead = True
                if dead:
                    self._died(worker, queue)

    def _received(self, worker: _Worker, data: bytes) -> None:
        if not worker.ready:
            worker.ready = True
            return
        task, worker.task = worker.task, None
        self.unexplained = 0
        chunk = task.chunk
        chunk.parts[task.index or 0] = pickle.loads(data)
        chunk.missing -= 1

    def _died(self, worker: _Worker, queue: collections.deque) -> None:
        worker.process.join(5)
        if worker.process.exitcode is None:     # its end of the pipe closed, yet it lives on
            worker.process.kill()
            worker.process.join()
        code = worker.process.exitcode
        with contextlib.suppress(OSError):
            worker.conn.close()
        self.workers.remove(worker)
        task = worker.task
        if task is None:
            self.unexplained += 1
            if self.unexplained > self.DEATHS_WITHOUT_A_ROW:
                verb, how = _end(code)
                raise PnmanError(f"the worker processes keep ending before they assess any row "
                                 f"(the last one {verb}: {how})")
            return
        chunk = task.chunk
        if task.index is None:      # one of its rows, or none, killed it: each is assessed alone
            chunk.parts = [None] * len(chunk.rows)
            chunk.missing = len(chunk.rows)
            queue.extendleft(_Task(chunk, index, [row]) for index, row in reversed(list(enumerate(chunk.rows))))
        else:                       # this row killed a worker twice: it is the row's error
            chunk.parts[task.index] = self.error_part(chunk.rows[task.index][0], _death(code))
            chunk.missing -= 1


class _TextOut:
    """Standard output without a binary buffer (replaced by a test or an embedding program)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()


def _stdout_binary():
    sys.stdout.flush()
    return getattr(sys.stdout, "buffer", None) or _TextOut(sys.stdout)


class _NoProgress(contextlib.nullcontext):
    """The progress bar when standard error is not a terminal (rich is then not even imported)."""

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        pass

    def refresh(self) -> None:
        pass


def _progress(words, label: str = "batch.progress"):
    if not sys.stderr.isatty() and not os.environ.get("PNMAN_PROGRESS"):
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn(words(label)), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False, redirect_stdout=False,
                    auto_refresh=False)     # refreshed by the run: no thread, so a worker is never forked beside one


def run_batch(args) -> int:
    from knowledge.editions import knowledge_for
    kb = knowledge_for(getattr(args, "edition", None))     # --edition; default: the latest in force
    jobs, jobs_notice = _jobs(args.jobs)
    resume = getattr(args, "resume", False)
    target = resolve_target(args.output, args.input)
    if target.path is None and resume:
        raise InputError("--resume needs an output file (its rows are read back from OUTPUT.partial), "
                         "not standard output", file=args.output)
    words = Words(args.lang, kb)
    from .registry_commands import batch_recorded, batch_store
    store = batch_store(args)       # --record: the registry, checked before any row
    lock = OutputLock(target.lock, target.name) if target.path is not None else contextlib.nullcontext()
    with lock:
        source = open_source(args.input, kb)
        done, fd, notices = Done(), None, [jobs_notice]
        try:
            if target.path is not None and resume and os.path.lexists(target.partial):
                try:
                    fd = os.open(target.partial, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError as exc:
                    raise InputError(f"{target.partial.name} cannot be resumed ({exc.strerror})", file=target.name) \
                        from None
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise InputError(f"{target.partial.name} is not a regular file", file=target.name)
                done, good = read_partial(fd, target, args.full, args.lang, kb.edition)
            elif resume:
                notices.append(f"pnman batch: {target.name}: no {target.partial.name} to resume; assessing every row")
            rows = _skip_done(source.rows(kb, raw=True), done, kb, args.input, target, source.record(kb))
            first = next(rows, None)            # the input's check for --resume happens here, before any change
            if fd is not None:
                os.ftruncate(fd, good)          # a line cut by the kill is assessed again
                os.lseek(fd, good, os.SEEK_SET)
            elif target.path is not None:
                if os.path.lexists(target.partial):
                    notices.append(f"pnman batch: {target.name}: discarding {target.partial.name} left by an "
                                   "interrupted run (--resume continues it instead)")
                    os.unlink(target.partial)
                fd = _open_new(target.partial, target.mode)
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        for notice in filter(None, notices):
            print(notice, file=sys.stderr)
        items = itertools.chain([first] if first is not None else [], rows)
        if fd is not None:
            out = os.fdopen(fd, "ab")
        else:
            out = _stdout_binary()
        summary = done.summary
        progress = _progress(words)
        estimate = max(source.estimate, done.rows)
        jobs = max(1, min(jobs, estimate - done.rows))         # no idle workers for a small portfolio
        chunksize = max(1, min(16 if args.full else 64, (estimate - done.rows) // (jobs * 8) or 1))
        _init_worker(args.full, args.lang, record=source.record(kb), kb=kb, store=store)     # the workers are forked with it
        chunks = _chunks(items, chunksize, estimate - done.rows, jobs)
        workers = None
        if jobs == 1:
            results = (assess_rows(rows) for rows in chunks)
        else:
            workers = Workers(jobs, [n for n in (fd, getattr(lock, "fd", None)) if n is not None])
            results = workers.run(chunks)
        written = 0
        finished = False
        try:
            if workers is not None:
                workers.start()
            with progress:
                task = progress.add_task("batch", total=estimate, completed=done.rows)
                flushed = refreshed = time.monotonic()
                unflushed = 0
                for data, errors, part in results:
                    for number, error in errors:
                        print(f"pnman batch: {args.input}: row {number}: {error}", file=sys.stderr)
                    out.write(data)
                    summary.merge(part)
                    written += part.rows
                    unflushed += part.rows
                    progress.update(task, advance=part.rows, total=max(estimate, done.rows + written))
                    now = time.monotonic()
                    if now - refreshed > REFRESH_SECONDS:
                        progress.refresh()
                        refreshed = now
                    if unflushed >= FLUSH_ROWS or now - flushed > FLUSH_SECONDS:
                        out.flush()
                        flushed, unflushed = now, 0
                progress.update(task, total=done.rows + written, completed=done.rows + written)
            out.flush()
            if target.path is not None:
                os.fsync(out.fileno())
                if target.mode is not None:
                    os.fchmod(out.fileno(), target.mode)
            finished = True
        except KeyboardInterrupt:
            if target.path is not None:
                print(f"pnman batch: {target.name}: interrupted after {done.rows + written} rows; "
                      f"{target.partial.name} holds them: run the same command with --resume to continue",
                      file=sys.stderr)
            raise
        except BrokenPipeError:
            raise
        except OSError as exc:      # a full disk, a vanished folder: exit 2, and what was written can be resumed
            kept = f"; {target.partial.name} holds the {done.rows + written} rows written: --resume continues" \
                if target.path is not None else ""
            raise InputError(f"the run stopped: {exc.strerror or exc}{kept}",
                             file=exc.filename or target.name) from None
        finally:
            results.close()
            if workers is not None:
                workers.stop(kill=not finished)
            if target.path is not None:
                with contextlib.suppress(OSError):
                    out.flush()
                out.close()
        data = summary.as_dict()
        data["edition"] = kb.edition
        text = _summary_text(data, words)
        if store is not None:
            print(batch_recorded(store, words), file=sys.stderr)
        if target.path is None:
            sys.stderr.write(text)
            return 0
        os.replace(target.partial, target.path)
        fsync_dir(target.path.parent)
        _write_file(target.summary, to_json(data).encode("utf-8"))
    sys.stdout.write(text)
    return 0


def _blocking_words(condition: str, w) -> str:
    """A blocking condition, counted without its fiche, in words (its id under the words)."""
    from ..render.reasons import condition_words
    for conditions in w.kb.conditions.values():
        for candidate in conditions:
            if candidate.id.split(".", 1)[1] == condition:
                return f"{condition_words(candidate.id, w)} [{condition}]"
    return condition


def _summary_text(data: dict, w) -> str:
    lines = [w("batch.assessed", assessed=data["assessed"], errors=data["errors"], rows=data["rows"]),
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
        lines.append(w("batch.blocking", condition=_blocking_words(top["condition"], w), companies=top["companies"]))
    return "\n".join(lines) + "\n"
