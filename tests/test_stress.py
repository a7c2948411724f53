"""Long stress tests, outside the default suite (`-m stress`; .ci/run runs them)."""
from __future__ import annotations

import pytest

from bench.stress_durable import stress


@pytest.mark.stress
def test_twenty_thousand_assessments_with_a_tiny_switch_interval_lose_nothing():
    """durable's dispatch thread used to take a live session's actions: lost firings,
    error 307, segfaults. pnman never starts it (rules/runtime.py)."""
    result = stress(20000)
    assert result["failures"] == 0, result["errors"]
