"""Long stress tests, outside the default suite (`-m stress`; .ci/run runs them)."""
from __future__ import annotations

import pytest

from bench.stress_durable import stress
from pnman.rules import engines


@pytest.mark.stress
@pytest.mark.parametrize("engine", engines.ENGINES)
def test_twenty_thousand_assessments_with_a_tiny_switch_interval_lose_nothing(engine, monkeypatch):
    """durable's dispatch thread used to take a live session's actions: lost firings,
    error 307, segfaults. pnman never starts it (rules/runtime.py). CLIPS runs the same
    loop: one environment per knowledge base, one session at a time."""
    if not engines.available(engine):
        pytest.skip(f"{engine} does not import on this Python")
    monkeypatch.setenv(engines.ENVIRONMENT, engine)
    result = stress(20000)
    assert result["failures"] == 0, result["errors"]
