"""The CPU of a web interview's answers without HTTP: whole interviews from random complete
profiles through the web's service (interview/web/service.Interviews: sessions database,
questioning, result), as the JSON API's answer does, beside the plain questioning in the
same process.

    .venv/bin/python bench/interview_cpu.py [--interviews 300] [--rounds 3] [--live 50]

`--live` interviews are answered in turn, as concurrent users do (people answering alike
share cached outcomes; one at a time would share more). Each round runs the same
interviews twice, pnman's questioning then the plain one (every « what if » through the
rules engine and planned, no question skipped untried: bench/web_load.py's baseline), each
on fresh caches and a fresh sessions folder; prints CPU time per answer beside wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from portfolio import profiles  # noqa: E402

from pnman.engine import plan_reads, questioning  # noqa: E402
from pnman.interview.web.service import PROGRAM, Interviews, progress  # noqa: E402
from pnman.interview.web.sessions import SessionStore  # noqa: E402
from pnman.knowledge import default  # noqa: E402
from pnman.rules import evaluate  # noqa: E402


@contextlib.contextmanager
def plain_questioning():
    """The baseline: every trial through the rules engine, planned in full, none skipped
    (patch.object refuses a name that is gone: a baseline never silently becomes pnman)."""
    with patch.object(questioning, "evaluate_trial", evaluate.evaluate), \
            patch.object(plan_reads.SignatureTree, "find", lambda tree, evaluation: None), \
            patch.object(questioning, "cannot_change", lambda key, reads, evaluation, kb: False):
        yield


def fresh_caches() -> None:
    questioning._OUTCOMES.clear()
    questioning._TRIALS.clear()
    questioning._signatures.cache_clear()
    plan_reads._VIEWS.clear()


def interviews(kb, companies: list[dict], live: int, folder: Path) -> tuple[int, float, float]:
    """Answer every company's interview, `live` at a time in turn; (answers, CPU s, wall s)."""
    service = Interviews(kb, SessionStore(folder))
    rng = random.Random(2)
    waiting, active, answers = list(companies), [], 0
    cpu, wall = time.process_time(), time.perf_counter()
    while waiting or active:
        while waiting and len(active) < live:
            profile = waiting.pop(0)
            started = service.start(rng.choice(["fr", "en"]), PROGRAM)
            step = started.interview.next()
            orjson.dumps({"id": started.state.id, "next": step.as_dict() if step else None,
                          "progress": progress(started)})
            active.append((profile, started.state.id, step))
        profile, session, step = active.pop(0)
        with service.use(session) as current:
            current.interview.answer(step.key, profile.get(step.key))
            step = current.interview.next()
            orjson.dumps({"next": step.as_dict() if step else None, "progress": progress(current),
                          "result": service.result(current) if step is None else None}, option=orjson.OPT_NON_STR_KEYS)
        answers += 1
        if step is not None:
            active.append((profile, session, step))
    return answers, time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--live", type=int, default=50, help="interviews answered in turn (default: 50)")
    args = parser.parse_args()
    kb = default()
    companies = list(profiles(args.interviews, seed=7))
    totals = {"pnman": [0, 0.0, 0.0], "baseline": [0, 0.0, 0.0]}
    for _ in range(args.rounds):
        for label in totals:
            fresh_caches()
            with tempfile.TemporaryDirectory() as folder, \
                    (plain_questioning() if label == "baseline" else contextlib.nullcontext()):
                done = interviews(kb, companies, args.live, Path(folder))
            totals[label] = [a + b for a, b in zip(totals[label], done)]
    for label, (answers, cpu, wall) in totals.items():
        name = "pnman" if label == "pnman" else "baseline (every trial through the rules engine, planned)"
        print(f"{name}: {answers} answers, {1000 * cpu / answers:.3f} ms CPU per answer "
              f"({1000 * wall / answers:.3f} ms wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
