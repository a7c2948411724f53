"""Load on `pnman serve`'s JSON interview: N concurrent simulated users, each answering
interviews from random complete profiles, against a real server on 127.0.0.1.

    .venv/bin/python bench/web_load.py [--users 50] [--interviews 300] [--seconds 120] [--think 2] [--workers 2]

Each user reads and answers like a person: `--think` seconds on average between an answer
and the next (uniformly from none to twice that); `--think 0` fires answers back to back,
which measures the server's saturation rather than what people see. Prints the time per answer (p50, p95, max), the interviews completed per second, and the
server's CPU time beside the wall time (the machine is shared: CPU time is the steadier
figure). The server runs in its own process, started and stopped here; the run is
bounded both in interviews and in seconds. Then the same load on the baseline, in the same
run: a server whose questioning runs each « what if » through the rules engine and plans it,
as before rules/chaining.py and engine/plan_reads.py (`--no-baseline` skips it).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from portfolio import profiles  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """CPU time of the server and of its live worker processes (`--workers N`: uvicorn's)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:         # a process that ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):     # itself, or its child
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def user(client: httpx.AsyncClient, queue: asyncio.Queue, latencies: list[float], done: list[int],
               deadline: float, think: float, rng: random.Random) -> None:
    while time.monotonic() < deadline:
        try:
            profile = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        reply = await client.post("/api/interviews", json={"lang": random.choice(["fr", "en"])})
        reply.raise_for_status()
        body = reply.json()
        session, step = body["id"], body["next"]
        while step is not None and time.monotonic() < deadline:
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))
            started = time.perf_counter()
            reply = await client.post(f"/api/interviews/{session}/answers",
                                      json={"key": step["key"], "value": profile.get(step["key"])})
            latencies.append(time.perf_counter() - started)
            reply.raise_for_status()
            body = reply.json()
            step = body["next"]
        if step is None and body.get("result"):
            done.append(1)


async def run(base: str, users: int, interviews: int, seconds: float, think: float) -> tuple[list[float], int, float]:
    queue: asyncio.Queue = asyncio.Queue()
    for profile in profiles(interviews, seed=7):
        queue.put_nowait(profile)
    latencies: list[float] = []
    done: list[int] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.monotonic()
        deadline = started + seconds
        rng = random.Random(3)
        await asyncio.gather(*(user(client, queue, latencies, done, deadline, think, rng) for _ in range(users)))
        return latencies, len(done), time.monotonic() - started


BASELINE_SERVER = """
import sys
from pnman.engine import plan_reads, questioning
from pnman.rules import evaluate
for owner, name in ((questioning, "evaluate_trial"), (plan_reads.SignatureTree, "find"), (questioning, "cannot_change")):
    assert hasattr(owner, name), f"the baseline patches {name}, which is gone"
questioning.evaluate_trial = evaluate.evaluate      # the baseline: every trial through the rules engine,
plan_reads.SignatureTree.find = lambda tree, evaluation: None       # planned in full,
questioning.cannot_change = lambda key, reads, evaluation, kb: False  # and no question skipped untried
from pnman.interview.cli.main import main
sys.exit(main(["serve", "--port", sys.argv[1]]))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--interviews", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds a user takes to answer (default: 2)")
    parser.add_argument("--no-baseline", action="store_true", help="only pnman's server, not the baseline's")
    parser.add_argument("--workers", type=int, default=1, help="pnman serve --workers N (default: 1)")
    args = parser.parse_args()
    serve = [sys.executable, "-m", "pnman", "serve"] + (["--workers", str(args.workers)] if args.workers > 1 else [])
    code = load(args, serve + ["--port"], f"pnman ({args.workers} worker{'s' if args.workers > 1 else ''})")
    if code == 0 and not args.no_baseline:
        code = load(args, [sys.executable, "-c", BASELINE_SERVER], "baseline (every trial through the rules engine, planned)")
    return code


def load(args, command: list[str], label: str) -> int:
    print(f"{label}:")
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, PNMAN_HOME=home)
        server = subprocess.Popen(command + [str(port)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):                          # up to 20 s for the server to answer
                try:
                    httpx.get(base + "/healthz", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                print("the server did not start", file=sys.stderr)
                return 1
            cpu_before = cpu_seconds(server.pid)
            latencies, completed, wall = asyncio.run(run(base, args.users, args.interviews, args.seconds,
                                                            args.think))
            cpu = cpu_seconds(server.pid) - cpu_before
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    print(f"{args.users} concurrent users (think time {args.think:g} s on average), {completed} interviews completed, {len(ms)} answers in {wall:.1f} s wall")
    print(f"time per answer: p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")
    print(f"interviews completed per second: {completed / wall:.1f}; answers per second: {len(ms) / wall:.0f}")
    print(f"server CPU time: {cpu:.1f} s for {wall:.1f} s wall ({1000 * cpu / max(len(ms), 1):.2f} ms CPU per answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
