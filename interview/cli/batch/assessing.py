"""What a worker process of `pnman batch` does with its rows: assess each one and make its
output line (compact, or the full record with --full; appended to the registry with
--record). Whatever goes wrong with a row becomes that row's error line: a worker never
raises. What the run assesses with (guide edition, language, registry) is set here by
`init_worker` before the workers are forked, and so inherited by each of them.
"""
from __future__ import annotations

import gc
import signal
from typing import Any

import orjson

from pnman.knowledge.errors import Phrase, PnmanError
from pnman.knowledge.locales import catalogue

from ...render.l10n import Words
from .lines import line_bytes
from .reading import CsvRecord, json_safe
from .summary import Summary, assessed_fields, summary_fields

_KB = None
_FULL = False
_WORDS = None
_RECORD: CsvRecord | None = None
_MESSAGES = None       # the catalogue rows' refusals are worded with (the run's message language)
_STORE = None          # --record: the registry (records.store.RegistryStore); each process opens its own
_PORTFOLIO = None      # --record: the portfolio's "sha256:…", each row's source with its number
_RECORDED: dict[int, str] = {}     # --record: the rows of the chunk at work recorded before, and their entries
PENDING = "_pending"   # a line waiting for its chunk's append: (assessment, localised record, source, kept parts)
SUMMARY = "_summary"   # a full line's summary fields, taken from its assessment (not written out)
PARTS = "_parts"       # a full line's record's serialised parts (engine.record.kept_parts: not written out)


def init_worker(full: bool = False, lang: str = "fr", pooled: bool = False,
                record: CsvRecord | None = None, kb=None, store=None, portfolio: str | None = None,
                messages: str | None = None) -> None:
    global _KB, _FULL, _WORDS, _RECORD, _STORE, _PORTFOLIO, _MESSAGES
    from pnman.knowledge import default
    if pooled:      # Ctrl-C is the main process's to handle: it stops the workers and keeps the partial output
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _KB = kb or default()      # the Knowledge of the run's guide edition (--edition)
    _FULL = full
    _WORDS = Words(lang, _KB)
    _RECORD = record
    _STORE = store
    _PORTFOLIO = portfolio
    _MESSAGES = catalogue(messages) if messages else None


def row_error(exc: PnmanError, messages=None) -> str:
    """A row's refusal in the messages' language (a Catalogue; English without one): the key
    and what is wrong, without the file (the row number is the line's)."""
    if messages is None or exc.phrase is None:
        return exc.detail if not exc.key else f"key '{exc.key}': {exc.detail}"
    detail = exc.detail_in(messages)
    return messages.text("errors.line", where=messages.text("errors.key", name=exc.key), detail=detail) \
        if exc.key else detail


def row_line(number: int, data: Any, record: CsvRecord | None, kb, make, messages=None) -> dict:
    """A portfolio row's output line, `{"row": number, **make(profile)}`, or its error line:
    the CSV record's cells read, the profile checked against `kb`, a refusal worded as the
    row's error, in the language of `messages` (a Catalogue). What batch and impact do with
    every row before their own work."""
    from pnman.knowledge.profile import check_profile
    if isinstance(data, tuple):         # a CSV record's cells
        data = record(data)
    if isinstance(data, Phrase):         # a cell that is not a value of its column's kind
        return {"row": number, "error": data.words(messages or catalogue("en"))}
    if isinstance(data, str):
        return {"row": number, "error": data}
    try:
        return {"row": number, **make(check_profile(data, kb, file=f"row {number}"))}
    except PnmanError as exc:
        return {"row": number, "error": row_error(exc, messages)}
    except RecursionError:
        return {"row": number, "error": (messages or catalogue("en")).text("errors.cli.nested")}


def row_messages():
    """The catalogue rows' errors are worded with in this process (set by init_worker)."""
    return _MESSAGES or catalogue("en")


def _assess(number: int, data: Any) -> dict:
    return row_line(number, data, _RECORD, _KB, lambda profile: _assessed(profile, number), _MESSAGES)


def _assessed(profile, number: int) -> dict:
    """A checked profile's line: compact, or the full record (--full). With --record, the
    line waits for its chunk's append (PENDING: record_chunk appends the chunk's records in
    one transaction and names each line's entry). A row of this portfolio recorded before
    (a rerun, a --resume after a kill) is not recorded again: its line names the entry that
    holds it, `"recorded_before": true` (with --full, the record as recorded)."""
    from pnman.engine.facade import assess
    from pnman.engine.record import kept_parts

    from ...render.l10n import localise
    assessment = assess(profile, _KB)
    if _STORE is not None:
        source = {"portfolio": _PORTFOLIO, "row": number} if _PORTFOLIO else None
        found = _RECORDED.get(number) if source is not None and not _FULL else None
        if found is not None:       # recorded before: the record is not even built again
            return {**compact(assessment.evaluation, assessment.plan, _KB), "entry": found, "recorded_before": True}
        record = localise(assessment.record(), _WORDS)
        return {PENDING: (assessment, record, source, kept_parts(record))}
    if _FULL:
        record = localise(assessment.record(timestamp="batch"), _WORDS)
        return {"record": record, PARTS: kept_parts(record),
                SUMMARY: assessed_fields(assessment.evaluation, assessment.plan)}
    return compact(assessment.evaluation, assessment.plan, _KB)


def _failure(exc: BaseException) -> str:
    """A row's failure in the messages' language (English without them)."""
    kind = "workers.not_json" if isinstance(exc, TypeError) and "UTF-8" in str(exc) else "workers.failed"
    return json_safe(Phrase(kind, error=f"{type(exc).__name__}: {str(exc)[:200]}").words(_MESSAGES or catalogue("en")))


def _line(item: tuple[int, Any]) -> dict:
    """A row's line (its error line when anything goes wrong: a worker never raises)."""
    try:
        return _assess(item[0], item[1])
    except (Exception, SystemExit) as exc:   # noqa: BLE001 - one row's failure never stops the run
        return {"row": item[0], "error": _failure(exc)}


def record_chunk(lines: list[dict]) -> None:
    """--record: the records of a chunk's pending lines appended in one transaction (one wait
    for the lock, one commit), each line then naming its entry — or, when the registry
    refuses, each carrying that refusal as its error. A kill before the commit records none
    of them, after it all (each row's source is UNIQUE: a --resume finds them recorded)."""
    pending = [line for line in lines if PENDING in line]
    if not pending:
        return
    try:
        stored = _STORE.save_many([line[PENDING][1] for line in pending],
                                  sources=[line[PENDING][2] for line in pending],
                                  parts=[line[PENDING][3] for line in pending])
    except PnmanError as exc:
        stored, error = None, row_error(exc, _MESSAGES)
    except Exception as exc:   # noqa: BLE001 - the chunk's rows carry the failure, the run goes on
        stored, error = None, _failure(exc)
    for position, line in enumerate(pending):
        assessment, _, _, parts = line.pop(PENDING)
        number = line.pop("row")
        if stored is None:
            line.update(row=number, error=error)
            continue
        ref = stored[position]
        again = {"recorded_before": True} if ref.recorded_before else {}
        line["row"] = number
        if _FULL:
            line.update({"record": ref.record, PARTS: parts}, **again)
        else:
            line.update(compact(assessment.evaluation, assessment.plan, _KB), entry=ref.id, **again)


def _finished(line: dict) -> tuple[int, bytes, dict | None, str | None]:
    """(row, its output line as bytes, its summary fields or None, its error or None)."""
    number = line["row"]
    try:
        if "error" in line:
            line["error"] = json_safe(str(line["error"]))
            return number, orjson.dumps(line) + b"\n", None, line["error"]
        fields, parts = line.pop(SUMMARY, None), line.pop(PARTS, None)
        return number, line_bytes(line, parts), fields or summary_fields(line, _KB), None
    except (Exception, SystemExit) as exc:   # noqa: BLE001 - one row's failure never stops the run
        error = _failure(exc)
        return number, orjson.dumps({"row": number, "error": error}) + b"\n", None, error


def assess_row(item: tuple[int, Any]) -> tuple[int, bytes, dict | None, str | None]:
    """Assess one row: (row, its output line as bytes, its summary fields or None, its error or
    None). Whatever goes wrong becomes the row's error: a worker never raises."""
    line = _line(item)
    record_chunk([line])
    return _finished(line)


# The results of consecutive rows: their output lines (a bytearray when a worker sent them), (row, error)
# of the rejected ones, their summary.
Part = tuple[bytes, list[tuple[int, str]], "Summary"]


def assess_rows(rows: list[tuple[int, Any]]) -> Part:
    """Assess consecutive rows: their output lines as one bytes, the errors of the rejected ones
    and their summary (a worker sends this little back, not one message per row). With
    --record, the chunk's rows recorded before are looked up at once, and the others
    appended together (record_chunk).

    What each row leaves alive (the new entries of the engine's shared tables: a few hundred
    objects a row; with --record, its assessment and record until the chunk is appended) is
    moved out of the garbage collector's sight after the row (gc.freeze), and what the
    chunk leaves after it: the collector went through them again and again for nothing,
    2 % of a compact row's CPU and 4 % of a full one's, and with --record, whose 64 pending
    rows the collections in the middle of a chunk went through, 0.09 ms a row (0.012 frozen
    after each row). Freezing costs nothing (lists spliced), a frozen object is still freed
    when nothing refers to it, and a row leaves no garbage cycle behind (a cycle frozen
    would stay until the process ends: none in 20,000 rows, good or rejected)."""
    global _RECORDED
    if _STORE is not None and _PORTFOLIO and not _FULL:
        _RECORDED = _STORE.recorded_rows(_PORTFOLIO, [number for number, _ in rows])
    try:
        lines = []
        for item in rows:
            lines.append(_line(item))
            gc.freeze()
        record_chunk(lines)
    finally:
        _RECORDED = {}
    out = []
    errors = []
    summary = Summary()
    for line in lines:
        number, data, fields, error = _finished(line)
        out.append(data)
        if error is not None:
            errors.append((number, error))
        summary.add(fields)
    gc.freeze()
    return b"".join(out), errors, summary


def row_error_part(number: int, error: str) -> Part:
    """The Part of a row that killed its worker twice: its error line."""
    summary = Summary()
    summary.add(None)
    return orjson.dumps({"row": number, "error": error}) + b"\n", [(number, error)], summary


def compact(evaluation, plan, kb) -> dict:
    """What a portfolio needs: statuses, blocking conditions, plan, totals, warnings, and the
    profile as read, so that any row can be assessed in full (`pnman assess`) and audited."""
    summary = assessed_fields(evaluation, plan)
    return {
        "name": evaluation.profile.get("name"),
        "size_class": evaluation.size_class,
        "statuses": summary["statuses"],
        "blocking": summary["blocking"],
        "plan": [{"step": s.index, "kind": s.kind.value, **({"fiche": s.fiche, "part": s.part}
                                                            if s.id.is_fiche else {"id": s.id.label})}
                 for s in plan.steps],
        "totals": plan.totals,
        "warnings": sorted({w.code for w in plan.warnings}),
        "knowledge_version": kb.version,
        "edition": kb.edition,
        "profile": dict(evaluation.profile),
    }
