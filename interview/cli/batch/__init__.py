"""`pnman batch`: assess a portfolio of companies (CSV, JSONL or .xlsx) with worker processes.

durable-rules holds the GIL, so the work is spread over processes, each with its own
engine: the main process reads the input in chunks of rows, hands each chunk to a worker
(which reads the CSV cells, assesses and writes the output lines) and writes the lines it
gets back. The input is streamed: at most a small window of chunks is in flight, so
memory stays flat whatever the portfolio's size. Output keeps the input order and is
written as results come, to `OUTPUT.partial`, renamed `OUTPUT` when the run ends;
`--resume` continues a killed run from the rows already there. An OUTPUT ending in .xlsx
is written the same way (JSON lines in `OUTPUT.partial`), then as a workbook at the end. A `OUTPUT.lock`
(fcntl.flock) keeps two runs from writing one output.

This module is the command itself (`run_batch`); each of its jobs is a module beside it:
- `reading`: the portfolio file: its checks, the CSV dialect, cells read into profile
  values, each row's number (`pnman impact` reads portfolios with it too);
- `assessing`: what a worker does with a row: assess it and make its output line;
- `lines`: an output line's bytes (a full record's shared trace entries serialised once);
- `workers`: the worker processes, fed in input order, surviving a worker's death
  (`pnman impact` runs its rows on them too);
- `results`: where the lines go: standard output, or OUTPUT through OUTPUT.partial, with
  its lock, `--resume` and the atomic writes;
- `summary`: the figures over the portfolio, and their text;
- `progress`: the progress bar.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import stat
import sys
import time

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.locales import catalogue
from pnman.knowledge.profile import os_reason

from ...files import fsync_dir
from ...render.l10n import Words
from ..output import to_json
from .assessing import assess_rows, init_worker
from .progress import follow, progress_bar
from .reading import open_source
from .results import Done, OutputLock, open_new, read_partial, replace_file, resolve_target, skip_done, stdout_binary
from .summary import summary_text
from .workers import Workers, chunked, worker_count

FLUSH_SECONDS = 0.5           # a killed run loses at most this much of its results, or FLUSH_ROWS of them
FLUSH_ROWS = 100


def portfolio_digest(path: str) -> str:
    """The portfolio's SHA-256: with a row's number, the source a recorded row keeps (a rerun
    or --resume of the same file finds its rows in the registry and records none twice)."""
    import hashlib
    try:
        with open(path, "rb") as fp:
            return "sha256:" + hashlib.file_digest(fp, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=path) from None


def run_batch(args) -> int:
    from pnman.knowledge.editions import knowledge_for
    kb = knowledge_for(getattr(args, "edition", None))     # --edition; default: the latest in force
    messages = catalogue(getattr(args, "messages", None) or "en")     # the notices' language
    jobs, jobs_notice = worker_count(args.jobs, messages)
    resume = getattr(args, "resume", False)
    target = resolve_target(args.output, args.input)
    if target.path is None and resume:
        raise InputError(Phrase("resume.stdout"), file=args.output)
    words = Words(args.lang, kb)
    from ..registry_commands import batch_recorded, batch_store
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
                    raise InputError(Phrase("resume.unreadable", partial=target.partial.name, reason=os_reason(exc)),
                                     file=target.name) from None
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise InputError(Phrase("resume.not_regular", partial=target.partial.name), file=target.name)
                done, good = read_partial(fd, target, args.full, args.lang, kb)
            elif resume:
                notices.append("pnman batch: " + Phrase("resume.nothing", output=target.name,
                                                        partial=target.partial.name).words(messages))
            rows = skip_done(source.rows(kb, raw=True), done, kb, args.input, target, source.record(kb))
            first = next(rows, None)            # the input's check for --resume happens here, before any change
            if fd is not None:
                os.ftruncate(fd, good)          # a line cut by the kill is assessed again
                os.lseek(fd, good, os.SEEK_SET)
            elif target.path is not None:
                if os.path.lexists(target.partial):
                    notices.append("pnman batch: " + Phrase("resume.discarding", output=target.name,
                                                            partial=target.partial.name).words(messages))
                    os.unlink(target.partial)
                fd = open_new(target.partial, target.mode)
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
            out = stdout_binary()
        summary = done.summary
        progress = progress_bar(words)
        estimate = max(source.estimate, done.rows)
        jobs = max(1, min(jobs, estimate - done.rows))         # no idle workers for a small portfolio
        chunksize = max(1, min(16 if args.full else 64, (estimate - done.rows) // (jobs * 8) or 1))
        init_worker(args.full, args.lang, record=source.record(kb), kb=kb, store=store,     # the workers are forked with it
                    portfolio=portfolio_digest(args.input) if store is not None else None,
                    messages=getattr(args, "messages", None))
        chunks = chunked(items, chunksize, estimate - done.rows, jobs)
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
                flushed = time.monotonic()
                unflushed = 0
                for data, part in follow(results, progress, task, "batch", args.input, estimate, done.rows, messages):
                    out.write(data)
                    summary.merge(part)
                    written += part.rows
                    unflushed += part.rows
                    now = time.monotonic()
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
                print("pnman batch: " + Phrase("resume.interrupted", output=target.name, count=done.rows + written,
                                               partial=target.partial.name).words(messages), file=sys.stderr)
            raise
        except BrokenPipeError:
            raise
        except OSError as exc:      # a full disk, a vanished folder: exit 2, and what was written can be resumed
            kept = Phrase("resume.kept", partial=target.partial.name, count=done.rows + written) \
                if target.path is not None else ""
            raise InputError(Phrase("resume.stopped", reason=os_reason(exc), kept=kept),
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
        text = summary_text(data, words)
        if store is not None:
            print(batch_recorded(store, words), file=sys.stderr)
        if target.path is None:
            sys.stderr.write(text)
            return 0
        if target.path.suffix.lower() == ".xlsx":      # the partial's JSON lines, streamed into the workbook
            from ...render.workbook import jsonl_lines, write_results
            write_results(jsonl_lines(target.partial), data, str(target.path), words)
            os.unlink(target.partial)
        else:
            os.replace(target.partial, target.path)
        fsync_dir(target.path.parent)
        replace_file(target.summary, to_json(data).encode("utf-8"))
    sys.stdout.write(text)
    return 0
