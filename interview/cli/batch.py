"""`pnman batch`: assess a portfolio of companies (CSV or JSONL) with worker processes.

durable-rules holds the GIL, so the work is spread over processes, each with its own
engine. The input is streamed: one record is read at a time and at most a small window
of rows is in flight, so memory stays flat whatever the portfolio's size. Output keeps
the input order and is written as results come, to `OUTPUT.partial`, renamed `OUTPUT`
when the run ends; `--resume` continues a killed run from the rows already there. A
`OUTPUT.lock` (fcntl.flock) keeps two runs from writing one output.

A bad row, or any failure while assessing it, becomes that row's error line (its row
number: the line where its record starts) and the others go on. The summary counts
statuses per fiche, adds up the investment ceilings and names the most common blocking
condition.

CSV: columns separated by ',' (lists in a cell by ';') or by ';' as French Excel writes
them (lists by ','), the separator read from the header line; UTF-8 with or without a
BOM, LF or CRLF. JSONL: one JSON object per line, lines split on "\\n" only.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import fcntl
import itertools
import multiprocessing
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from knowledge.errors import InputError, PnmanError
from knowledge.yamlio import parse_text

from ..render.l10n import Words
from .output import to_json

TRUE = {"true", "vrai", "oui", "yes", "1", "o", "y"}
FALSE = {"false", "faux", "non", "no", "0", "n"}
MAX_ROWS = 1_000_000          # lines of the input
MAX_BYTES = 500_000_000
MAX_LINE = 100_000            # bytes of one JSONL line (longer: that row's error)
MAX_CSV_LINE = 1_000_000      # bytes of one physical CSV line (longer: the file is refused before any row)
MAX_JOBS = 64
JOBS_PER_CPU = 4
FLUSH_SECONDS = 0.5           # a killed run loses at most this much of its results, or FLUSH_ROWS of them
FLUSH_ROWS = 100
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
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
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

    def rows(self, kb) -> Iterator[tuple[int, Any]]:
        """(row number, profile dict or an error message) for every data row; the row number
        is the line where the row's record starts."""
        return self._jsonl() if self.kind == "jsonl" else self._csv(kb)

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

    def _csv(self, kb) -> Iterator[tuple[int, Any]]:
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
                    if not any(cell.strip() for cell in record):
                        continue
                    if len(record) != len(self.header):
                        yield start, f"expected {len(self.header)} columns, found {len(record)}"
                        continue
                    try:
                        profile = {}
                        for key, cell in zip(self.header, record):
                            value = _cell(key, cell, kb.facts[key], self.list_separator)
                            if value is not None:
                                profile[key] = value
                        yield start, profile
                    except ValueError as exc:
                        yield start, str(exc)
            except UnicodeDecodeError as exc:
                raise InputError(f"is not UTF-8 text any more (it changed during the run: {exc.reason})",
                                 file=self.path) from None


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
    bad = _surrogate(data)
    if bad is not None:
        return f"invalid JSON: {bad!r} holds a lone surrogate ({_clean(next(c for c in bad if 0xD800 <= ord(c) <= 0xDFFF))}), which is not text"
    return data


def _surrogate(value: Any) -> str | None:
    """The first string (key or value) holding a lone surrogate, shown escaped; None if none."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


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


# -- assessing one row (in a worker) -----------------------------------------------------------------

_KB = None
_FULL = False
_WORDS = None


def _init_worker(full: bool = False, lang: str = "fr", pooled: bool = False) -> None:
    global _KB, _FULL, _WORDS
    from knowledge import default
    if pooled:      # Ctrl-C is the main process's to handle: it stops the pool and keeps the partial output
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _KB = default()
    _FULL = full
    _WORDS = Words(lang, _KB)


def _assess(number: int, data: Any) -> dict:
    from engine.facade import assess
    from knowledge.profile import check_profile

    from ..render.l10n import localise
    if isinstance(data, str):
        return {"row": number, "error": data}
    try:
        assessment = assess(check_profile(data, _KB, file=f"row {number}"), _KB)
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
        self.per_fiche: dict[str, Counter] = {}
        self.investment = [0, 0]
        self.days = [0, 0]
        self.blocking: Counter = Counter()

    def add(self, fields: dict | None) -> None:
        """One output row: its summary fields, or None for a rejected row."""
        self.rows += 1
        if fields is None:
            self.errors += 1
            return
        for fiche, status in fields["statuses"].items():
            self.per_fiche.setdefault(fiche, Counter())[status] += 1
        self.investment[0] += fields["totals"]["investment_da_ht"]["min"]
        self.investment[1] += fields["totals"]["investment_da_ht"]["max"]
        self.days[0] += fields["totals"]["coaching_days"]["min"]
        self.days[1] += fields["totals"]["coaching_days"]["max"]
        self.blocking.update(fields["blocking"])

    def as_dict(self) -> dict:
        top = self.blocking.most_common(1)
        return {"rows": self.rows, "assessed": self.rows - self.errors, "errors": self.errors,
                "statuses_per_fiche": {f: dict(sorted(c.items())) for f, c in
                                       sorted(self.per_fiche.items(), key=lambda kv: int(kv[0]))},
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


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):   # some filesystems refuse to fsync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
    _fsync_dir(path.parent)


@dataclass
class Done:
    """What an interrupted run already wrote (--resume)."""
    rows: int = 0
    last_row: int = 0
    last_line: dict | None = None
    summary: Summary = field(default_factory=Summary)


def read_partial(fd: int, target: Target, full: bool, lang: str) -> tuple[Done, int]:
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
            done.summary.add(fields)
            done.rows += 1
            done.last_row, done.last_line = row, line
            good += len(raw)
    return done, good


def _skip_done(rows: Iterator[tuple[int, Any]], done: Done, kb, source: str, target: Target):
    """The rows after those already written; the last written one must still be the input's."""
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


def _throttled(items, window: threading.Semaphore, stop: threading.Event):
    """The pool's task thread reads the input through this: at most `window` rows ahead of
    the rows written, so memory does not grow with the portfolio."""
    for item in items:
        while not window.acquire(timeout=0.1):
            if stop.is_set():
                return
        if stop.is_set():
            return
        yield item


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


def run_batch(args) -> int:
    from knowledge import default
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    kb = default()
    jobs, jobs_notice = _jobs(args.jobs)
    resume = getattr(args, "resume", False)
    target = resolve_target(args.output, args.input)
    if target.path is None and resume:
        raise InputError("--resume needs an output file (its rows are read back from OUTPUT.partial), "
                         "not standard output", file=args.output)
    words = Words(args.lang, kb)
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
                done, good = read_partial(fd, target, args.full, args.lang)
            elif resume:
                notices.append(f"pnman batch: {target.name}: no {target.partial.name} to resume; assessing every row")
            rows = _skip_done(source.rows(kb), done, kb, args.input, target)
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
        err = Console(stderr=True)
        progress = Progress(TextColumn(words("batch.progress")), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=err, transient=False, redirect_stdout=False,
                            disable=not sys.stderr.isatty() and not os.environ.get("PNMAN_PROGRESS"))
        estimate = max(source.estimate, done.rows)
        jobs = max(1, min(jobs, estimate - done.rows))         # no idle workers for a small portfolio
        chunksize = max(1, min(64, (estimate - done.rows) // (jobs * 8) or 1))
        stop = threading.Event()
        pool = None
        written = 0
        finished = False
        try:
            with progress:
                task = progress.add_task("batch", total=estimate, completed=done.rows)
                if jobs == 1:
                    _init_worker(args.full, args.lang)
                    results = map(assess_row, items)
                    window = None
                else:
                    window = threading.Semaphore(chunksize * (2 * jobs + 2))
                    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_init_worker,
                                                                    initargs=(args.full, args.lang, True))
                    results = pool.imap(assess_row, _throttled(items, window, stop), chunksize=chunksize)
                flushed = time.monotonic()
                for number, data, fields, error in results:
                    if error is not None:
                        print(f"pnman batch: {args.input}: row {number}: {error}", file=sys.stderr)
                    out.write(data)
                    summary.add(fields)
                    written += 1
                    if window is not None:
                        window.release()
                    progress.update(task, advance=1, total=max(estimate, done.rows + written))
                    if written % FLUSH_ROWS == 0 or time.monotonic() - flushed > FLUSH_SECONDS:
                        out.flush()
                        flushed = time.monotonic()
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
            stop.set()
            if pool is not None:
                if finished:
                    pool.close()
                else:
                    pool.terminate()
                pool.join()
            if target.path is not None:
                with contextlib.suppress(OSError):
                    out.flush()
                out.close()
        data = summary.as_dict()
        text = _summary_text(data, words)
        if target.path is None:
            sys.stderr.write(text)
            return 0
        os.replace(target.partial, target.path)
        _fsync_dir(target.path.parent)
        _write_file(target.summary, to_json(data).encode("utf-8"))
    sys.stdout.write(text)
    return 0


def _summary_text(data: dict, w) -> str:
    lines = [w("batch.assessed", assessed=data["assessed"], errors=data["errors"], rows=data["rows"]),
             w("batch.statuses")]
    for fiche, counts in data["statuses_per_fiche"].items():
        lines.append(f"  fiche {int(fiche):2d}: {counts.get('eligible', 0):6d} / {counts.get('conditional', 0):6d} / "
                     f"{counts.get('unknown', 0):6d} / {counts.get('ineligible', 0):6d}")
    inv, days = data["investment_da_ht"], data["coaching_days"]
    lines.append(w("batch.investment", low=w.da(inv["min"]), high=w.da(inv["max"])))
    lines.append(w("batch.days", low=days["min"], high=days["max"]))
    top = data["most_common_blocking_condition"]
    if top:
        lines.append(w("batch.blocking", condition=top["condition"], companies=top["companies"]))
    return "\n".join(lines) + "\n"
