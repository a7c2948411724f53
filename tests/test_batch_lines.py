"""A `pnman batch --full` line is `orjson.dumps(line)` and a newline, byte for byte, though its
record's trace entries are spliced in as serialised once (interview/cli/batch/lines.py):
for any profile and language, cold or warm, and past the table's bound."""
from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pnman.engine.facade import assess
from pnman.interview.cli.batch import lines
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.profile import check_profile
from tests.strategies import KB, profiles


def _line(profile, lang: str, number: int = 7) -> dict:
    record = localise(assess(check_profile(profile, KB), KB).record(timestamp="batch"), Words(lang, KB))
    return {"row": number, "record": record}


@settings(max_examples=60, deadline=None)
@given(profiles(), st.sampled_from(["fr", "en", "ar"]), st.booleans())
def test_a_full_line_is_the_line_serialised_whole(profile, lang, cold):
    if cold:
        lines._ENTRIES.clear()
    line = _line(profile, lang)
    assert lines.line_bytes(line) == orjson.dumps(line) + b"\n"
    assert lines.line_bytes(line) == orjson.dumps(line) + b"\n"        # its entries now kept


def test_other_lines_are_serialised_as_they_are():
    for line in ({"row": 3, "error": "key 'employees': not a number"}, {"row": 4, "name": "É", "statuses": {"1": "x"}},
                 {"row": 5, "record": {"trace": "not a list"}}, {"row": 6, "record": {"trace": [1, "a", None]}}):
        assert lines.line_bytes(line) == orjson.dumps(line) + b"\n"


def test_a_trace_entry_is_serialised_once_for_every_line_that_carries_it(monkeypatch):
    """What makes the line cheaper: a second record with the same trace serialises only itself."""
    calls = []

    class Counting:
        Fragment = orjson.Fragment
        OPT_APPEND_NEWLINE = orjson.OPT_APPEND_NEWLINE

        @staticmethod
        def dumps(value, **options):
            calls.append(value)
            return orjson.dumps(value, **options)

    monkeypatch.setattr(lines, "orjson", Counting)
    lines._ENTRIES.clear()
    first, second = (_line({"employees": 30, "goals": ["website"], "uses_it": True}, "fr", n) for n in (1, 2))
    assert [id(e) for e in first["record"]["trace"]] == [id(e) for e in second["record"]["trace"]]
    lines.line_bytes(first)
    calls.clear()
    assert lines.line_bytes(second) == orjson.dumps(second) + b"\n"
    assert len(calls) == 1 and calls[0]["row"] == 2         # the line alone, its trace spliced in as made before
    assert all(isinstance(entry, orjson.Fragment) for entry in calls[0]["record"]["trace"])


def test_the_kept_entries_stay_within_their_bound(monkeypatch):
    from bench.portfolio import profiles as portfolio
    monkeypatch.setattr(lines, "ENTRIES_KEPT", 40)
    lines._ENTRIES.clear()
    peak = 0
    for number, profile in enumerate(portfolio(60, seed=5)):
        line = _line(profile, "en", number)
        assert lines.line_bytes(line) == orjson.dumps(line) + b"\n"
        assert len(lines._ENTRIES) <= 40
        peak = max(peak, len(lines._ENTRIES))
    assert peak > 30, peak       # filled up, and was emptied


@settings(max_examples=80, deadline=None)
@given(profiles())
def test_a_full_lines_summary_fields_come_from_its_assessment_unchanged(profile):
    """A full row's summary is taken from its assessment, not from walking its record: the same
    fields as the record gives (and as the compact line gives)."""
    from pnman.interview.cli.batch.assessing import compact
    from pnman.interview.cli.batch.summary import assessed_fields, summary_fields
    assessment = assess(check_profile(profile, KB), KB)
    fields = assessed_fields(assessment.evaluation, assessment.plan)
    assert fields == summary_fields({"record": assessment.record(timestamp="batch")}, KB)
    assert fields == summary_fields(compact(assessment.evaluation, assessment.plan, KB), KB)
    assert list(fields["statuses"]) == [str(n) for n in sorted(KB.fiches)]
