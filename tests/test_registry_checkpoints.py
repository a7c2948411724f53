"""Signed checkpoints (contract §13) against a forger who holds the file and pnman's own
hashing: a chain rewritten and rehashed, or cut below a checkpoint, verifies without a key
and fails with the agency's public key, naming the checkpoint; a file that is not a registry
is never re-created; a test vector pins the chain's hashes."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import zlib
from pathlib import Path

import pytest

from conftest import one_clean_line, record_of, run
from pnman.records.chain import entry_hash, new_id, payload_bytes, unpack
from pnman.records.checkpoints import load_private
from pnman.records.registry import Registry
from pnman.records.schema import COLUMNS

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tpe-demarrage.yaml"
PROFILES = [{"employees": 12 + n, "goals": ["network"], "name": f"Entreprise {n}"} for n in range(8)]


@pytest.fixture
def keys(tmp_path, capsys):
    code, out, err = run(capsys, "keys", "new", "-o", str(tmp_path / "agency.key"), "--lang", "en")
    assert code == 0, err
    assert "sha256:" in out
    return tmp_path / "agency.key", tmp_path / "agency.pub"


def _registry(tmp_path, kb, keys, layout: str):
    """A registry laid out as `layout`: `a` an assessment, `c` a checkpoint (agency's key)."""
    path = tmp_path / "r.sqlite3"
    key = load_private(keys[0])
    records = iter(record_of(p, kb, lang="fr") for p in PROFILES)
    with Registry.open(path) as registry:
        for kind in layout:
            if kind == "a":
                registry.append_assessment(next(records))
            else:
                registry.add_checkpoint(key)
    return path


def _rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()


def _forge(path, rows: list[tuple], change=None) -> None:
    """What a forger does with pnman's own functions: drop the triggers, write `rows` again as a
    chain numbered and linked anew (`change(seq, payload_bytes)` may alter a payload), every
    hash recomputed, and put the triggers back so that nothing looks touched."""
    conn = sqlite3.connect(path, isolation_level=None)
    triggers = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'").fetchall()
    conn.execute("BEGIN")
    for name, in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'"
                              ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DELETE FROM entries")
    head = None
    for seq, row in enumerate(rows, 1):
        _, old_id, created_at, kind, blob, _, _, *index = row
        data = unpack(blob)
        if change is not None:
            data = change(seq, data)
        entry_id = old_id if int(old_id.split("-")[0]) == seq else new_id(seq)
        digest = entry_hash(entry_id, created_at, kind, data, head)
        conn.execute(f"INSERT INTO entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, entry_id, created_at, kind, zlib.compress(data), head, digest, *index))
        head = digest
    for sql, in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


def _verify(capsys, path, *extra):
    code, out, err = run(capsys, "registry", "verify", "--registry", str(path), "--lang", "en", *extra)
    return code, out + err


def test_a_good_chain_with_checkpoints_verifies_with_the_key(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aaacaac")
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 0, text
    assert "Signed checkpoints: 2" in text and "covers entries 1 to 6" in text
    code, out, _ = run(capsys, "registry", "verify", "--registry", str(path), "--pub", str(keys[1]), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and [c["count"] for c in data["checkpoints"]["checked"]] == [3, 6]
    # without the key the checkpoints are counted, not checked
    code, text = _verify(capsys, path)
    assert code == 0 and "not checked" in text


def test_an_entry_rewritten_and_every_later_one_rehashed_fails_with_the_key(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aaacaa")
    rows = _rows(path)
    checkpoint_id = rows[3][1]

    def rename(seq, data):      # entry 2: another company name, in its record and its index
        return data.replace(b"Entreprise 1", b"Entreprise X") if seq == 2 else data
    rows[1] = rows[1][:7] + ("Entreprise X",) + rows[1][8:]     # and its list column
    _forge(path, rows, rename)
    assert Registry.open(path, create=False).list()[-2].name == "Entreprise X"
    # the chain alone cannot tell: the forger rehashed it with pnman's own functions
    assert _verify(capsys, path)[0] == 0
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1
    assert f"Checkpoint {checkpoint_id} (no. 4) no longer holds" in text and "rewritten below it" in text


def test_a_chain_rehashed_after_a_change_that_keeps_the_index_verifies_without_key_only(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aacaa")
    rows = _rows(path)

    def change_a_figure(seq, data):     # entry 1: a figure of its record (not in the list columns)
        assert b'"employees":12' in data or seq != 1
        return data.replace(b'"employees":12', b'"employees":19') if seq == 1 else data
    _forge(path, rows, change_a_figure)
    assert _verify(capsys, path)[0] == 0                     # hash chain alone: fooled
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1 and f"Checkpoint {rows[2][1]}" in text and "entry no. 2, the last one it covers" in text


def test_entries_cut_below_a_checkpoint_fail_with_the_key(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aaaacaa")
    rows = _rows(path)
    _forge(path, rows[:1] + rows[3:])       # entries 2 and 3 cut, the rest renumbered and rehashed
    assert _verify(capsys, path)[0] == 0
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1 and "(no. 3) no longer holds" in text and "the chain was cut below it" in text


def test_the_last_entries_cut_with_their_checkpoint_fail_with_the_key_or_the_kept_head(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aaaca")
    rows = _rows(path)
    kept = rows[3][6]       # the checkpoint's hash, as `registry checkpoint` printed it
    assert _verify(capsys, path, "--head", kept)[0] == 0
    _forge(path, rows[:2])  # the tail cut, the checkpoint with it
    assert _verify(capsys, path)[0] == 0
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1 and "No signed checkpoint" in text
    code, text = _verify(capsys, path, "--head", kept)
    assert code == 1 and "is no entry of the chain" in text


def test_a_cut_above_an_older_checkpoint_shows_only_against_the_kept_head(tmp_path, kb, keys, capsys):
    """What a checkpoint does not do (README): entries after the last surviving checkpoint."""
    path = _registry(tmp_path, kb, keys, "aacaac")
    rows = _rows(path)
    latest = rows[-1][6]
    _forge(path, rows[:4])
    assert _verify(capsys, path, "--pub", str(keys[1]))[0] == 0
    assert _verify(capsys, path, "--pub", str(keys[1]), "--head", latest)[0] == 1


def test_a_checkpoint_signed_by_another_key_fails(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aa")
    assert run(capsys, "keys", "new", "-o", str(tmp_path / "other"))[0] == 0
    assert (tmp_path / "other.key").exists() and (tmp_path / "other.pub").exists()
    assert run(capsys, "registry", "checkpoint", "--key", str(tmp_path / "other.key"), "--registry", str(path))[0] == 0
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1 and "signed by another key" in text
    assert _verify(capsys, path, "--pub", str(tmp_path / "other.pub"))[0] == 0


def test_a_checkpoint_whose_signed_head_was_changed_and_rehashed_fails(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "aac")
    rows = _rows(path)

    def lower_count(seq, data):
        return data.replace(b'"count":2', b'"count":1') if seq == 3 else data
    _forge(path, rows, lower_count)
    assert _verify(capsys, path)[0] == 0
    code, text = _verify(capsys, path, "--pub", str(keys[1]))
    assert code == 1 and "its signature does not match" in text


def test_keys_new_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path, keys, capsys):
    private, public = keys
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    before = private.read_bytes()
    code, _, err = run(capsys, "keys", "new", "-o", str(private))
    assert code == 2 and one_clean_line(err) and "never written over" in err and private.read_bytes() == before


def test_checkpoint_refuses_a_bad_key_and_an_empty_registry(tmp_path, kb, keys, capsys):
    path = tmp_path / "r.sqlite3"
    code, _, err = run(capsys, "registry", "checkpoint", "--key", str(keys[1]), "--registry", str(path))
    assert code == 2 and one_clean_line(err)                         # the public key: not a private one
    record = record_of(PROFILES[0], kb, lang="fr")
    with Registry.open(path) as registry:
        registry.append_assessment(record)
    code, _, err = run(capsys, "registry", "verify", "--registry", str(path), "--pub", str(keys[0]))
    assert code == 2 and one_clean_line(err) and "public key" in err
    empty = tmp_path / "new.sqlite3"
    Registry.open(empty)._conn(write=True)      # a registry with no entry
    code, _, err = run(capsys, "registry", "checkpoint", "--key", str(keys[0]), "--registry", str(empty))
    assert code == 2 and one_clean_line(err) and "nothing to sign" in err


def test_a_report_prints_the_latest_checkpoint_beside_the_chain_head(tmp_path, kb, keys, capsys):
    path = _registry(tmp_path, kb, keys, "ac")
    checkpoint = _rows(path)[1]
    profile = tmp_path / "p.yaml"
    profile.write_text("employees: 30\ngoals: [network]\nname: A & B\n")
    code, out, err = run(capsys, "assess", str(profile), "--record", "--registry", str(path), "--format", "markdown",
                         "--lang", "en")
    assert code == 0, err
    assert f"latest signed checkpoint then: entry {checkpoint[1]}, covering entries 1 to 1" in out
    assert checkpoint[6] in out


# -- no silent re-creation ------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"not a database\n", b"SQLite format 3\x00" + b"\x00" * 84])
def test_an_existing_file_that_is_no_registry_is_refused_and_left_as_it_is(tmp_path, capsys, content):
    path = tmp_path / "r.sqlite3"
    path.write_bytes(content)
    for argv in (("registry", "verify"), ("registry", "list"), ("assess", str(EXAMPLE), "--record")):
        code, _, err = run(capsys, *argv, "--registry", str(path))
        assert code == 2 and one_clean_line(err) and str(path) in err, (argv, err)
        assert path.read_bytes() == content


def test_a_missing_registry_is_created_at_the_first_append_only(tmp_path, kb, capsys):
    path = tmp_path / "sub" / "r.sqlite3"
    code, _, err = run(capsys, "registry", "verify", "--registry", str(path))
    assert code == 2 and "no registry here yet" in err and not path.exists()
    registry = Registry.open(path)          # opened to record: nothing made yet
    assert not path.exists()
    registry.append_assessment(record_of(PROFILES[0], kb, lang="fr"))
    assert path.exists() and registry.count() == 1 and registry.verify().ok
    registry.close()
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".new")]


def test_a_registry_of_schema_1_is_migrated_and_still_verifies(tmp_path, kb):
    """A file written before checkpoints and sources (schema 1): read as it is, migrated by
    the first append, its entries and hashes kept (tests/test_registry_read_only.py: more)."""
    from pnman.records import schema
    from registry_files import schema_1_registry
    path = tmp_path / "old.sqlite3"
    rows = schema_1_registry(path, kb)
    with Registry.open(path, create=False) as registry:
        assert registry.verify().ok and registry.count() == 3
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1       # reading never migrates
        registry.append_assessment(record_of(PROFILES[3], kb, lang="fr"))
        assert registry.verify().ok and registry.count() == 4
        assert [r[:12] for r in _rows(path)][:3] == [r[:12] for r in rows]
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION


# -- a test vector: a known entry gives known hashes -------------------------------------------

def test_the_chain_hashes_of_a_known_entry_are_pinned():
    """If a new orjson (or anything else) changed the canonical bytes, every chain would stop
    verifying: these figures catch it first."""
    payload = {"index": {"decision_digest": "sha256:" + "0" * 64, "name": "Société « Test » & Fils", "plan": [1, 13],
                         "size_class": "PE"},
               "record": {"b": [1.5, None, True], "a": "é\u0627\u2028", "n": 10 ** 15}}
    data = payload_bytes(payload)
    assert data == ('{"index":{"decision_digest":"sha256:' + "0" * 64 + '","name":"Société « Test » & Fils",'
                    '"plan":[1,13],"size_class":"PE"},"record":{"a":"é\u0627\u2028","b":[1.5,null,true],'
                    '"n":1000000000000000}}').encode("utf-8")
    first = entry_hash("1-abcdef", "2026-01-02T03:04:05.000006+00:00", "assessment", data, None)
    second = entry_hash("2-123456", "2026-01-02T03:04:06.000000+00:00", "checkpoint", b'{"count":1}', first)
    assert first == PINNED_FIRST
    assert second == PINNED_SECOND
    # and the standard library's json, another writer of the same canonical form, agrees
    canonical = json.dumps({"created_at": "2026-01-02T03:04:05.000006+00:00", "id": "1-abcdef", "kind": "assessment",
                            "payload": payload, "prev_hash": None}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    assert "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest() == first


PINNED_FIRST = "sha256:560c8b116bb75e4d43c885ec634a6c1bbbc888df8ad35bb2ce71e14a37c0592d"
PINNED_SECOND = "sha256:fe750800c94a68b17a0a44953349921cb624c550bcc7d19e4eb7152e83eda192"


def test_the_registry_line_keeps_ids_hashes_and_times_left_to_right_in_arabic(kb):
    from pnman.interview.render.footer import registry_footer
    from pnman.interview.render.l10n import Words
    record = {"registry": {"entry": "4-65e44c", "head": "sha256:" + "a" * 64, "replaces": "3-c27a11",
                           "checkpoint": {"entry": "2-a81fa5", "hash": "sha256:" + "b" * 64, "count": 1,
                                          "at": "2026-12-06T18:33:46.123456+00:00"}}}
    arabic = registry_footer(record, Words("ar", kb))
    for text in ("4-65e44c", "sha256:" + "a" * 64, "3-c27a11", "2-a81fa5", "2026-12-06 18:33:46 UTC"):
        assert f"\u2066{text}\u2069" in arabic
    french = registry_footer(record, Words("fr", kb))
    assert "\u2066" not in french and "entrée 2-a81fa5, couvrant les entrées 1 à 1 (2026-12-06 18:33:46 UTC)" in french
