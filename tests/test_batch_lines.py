"""A `pnman batch --full` line holds its record in canonical form (sorted keys, compact: the
text its record_hash is computed on), made from the pieces its digest and seal serialised
(interview/cli/batch/lines.py): the same bytes as serialising it whole, for any profile and
language, with the pieces or without them."""
from __future__ import annotations

import hashlib

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pnman.engine import record as records
from pnman.engine.facade import assess
from pnman.interview.cli.batch import lines
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.profile import check_profile
from tests.strategies import KB, profiles


def _line(profile, lang: str, number: int = 7) -> tuple[dict, dict]:
    """A full row's line and its record's kept parts, as the batch makes them."""
    record = localise(assess(check_profile(profile, KB), KB).record(timestamp="batch"), Words(lang, KB))
    return {"row": number, "record": record}, records.kept_parts(record)


def _expected(line: dict) -> bytes:
    whole = records.canonical_json(line["record"]).encode()
    return b'{"row":%d,"record":%s}\n' % (line["row"], whole)


@settings(max_examples=60, deadline=None)
@given(profiles(), st.sampled_from(["fr", "en", "ar"]), st.booleans())
def test_a_full_lines_record_is_its_canonical_json(profile, lang, with_parts):
    line, parts = _line(profile, lang)
    data = lines.line_bytes(line, parts if with_parts else None)
    assert data == _expected(line)
    assert orjson.loads(data) == orjson.loads(orjson.dumps(line))      # the same values as the line


def test_the_records_text_in_the_line_is_what_its_hash_covers():
    """An auditor can check record_hash on the line as it stands: the record's text with its
    record_hash taken out hashes to it."""
    line, parts = _line({"employees": 30, "goals": ["website"], "uses_it": True}, "ar")
    text = lines.line_bytes(line, parts)[len(b'{"row":7,"record":'):-2]
    recorded = line["record"]["record_hash"]
    without = text.replace(b',"record_hash":"%s"' % recorded.encode(), b"")
    assert len(without) < len(text)
    assert "sha256:" + hashlib.sha256(without).hexdigest() == recorded


def test_parts_that_are_not_the_records_are_not_used():
    """Parts kept for another record (a row recorded before: its line carries the record as
    stored) are not spliced in: the record is serialised whole."""
    line, _ = _line({"employees": 30, "goals": ["website"]}, "fr")
    _, others = _line({"employees": 8, "goals": ["erp"], "uses_it": False}, "fr")
    assert lines.line_bytes(line, others) == _expected(line)


def test_other_lines_are_serialised_as_they_are():
    for line in ({"row": 3, "error": "key 'employees': not a number"}, {"row": 4, "name": "É", "statuses": {"1": "x"}},
                 {"row": 5, "record": "not a record"}, {"row": 6, "record": [1, "a", None]}):
        assert lines.line_bytes(line) == orjson.dumps(line) + b"\n"


def test_the_records_big_parts_are_not_serialised_again(monkeypatch):
    """What makes the line cheap: with its parts, none of the record's lists (fiches, trace,
    plan…) is serialised for the line."""
    line, parts = _line({"employees": 30, "goals": ["website", "erp"], "uses_it": True}, "fr")
    serialised = []
    real = records._canonical_bytes
    monkeypatch.setattr(records, "_canonical_bytes", lambda value: serialised.append(value) or real(value))
    assert lines.line_bytes(line, parts) == _expected(line)      # (_expected serialises the record whole)
    serialised.clear()
    lines.line_bytes(line, parts)
    assert serialised and not [value for value in serialised if isinstance(value, (list, dict))], serialised


@settings(max_examples=80, deadline=None)
@given(profiles())
def test_a_full_lines_summary_fields_come_from_its_assessment_unchanged(profile):
    """A full row's summary is taken from its assessment, not from walking its record: the same
    fields as the record gives (the compact line's statuses and blocking are these too)."""
    from pnman.interview.cli.batch.summary import assessed_fields, summary_fields
    assessment = assess(check_profile(profile, KB), KB)
    fields = assessed_fields(assessment.evaluation, assessment.plan)
    assert fields == summary_fields({"record": assessment.record(timestamp="batch")}, KB)
    assert list(fields["statuses"]) == [str(n) for n in sorted(KB.fiches)]
