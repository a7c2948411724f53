"""The worker processes of `pnman batch` and `pnman impact`. durable-rules holds the GIL, so
rows are assessed in forked processes, each with its own engine, fed chunks of rows in input
order, with only a few chunks read ahead of the one written: memory stays flat.

A row whose assessment kills its worker process (a crash in durable-rules' C code, the OOM
killer) becomes that row's error and the others go on: the worker is replaced, and the
rows it held are assessed again one by one to find it. Here too: how many workers (--jobs,
capped at what the machine can use) and how the rows are cut into chunks.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
from typing import Any, Iterator

from pnman.knowledge.errors import InputError, Phrase, PnmanError
from pnman.knowledge.locales import catalogue

from .assessing import Part, assess_rows, row_error_part, row_messages

MAX_JOBS = 64
JOBS_PER_CPU = 4


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(requested: int, messages=None) -> tuple[int, str | None]:
    """The number of worker processes, capped at what the machine can use (with a notice in
    the language of `messages`, a Catalogue; English without one)."""
    if requested < 1:
        raise InputError(Phrase("workers.jobs", found=requested), key="--jobs")
    cpus = _cpus()
    cap = min(MAX_JOBS, JOBS_PER_CPU * cpus)
    if requested <= cap:
        return requested, None
    notice = Phrase("workers.capped", requested=requested, cap=cap, per_cpu=JOBS_PER_CPU, count=cpus, most=MAX_JOBS)
    return cap, "pnman batch: " + notice.words(messages or catalogue("en"))


def chunked(items: Iterator[tuple[int, Any]], size: int, remaining: int, jobs: int) -> Iterator[list]:
    """Chunks of at most `size` rows, smaller towards the end of the input (about `remaining` rows
    more) so that the workers finish together."""
    while chunk := list(itertools.islice(items, max(1, min(size, remaining // (4 * jobs))))):
        remaining -= len(chunk)
        yield chunk


def _end(code: int | None) -> tuple[str, str]:
    """How a worker ended: ("died", "9, SIGKILL") — a signal — or ("ended", "3") — an exit code."""
    if code is not None and code < 0:
        try:
            name = f", {signal.Signals(-code).name}"
        except ValueError:
            name = ""
        return "died", f"{-code}{name}"
    return "ended", str(code)


def _death(code: int | None) -> str:
    """A worker's end, as the error of the row it was assessing, in the run's message language
    (the catalogue init_worker set in this process before the workers were forked)."""
    kind, how = _end(code)
    return Phrase(f"workers.row_{kind}", how=how).words(row_messages())


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
            send_part(conn, (work or assess_rows)(pickle.loads(data)))
    except (EOFError, OSError):
        pass                # the main process closed its end or is gone: the work is over (exit 0)
    except BaseException:   # noqa: BLE001 - the main process sees this worker end and names its row
        code = 70
    finally:
        os._exit(code)      # never the main process's exit handlers, nor its buffered output


def send_part(conn, part: Part) -> None:
    """A chunk's results to the main process: its summary and errors pickled with the size of
    its output lines, then the lines as they are, written to the socket (--full: 2 MB a
    chunk; pickled whole, then read back through multiprocessing's reads of 2 MB buffers,
    they cost ~0.2 ms CPU a row, 0.02 as raw bytes)."""
    lines = part[0]
    conn.send_bytes(pickle.dumps((len(lines), part[1:]), pickle.HIGHEST_PROTOCOL))
    fd, view, sent = conn.fileno(), memoryview(lines), 0
    while sent < len(lines):
        sent += os.write(fd, view[sent:])


def receive_part(conn, message: bytes) -> Part:
    """The Part whose first message (`send_part`) is `message`: its lines read straight into
    one buffer (a bytearray); EOFError when the worker ends before sending them all."""
    size, rest = pickle.loads(message)
    lines = bytearray(size)
    fd, view, got = conn.fileno(), memoryview(lines), 0
    while got < size:
        read = os.readv(fd, [view[got:]])
        if not read:
            raise EOFError
        got += read
    return (lines, *rest)


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
        self.work, self.error_part = work, error_part or row_error_part

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
        part = receive_part(worker.conn, data)      # before the task is done: a death meanwhile gives it again
        task, worker.task = worker.task, None
        self.unexplained = 0
        chunk = task.chunk
        chunk.parts[task.index or 0] = part
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
                kind, how = _end(code)
                raise PnmanError(Phrase(f"workers.keep_{kind}", how=how))
            return
        chunk = task.chunk
        if task.index is None:      # one of its rows, or none, killed it: each is assessed alone
            chunk.parts = [None] * len(chunk.rows)
            chunk.missing = len(chunk.rows)
            queue.extendleft(_Task(chunk, index, [row]) for index, row in reversed(list(enumerate(chunk.rows))))
        else:                       # this row killed a worker twice: it is the row's error
            chunk.parts[task.index] = self.error_part(chunk.rows[task.index][0], _death(code))
            chunk.missing -= 1
