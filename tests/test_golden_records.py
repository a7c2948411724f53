"""Records are byte-identical to the stored ones (tests/sealed_records/golden.py): the examples in
fr, en and ar, and a random portfolio. Made twice in one process, so that what the engine
keeps between assessments (shared outcomes, cached fiche entries, serialised parts) cannot
change a record either."""
from __future__ import annotations

import difflib

import pytest

from tests.sealed_records import golden


def _same(name: str, made: str) -> None:
    stored = golden.read(name)
    if made != stored:
        diff = "".join(list(difflib.unified_diff(stored.splitlines(True), made.splitlines(True), "stored", "made"))[:40])
        pytest.fail(f"{name} differs from the stored record (python tests/sealed_records/golden.py rewrites it "
                    f"when the change is meant):\n{diff}")


@pytest.mark.parametrize("rounds", [1, 2])
def test_example_records_are_byte_identical(kb, rounds):
    for _ in range(rounds):
        made = golden.example_records(kb)
    assert len(made) == len(golden.EXAMPLES) * len(golden.LANGS) >= 15
    for name, text in made.items():
        _same(name, text)


def test_portfolio_records_are_byte_identical_cold_and_warm(kb):
    first = golden.portfolio_records(kb)
    _same(golden.PORTFOLIO_FILE, first)
    assert golden.portfolio_records(kb) == first
