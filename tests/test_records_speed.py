"""What makes records fast must not make them different (issue 23): the digest and the
record hash built from parts serialised once equal the whole record serialised afresh,
for any profile, warm or cold, and whatever is kept between records."""
from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from pnman.engine import record as records
from pnman.engine.facade import assess
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.profile import check_profile
from tests.strategies import KB, profiles

JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=5),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                       max_leaves=12)


@given(st.dictionaries(st.text(max_size=6), JSONISH, max_size=6))
def test_assembled_json_is_the_canonical_json(data):
    known = {id(v): (v, records._canonical_bytes(v)) for v in data.values()}
    assert records._assembled(data, known.get) == records._canonical_bytes(data)
    assert records._assembled(data, {}.get) == records._canonical_bytes(data)


@settings(max_examples=60, deadline=None)
@given(profiles(), st.sampled_from(["fr", "en", "ar"]))
def test_digest_and_hash_equal_the_whole_record_serialised_afresh(profile, lang):
    checked = check_profile(profile, KB)
    record = assess(checked, KB).record(timestamp="t")
    assert record["decision_digest"] == records.decision_digest(copy.deepcopy(record))
    sealed = localise(record, Words(lang, KB))
    assert sealed["record_hash"] == records.record_hash(copy.deepcopy(sealed))
    assert sealed["decision_digest"] == records.decision_digest(copy.deepcopy(sealed))


def test_a_part_kept_for_another_record_is_never_taken_for_a_new_one():
    """The serialised parts are found by identity: an equal but other object, or a part
    edited in a copy, is serialised again."""
    checked = check_profile({"employees": 30, "goals": ["website"], "uses_it": True}, KB)
    record = assess(checked, KB).record(timestamp="t")
    edited = copy.deepcopy(record)
    edited["fiches"][0]["status"] = "eligible" if record["fiches"][0]["status"] != "eligible" else "unknown"
    assert records.seal(edited)["record_hash"] == records.record_hash(edited)
    assert records.seal(edited)["record_hash"] != records.seal(record)["record_hash"]


def test_the_kept_entries_stay_within_their_bound(monkeypatch):
    from bench.portfolio import profiles as portfolio
    monkeypatch.setattr(records, "ENTRIES_KEPT", 50)
    monkeypatch.setattr(records, "SERIALISED_KEPT", 12)
    tables = {"_REASONS": 50, "_STATUS_PARTS": 50, "trace_entries": 50, "_SERIALISED": 12}
    table = {name: getattr(records, name) for name in tables}
    table["trace_entries"] = records.trace_entries(KB)       # the knowledge's own
    for name in tables:
        table[name].clear()
    peak = dict.fromkeys(tables, 0)
    for profile in portfolio(120, seed=77):
        record = assess(check_profile(profile, KB), KB).record(timestamp="t")
        assert record["decision_digest"] == records.decision_digest(copy.deepcopy(record))
        for name, bound in tables.items():
            size = len(table[name])
            assert size <= bound, name
            peak[name] = max(peak[name], size)
    assert all(peak[name] > bound - 4 for name, bound in tables.items()), peak   # each filled up, and was emptied


@given(st.dictionaries(st.text(max_size=6), JSONISH, max_size=6))
def test_the_record_hash_of_the_pieces_is_the_hash_of_the_canonical_json(data):
    """seal hashes the assembled pieces joined, and the registry joins them once into its
    payload: the same hash, the same bytes, with parts known or not."""
    whole = records._canonical_bytes(data)
    for known in ({id(v): (v, records._canonical_bytes(v)) for v in data.values()}, {}):
        assert records._sha256(records._assembled(data, known.get)) == records._sha256(whole)
        assert b"".join(records.canonical_pieces(data, known)) == whole


def test_a_sealed_record_keeps_all_its_parts_for_the_registry():
    """kept_parts right after localise (the seal adds the plan and warnings it worded) finds
    every big part of the record, whatever records came before: none is serialised again."""
    from bench.portfolio import profiles as portfolio
    for profile in portfolio(40, seed=5):
        record = localise(assess(check_profile(profile, KB), KB).record(timestamp="t"), Words("fr", KB))
        parts = records.kept_parts(record)
        assert {"fiches", "trace", "profile", "facts", "plan", "warnings"} <= {
            key for key, value in record.items() if id(value) in parts}
        assert len(records._SERIALISED) <= records.SERIALISED_KEPT
