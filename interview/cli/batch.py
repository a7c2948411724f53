"""`pnman batch`: assess a portfolio of companies (CSV or JSONL) with worker processes.

durable-rules holds the GIL, so the work is spread over processes, each with its own
engine. Output keeps the input order; a bad row is reported with its row number and
the others go on. The summary counts statuses per fiche, adds up the investment
ceilings and names the most common blocking condition.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import orjson

from knowledge.errors import InputError, PnmanError
from knowledge.profile import decode_text

from ..render.l10n import Words
from .output import to_json

TRUE = {"true", "vrai", "oui", "yes", "1", "o", "y"}
FALSE = {"false", "faux", "non", "no", "0", "n"}
MAX_ROWS = 1_000_000
MAX_BYTES = 500_000_000


def _cell(key: str, text: str, spec: dict) -> Any:
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
        items = [i.strip() for i in text.split(";") if i.strip()]
        if kind == "intlist":
            if not all(i.isdigit() for i in items):
                raise ValueError(f"column '{key}': expected fiche numbers separated by ';', found {text!r}")
            return [int(i) for i in items]
        return items
    return text


def read_rows(path: str, kb) -> Iterator[tuple[int, Any]]:
    """(row number, profile dict or an error message) for every data row of the file."""
    source = Path(path)
    if not source.is_file():
        raise InputError("no such batch file", file=path)
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise InputError(f"has extension '{suffix}', expected .csv or .jsonl", file=path)
    if source.stat().st_size > MAX_BYTES:
        raise InputError(f"is larger than {MAX_BYTES // 1_000_000} MB; split the portfolio", file=path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=path) from None
    text = decode_text(raw, path, "a CSV or JSONL portfolio")
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if len(line) > 100_000:
                yield number, "line longer than 100 kB"
                continue
            try:
                yield number, json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield number, f"invalid JSON: {getattr(exc, 'msg', 'nested too deeply')}"
        return
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"has no readable CSV header ({exc})", file=path) from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in kb.facts]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(kb.facts), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"unknown column '{unknown[0]}'{hint}", file=path, key=unknown[0])
    if len(set(header)) != len(header):
        raise InputError("a column appears twice in the header", file=path)
    row_number = 1
    while True:
        row_number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row_number, f"unreadable CSV row: {exc}"
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield row_number, f"expected {len(header)} columns, found {len(row)}"
            continue
        try:
            profile = {}
            for key, cell in zip(header, row):
                value = _cell(key, cell, kb.facts[key])
                if value is not None:
                    profile[key] = value
            yield row_number, profile
        except ValueError as exc:
            yield row_number, str(exc)


_KB = None
_FULL = False
_WORDS = None


def _init_worker(full: bool = False, lang: str = "fr") -> None:
    global _KB, _FULL, _WORDS
    from knowledge import default
    _KB = default()
    _FULL = full
    _WORDS = Words(lang, _KB)


def assess_row(item: tuple[int, Any]) -> dict:
    """Assess one row in a worker; errors become a row-level error, never a crash."""
    from engine.facade import assess
    from knowledge.profile import check_profile

    from ..render.l10n import localise
    number, data = item
    if isinstance(data, str):
        return {"row": number, "error": data}
    try:
        assessment = assess(check_profile(data, _KB, file=f"row {number}"), _KB)
        summary = compact(assessment.evaluation, assessment.plan, _KB)
        if _FULL:   # the record for the file, its summary fields for the portfolio summary
            return {"row": number, "record": localise(assessment.record(timestamp="batch"), _WORDS),
                    "summary": summary}
        return {"row": number, **summary}
    except PnmanError as exc:
        return {"row": number, "error": exc.detail if not exc.key else f"key '{exc.key}': {exc.detail}"}
    except RecursionError:
        return {"row": number, "error": "nested too deeply"}


def compact(evaluation, plan, kb) -> dict:
    """What a portfolio needs: statuses, blocking conditions, plan, totals, warnings, and the
    profile as read, so that any row can be assessed in full (`pnman assess`) and audited."""
    return {
        "name": evaluation.profile.get("name"),
        "size_class": evaluation.size_class,
        "statuses": {str(n): s.status for n, s in evaluation.statuses.items()},
        "blocking": sorted({c.condition.id.split(".", 1)[1] for s in evaluation.statuses.values()
                            for c in s.failing("eligibility")}),
        "plan": [{"step": s["step"], "kind": s["kind"], **({"fiche": s["fiche"], "part": s.get("part")}
                                                           if s["kind"] == "fiche" else {"id": s["id"]})}
                 for s in plan.steps],
        "totals": plan.totals,
        "warnings": sorted({w.code for w in plan.warnings}),
        "knowledge_version": kb.version,
        "profile": dict(evaluation.profile),
    }


class Summary:
    def __init__(self):
        self.rows = 0
        self.errors = 0
        self.per_fiche: dict[str, Counter] = {}
        self.investment = [0, 0]
        self.days = [0, 0]
        self.blocking: Counter = Counter()

    def add(self, line: dict) -> None:
        self.rows += 1
        if "error" in line:
            self.errors += 1
            return
        line = line.get("summary", line)
        for fiche, status in line["statuses"].items():
            self.per_fiche.setdefault(fiche, Counter())[status] += 1
        self.investment[0] += line["totals"]["investment_da_ht"]["min"]
        self.investment[1] += line["totals"]["investment_da_ht"]["max"]
        self.days[0] += line["totals"]["coaching_days"]["min"]
        self.days[1] += line["totals"]["coaching_days"]["max"]
        self.blocking.update(line["blocking"])

    def as_dict(self) -> dict:
        top = self.blocking.most_common(1)
        return {"rows": self.rows, "errors": self.errors,
                "statuses_per_fiche": {f: dict(sorted(c.items())) for f, c in
                                       sorted(self.per_fiche.items(), key=lambda kv: int(kv[0]))},
                "investment_da_ht": {"min": self.investment[0], "max": self.investment[1]},
                "coaching_days": {"min": self.days[0], "max": self.days[1]},
                "most_common_blocking_condition": {"condition": top[0][0], "companies": top[0][1]} if top else None}


def run_batch(args) -> int:
    from knowledge import default
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    kb = default()
    if args.jobs < 1 or args.jobs > 64:
        raise InputError("expected a number of worker processes from 1 to 64", key="--jobs")
    rows = list(read_rows(args.input, kb))
    if len(rows) > MAX_ROWS:
        raise InputError(f"has more than {MAX_ROWS} rows", file=args.input)
    out_path = Path(args.output)
    if out_path.parent and not out_path.parent.exists():
        raise InputError("its folder does not exist", file=args.output)
    summary = Summary()
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    progress = Progress(TextColumn("assess"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        transient=False, disable=not sys.stderr.isatty() and not os.environ.get("PNMAN_PROGRESS"))
    chunksize = max(1, min(256, len(rows) // (args.jobs * 8) or 1))
    with open(tmp, "w", encoding="utf-8") as handle, progress:
        task = progress.add_task("assess", total=len(rows))
        if args.jobs == 1:
            _init_worker(args.full, args.lang)
            results = map(assess_row, rows)
            pool = None
        else:
            pool = multiprocessing.get_context("fork").Pool(args.jobs, initializer=_init_worker,
                                                            initargs=(args.full, args.lang))
            results = pool.imap(assess_row, rows, chunksize=chunksize)
        try:
            for line in results:
                if "error" in line:
                    print(f"pnman batch: {args.input}: row {line['row']}: {line['error']}", file=sys.stderr)
                summary.add(line)
                line.pop("summary", None)
                handle.write(orjson.dumps(line).decode("utf-8") + "\n")
                progress.advance(task)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, out_path)
    data = summary.as_dict()
    sys.stdout.write(_summary_text(data, Words(args.lang, kb)))
    summary_path = out_path.with_name(out_path.stem + ".summary.json")
    summary_path.write_text(to_json(data), encoding="utf-8")
    return 0


def _summary_text(data: dict, w) -> str:
    lines = [w("batch.assessed", rows=data["rows"], errors=data["errors"]), w("batch.statuses")]
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
