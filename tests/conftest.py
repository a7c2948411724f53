"""Shared fixtures: the knowledge base (loaded once) and helpers to assess profiles."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import knowledge  # noqa: E402


@pytest.fixture(scope="session")
def kb():
    return knowledge.default()


def step_label(step: dict) -> str:
    """How scenario cases name a plan step: f13, f9:preparation, action.it_manager."""
    if step["kind"] == "company_action":
        return step["id"]
    return f"f{step['fiche']}" + (f":{step['part']}" if step.get("part") else "")
