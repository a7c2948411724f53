"""`pnman impact PORTFOLIO --from A --to B`: what a change of guide edition does to a portfolio.

The portfolio is read as `pnman batch` reads it (CSV or JSONL, the same checks, a bad
row reported with its number while the others go on) and assessed by the same worker
processes (`--jobs`, a worker's death survived, input order kept) under both editions:
each company is evaluated once, its plan built under each edition's figures. The output
(JSON lines or text) is written atomically once the run ends.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import orjson

from pnman.engine.impact import ImpactSummary, assess_pair, impact_line
from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.locales import catalogue

from ..files import is_stdout
from ..render.l10n import Words
from .batch.assessing import Part, row_line
from .batch.progress import follow, progress_bar
from .batch.reading import CsvRecord, json_safe, open_source
from .batch.workers import Workers, chunked, worker_count
from .output import emit

_BEFORE = None
_AFTER = None
_RECORD: CsvRecord | None = None


def _init(before, after, record: CsvRecord | None) -> None:
    """What every worker needs, set before the workers are forked."""
    global _BEFORE, _AFTER, _RECORD
    _BEFORE, _AFTER, _RECORD = before, after, record


def _impact(number: int, data: Any) -> dict:
    return row_line(number, data, _RECORD, _BEFORE,
                    lambda profile: impact_line(number, *assess_pair(profile, _BEFORE, _AFTER)))


def impact_rows(rows: list[tuple[int, Any]]) -> Part:
    """Consecutive rows: their output lines as one bytes, the errors of the rejected ones and
    their summary (what a worker sends back for a chunk)."""
    lines, errors, summary = [], [], ImpactSummary()
    for number, data in rows:
        try:
            line = _impact(number, data)
        except (Exception, SystemExit) as exc:     # noqa: BLE001 - one row's failure never stops the run
            line = {"row": number, "error": f"could not be assessed ({type(exc).__name__}: {str(exc)[:200]})"}
        if "error" in line:
            line["error"] = json_safe(str(line["error"]))
            errors.append((number, line["error"]))
            summary.add(None)
        else:
            summary.add(line)
        lines.append(orjson.dumps(line) + b"\n")
    return b"".join(lines), errors, summary


def _error_part(number: int, error: str) -> Part:
    summary = ImpactSummary()
    summary.add(None)
    return orjson.dumps({"row": number, "error": error}) + b"\n", [(number, error)], summary


def _format(args) -> str:
    output = str(args.output or "")
    if args.format:
        return args.format
    if output.lower().endswith(".xlsx") and not is_stdout(output):
        return "xlsx"
    return "json" if output.lower().endswith((".json", ".jsonl")) else "text"


def _check_output(output: str, source: str) -> None:
    """Refuse now, not after the run, an output that cannot be written or is the input."""
    path = Path(output)
    if path.is_dir():
        raise InputError(Phrase("output.folder"), file=output)
    if not path.parent.is_dir():
        raise InputError(Phrase("write.no_folder"), file=output)
    if path.exists() and Path(source).exists() and os.path.samefile(path, source):
        raise InputError(Phrase("output.input"), file=output)


def cmd_impact(args) -> int:
    from pnman.knowledge.editions import knowledge_for
    before = knowledge_for(args.from_edition)
    after = knowledge_for(args.to_edition)
    fmt = _format(args)
    words = Words(args.lang, after)
    if args.output and not is_stdout(args.output):
        _check_output(args.output, args.input)
    jobs, notice = worker_count(args.jobs, catalogue(getattr(args, "messages", None) or "en"))
    source = open_source(args.input, before)
    if notice:
        print(notice.replace("pnman batch:", "pnman impact:"), file=sys.stderr)
    record = source.record(before)
    _init(before, after, record)
    estimate = source.estimate
    jobs = max(1, min(jobs, estimate))
    chunksize = max(1, min(64, estimate // (jobs * 8) or 1))
    chunks = chunked(source.rows(before, raw=True), chunksize, estimate, jobs)
    workers = None
    if jobs == 1:
        results = (impact_rows(rows) for rows in chunks)
    else:
        workers = Workers(jobs, [], work=impact_rows, error_part=_error_part)
        results = workers.run(chunks)
    out: list[bytes] = []
    summary = ImpactSummary()
    progress = progress_bar(words, "impact.progress")
    finished = False
    try:
        if workers is not None:
            workers.start()
        with progress:
            task = progress.add_task("impact", total=estimate)
            done = 0
            for data, part in follow(results, progress, task, "impact", args.input, estimate,
                                     messages=catalogue(getattr(args, "messages", None) or "en")):
                out.append(data)
                summary.merge(part)
                done += part.rows
            progress.update(task, total=done, completed=done)
        finished = True
    finally:
        results.close()
        if workers is not None:
            workers.stop(kill=not finished)
    data = dict(summary.as_dict(), **{"from": before.edition, "to": after.edition,
                                      "knowledge_version": {"from": before.version, "to": after.version}})
    if fmt == "xlsx":
        from ..render.workbook import write_impact
        write_impact((orjson.loads(line) for chunk in out for line in chunk.splitlines()), data, args.output, words)
    elif fmt == "json":
        content = b"".join(out) + orjson.dumps({"summary": data}) + b"\n"
        emit(content.decode("utf-8"), args.output)
    else:
        from ..render.editions import impact_text
        lines = (orjson.loads(line) for chunk in out for line in chunk.splitlines() if b'"changed":true' in line)
        emit(impact_text(lines, data, words, before.edition, after.edition), args.output)
    return 0
