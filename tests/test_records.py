"""Stored records: the record of every example and every case profile, byte for byte.

A refactor of the plan must not change a decision, an id or a figure: the engine's JSON
record (fixed timestamp, no program version) and the French Markdown report with its ids
(--verbose) of each profile are kept in tests/records/ and compared here. A deliberate
change (a fixed defect) regenerates them and says which changed and why in its commit:

    .venv/bin/python tests/test_records.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import record_of  # noqa: E402
from pnman import knowledge  # noqa: E402
from pnman.engine.cases import load_cases  # noqa: E402
from pnman.knowledge.profile import load_profile  # noqa: E402

RECORDS = ROOT / "tests" / "records"
TIMESTAMP = "2026-01-01T00:00:00+00:00"
# What may differ between two runs of one profile under the same knowledge.
VARYING = ("program_version", "engine")
# What a case's stored record keeps (the decision digest covers all the rest).
SUMMARY = ("size_class", "facts", "plan", "totals", "warnings", "decision_digest", "knowledge_version")


def profiles(kb) -> dict[str, dict]:
    """Every example and every case profile, by the name its stored record has."""
    found = {f"example-{p.stem}": dict(load_profile(str(p), kb)) for p in sorted((ROOT / "examples").glob("*.yaml"))}
    for case in load_cases([ROOT / "tests" / "cases"], kb):      # as `pnman test` reads them
        found[f"case-{case.name}"] = dict(case.profile)
    return found


def rendered(profile: dict, kb, whole: bool) -> dict[str, str]:
    """The stored forms of one profile's assessment: its record (whole for an example; for a
    case its plan, totals, warnings, statuses and digest) and its French report."""
    from pnman.interview.render.l10n import Words, localise
    from pnman.interview.render.markdown import assessment_markdown
    record = record_of(profile, kb, timestamp=TIMESTAMP)
    kept = {k: v for k, v in record.items() if k not in VARYING}
    if not whole:       # a case: what a plan decides, the digest standing for the rest
        kept = {k: kept[k] for k in SUMMARY}
        kept["statuses"] = {e["fiche"]: e["status"] for e in record["fiches"]}
    w = Words("fr", kb)
    return {"json": json.dumps(kept, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            "fr.md": assessment_markdown(localise(record, w), w, verbose=True)}


PROFILES = profiles(knowledge.default())


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_record_is_as_stored(name, kb):
    forms = rendered(PROFILES[name], kb, name.startswith("example-"))
    for suffix, text in forms.items():
        stored = RECORDS / f"{name}.{suffix}"
        assert stored.exists(), f"{stored.name} is missing: run .venv/bin/python tests/test_records.py"
        assert text == stored.read_text(encoding="utf-8"), \
            f"{stored.name} differs from the stored record (a deliberate change: regenerate and say why)"


def test_every_stored_record_has_its_profile(kb):
    stale = sorted(p.name for p in RECORDS.glob("*") if p.name.split(".")[0] not in PROFILES)
    assert not stale, f"stored records with no profile: {stale}"


def regenerate() -> None:
    kb = knowledge.default()
    RECORDS.mkdir(exist_ok=True)
    for old in RECORDS.glob("*"):
        old.unlink()
    for name, profile in PROFILES.items():
        for suffix, text in rendered(profile, kb, name.startswith("example-")).items():
            (RECORDS / f"{name}.{suffix}").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    regenerate()


def test_every_reason_of_a_stored_plan_reads_back_as_it_was_built(kb):
    """Reason.of_id is the exact inverse of Reason.id for every reason the planner gives
    the examples and the cases, and reads any other text as a condition id, never failing."""
    from pnman.engine.facade import assess
    from pnman.engine.reasons import Reason, Rule
    seen = set()
    for profile in PROFILES.values():
        for step in assess(profile, kb).plan.steps:
            for reason in step.because:
                assert Reason.of_id(reason.id) == reason, reason
                seen.add(reason.rule)
    assert len(seen) >= 12, seen
    for odd in ("plan.preparation.fx.before.f4", "plan.", "plan.optional.for", "goal", "f9.prerequisite.specs_erp", ""):
        assert Reason.of_id(odd) == Reason(Rule.CONDITION, ref=odd)
