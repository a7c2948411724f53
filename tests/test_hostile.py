"""Hostile inputs: every reader rejects bad input with exit 2 and one clear line, never a traceback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import one_clean_line, run
from pnman.interview.cli.main import main
from pnman.interview.files import write_atomic
from pnman.knowledge.errors import InputError
from strategies import KB, profiles

ROOT = Path(__file__).resolve().parent.parent






@pytest.mark.parametrize("content, needle", [
    (b"employees: 12\n" + b"x" * 1_100_000, "larger than"),
    (("goals: " + "[" * 60 + "]" * 60 + "\nemployees: 3\n").encode(), "nesting deeper"),
    (("{\"employees\": 3, \"goals\": " + "[" * 100_000 + "]" * 100_000 + "}").encode(), "nesting"),
    (b"lol: &a [x, x]\nlol2: &b [*a, *a]\nlol3: [*b, *b]\n", "aliases"),
    (b"employees: 10000001\n", "whole number"),
    (b"employees: 12\nworkstations_needed: 1e9\n", "whole number"),
    (b"employees: .nan\n", "whole number"),
    (b"employees: 12\nname: !!python/object:os.system [ls]\n", "invalid YAML"),
    (b"\"just a string\"\n", "top level must be a mapping"),
    (b"employees: 12\ngoals: website\n", "a list"),
    (b"employees: 12\nrecommendations: [erp, 3]\n", "recommendations"),
    (b"employees: null\n", "required"),
    (b"\xff\xfeemployees: 1\n", "not UTF-8"),
])
def test_hostile_profiles(capsys, tmp_path, content, needle):
    suffix = ".json" if content.startswith(b"{") else ".yaml"
    path = tmp_path / f"p{suffix}"
    path.write_bytes(content)
    code, out, err = run(capsys, "assess", str(path))
    assert code == 2 and out == ""
    assert one_clean_line(err), err
    assert needle in err and str(path) in err


def test_wrong_extension_and_directory(capsys, tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("employees: 3\n", encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    assert code == 2 and ".yaml, .yml or .json" in err
    code, _, err = run(capsys, "assess", str(tmp_path))
    assert code == 2 and "directory" in err


def test_hostile_result_files(capsys, tmp_path):
    cases = {
        "list.json": "[1, 2]",
        "schema.json": json.dumps({"schema": "pnman-assessment/1"}),
        "profile.json": json.dumps({"schema": "pnman-assessment/1", "profile": {"employees": "x"}, "fiches": [],
                                    "plan": [], "knowledge_version": "kb-1"}),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        for command in (["audit", str(path)], ["explain", str(path), "--fiche", "3"]):
            code, _, err = run(capsys, *command)
            assert code == 2, (name, command, err)
            assert one_clean_line(err) and name in err


def test_atomic_write_survives_a_failure(tmp_path, monkeypatch):
    target = tmp_path / "session.json"
    write_atomic(target, "old")

    def boom(*_):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="cannot be written"):     # one clear line, exit 2
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]


WRITER = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["PNMAN_HOME"] = {home!r}
from pnman.knowledge import default
from pnman.interview.questionnaire.session import open_session
kb = default()
s = open_session("crash", kb, resume={resume}, lang="fr")
s.answers["employees"] = 0
s.save()                        # one whole session on disk before the kills begin
print("ready", flush=True)
i = 0
while True:
    i += 1
    s.answers["employees"] = i % 250
    s.save()
    s.answers["name"] = "x" * (i % 500)
    s.save()
"""


@pytest.mark.slow
def test_killing_the_process_never_leaves_a_broken_session(tmp_path):
    home = str(tmp_path)
    for attempt in range(4):
        script = WRITER.format(root=str(ROOT), home=home, resume=attempt > 0)
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.07 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads((tmp_path / "sessions" / "crash.json").read_text(encoding="utf-8"))
        assert data["schema"] == "pnman-session/1" and isinstance(data["answers"]["employees"], int)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
                           | st.text(max_size=20),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
                           max_leaves=12)
hostile_profiles = st.one_of(
    profiles(),
    st.fixed_dictionaries({"employees": st.integers(0, 300),
                           "name": st.text(alphabet="[]/<>&\"'{}%\\ ab\n\r\t\x00é", max_size=24)}),
    st.dictionaries(st.sampled_from(sorted(KB.facts) + ["employes", "goal", "x"]), json_values, max_size=8),
    json_values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(hostile_profiles.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)),
       st.sampled_from([".json", ".yaml"]))
@pytest.mark.slow
def test_fuzz_exit_0_or_2_never_a_traceback(tmp_path_factory, capsys, content, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"p{suffix}"
    path.write_bytes(content)
    fmt = "text" if len(content) % 2 else "json"     # the text renderer meets hostile names too
    code = main(["assess", str(path), "--format", fmt])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert one_clean_line(err)
    elif fmt == "json":
        result = json.loads(out)
        statuses = {e["fiche"]: e["status"] for e in result["fiches"]}
        assert len(statuses) == 27
        assert all(statuses[s["fiche"]] != "ineligible" for s in result["plan"] if s["kind"] == "fiche")


def test_batch_full_records_are_auditable(capsys, tmp_path, kb):
    from pnman.engine.audit import audit
    source = tmp_path / "p.jsonl"
    from bench.portfolio import profiles as portfolio
    source.write_text("\n".join(json.dumps(r) for r in portfolio(5, seed=2)) + "\n", encoding="utf-8")
    out = tmp_path / "full.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(out), "--full")[0] == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(audit(line["record"], kb)["verdict"] == "match" for line in lines)
    compact = tmp_path / "compact.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(compact))[0] == 0
    first = json.loads(compact.read_text(encoding="utf-8").splitlines()[0])
    assert first["statuses"] == {str(e["fiche"]): e["status"] for e in lines[0]["record"]["fiches"]}
    assert first["profile"] == lines[0]["record"]["profile"]
