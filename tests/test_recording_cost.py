"""What makes recording cheaper must not change what is recorded (issue 21, Build 5): the
payload's bytes assembled from the parts the record's digest and seal serialised equal its
canonical JSON serialised afresh; payloads compressed by ISA-L are plain zlib streams and
entries compressed by zlib before still read and verify; a batch appends a chunk of rows in
one transaction, each row still recorded once, and a refusal of the registry becomes the
error of each row of the chunk."""
from __future__ import annotations

import copy
import json
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import record_of, run
from pnman.engine import record as records
from pnman.engine.facade import assess
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.errors import InputError
from pnman.knowledge.profile import check_profile
from pnman.records import append as append_module
from pnman.records.chain import pack, unpack
from pnman.records.registry import Registry
from pnman.records.store import RegistryStore
from tests.strategies import KB, profiles

PORTFOLIO = "sha256:" + "c" * 64


@settings(max_examples=40, deadline=None)
@given(profiles(), st.sampled_from(["fr", "en", "ar"]), st.booleans())
def test_the_stored_bytes_are_the_canonical_json_of_the_payload(profile, lang, cold):
    record = localise(assess(check_profile(profile, KB), KB).record(timestamp="t"), Words(lang, KB))
    parts = records.kept_parts(record)
    if cold:        # the table of kept parts emptied meanwhile (a batch's chunk): the kept parts still serve
        records._SERIALISED.clear()
    stored = {**record, "registry": {"entry": "7-abcdef", "head": "sha256:" + "1" * 64}}
    index = append_module.assessment_index(stored)
    data = append_module.assessment_payload_bytes(index, stored, parts)
    assert data == records.canonical_json({"index": index, "record": copy.deepcopy(stored)}).encode("utf-8")
    assert records.canonical_bytes(stored) == records._canonical_bytes(copy.deepcopy(stored))


def test_payloads_are_zlib_streams_and_older_zlib_entries_still_read_and_verify(tmp_path, kb):
    data = json.dumps({"a": list(range(2000))}).encode()
    assert zlib.decompress(pack(data)) == data and unpack(zlib.compress(data, 3)) == data
    path = tmp_path / "r.sqlite3"
    with Registry.open(path) as registry:
        first = registry.append_assessment(record_of({"employees": 12, "goals": ["network"]}, kb, lang="fr"))
    import sqlite3
    conn = sqlite3.connect(path, isolation_level=None)      # as pnman wrote it before: zlib level 3
    blob = conn.execute("SELECT payload FROM entries WHERE seq = 1").fetchone()[0]
    conn.execute("DROP TRIGGER entries_never_updated")
    conn.execute("UPDATE entries SET payload = ? WHERE seq = 1", (zlib.compress(unpack(blob), 3),))
    conn.execute("CREATE TRIGGER entries_never_updated BEFORE UPDATE ON entries "
                 "BEGIN SELECT RAISE(ABORT, 'pnman registry: entries are append-only (never updated)'); END")
    conn.close()
    with Registry.open(path) as registry:
        registry.append_assessment(record_of({"employees": 40, "goals": ["website"]}, kb, lang="en"))
        assert registry.verify().ok and registry.count() == 2
        assert registry.show(first.id).record["profile"]["employees"] == 12


def _portfolio(tmp_path, rows: int):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"name": f"E{n}", "employees": 10 + n % 200, "goals": ["network"]}) + "\n"
                            for n in range(rows)), encoding="utf-8")
    return path


def test_a_batch_appends_a_chunk_of_rows_in_one_transaction_each_row_once(capsys, tmp_path, monkeypatch):
    transactions = []
    begin = append_module.begin_immediate
    monkeypatch.setattr(append_module, "begin_immediate", lambda conn: (transactions.append(1), begin(conn)))
    source, registry = _portfolio(tmp_path, 150), tmp_path / "r.sqlite3"
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "o.jsonl"), "--jobs", "1",
                       "--record", "--registry", str(registry))
    assert code == 0, err
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [x["row"] for x in lines] == list(range(1, 151)) and all("entry" in x for x in lines)
    assert 1 < len(transactions) <= 30, len(transactions)         # chunks (of up to 18 rows here), not rows
    with Registry.open(registry, create=False) as opened:
        assert opened.count() == 150 and opened.verify().ok
        entries = {s.id: opened.get(s.id).payload["index"]["source"]["row"] for s in opened.list()}
    assert {x["entry"]: x["row"] for x in lines} == entries
    transactions.clear()        # a rerun: every row found at once, nothing appended, no transaction taken
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "again.jsonl"), "--jobs", "1",
                       "--record", "--registry", str(registry))
    again = [json.loads(x) for x in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert code == 0 and transactions == [] and all(x["recorded_before"] for x in again)
    assert [x["entry"] for x in again] == [x["entry"] for x in lines]


def test_a_registry_refusal_is_the_error_of_each_row_of_the_chunk(capsys, tmp_path, monkeypatch):
    def refuse(self, records, **_):
        raise InputError("cannot be written (database or disk is full)", file=str(self.path))
    monkeypatch.setattr(RegistryStore, "save_many", refuse)
    code, _, err = run(capsys, "batch", str(_portfolio(tmp_path, 20)), "-o", str(tmp_path / "o.jsonl"), "--jobs", "1",
                       "--record", "--registry", str(tmp_path / "r.sqlite3"), "--lang", "en")
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [x["row"] for x in lines] == list(range(1, 21))
    assert all(set(x) == {"row", "error"} and "disk is full" in x["error"] for x in lines), lines[0]
    assert "Traceback" not in err
