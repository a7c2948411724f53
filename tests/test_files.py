"""Files and devices: what `-o`, profiles and sessions may and may not touch."""
from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pnman.interview import files
from conftest import run
from pnman.knowledge.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "me-erp.yaml")




def test_a_device_is_never_replaced(capsys):
    code, _, err = run(capsys, "assess", EXAMPLE, "-o", "/dev/null")
    assert code == 2 and "not a regular file" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_standard_output_by_name(capsys, target):
    code, out, _ = run(capsys, "assess", EXAMPLE, "--format", "json", "-o", target)
    assert code == 0 and '"decision_digest"' in out


def test_a_link_is_replaced_and_its_target_left_alone(capsys, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "report.json"
    link.symlink_to(target)
    code, _, _ = run(capsys, "assess", EXAMPLE, "--format", "json", "-o", str(link))
    assert code == 0 and not link.is_symlink() and '"decision_digest"' in link.read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_permissions_of_an_existing_output_are_kept(capsys, tmp_path):
    out = tmp_path / "private.json"
    out.write_text("{}", encoding="utf-8")
    out.chmod(0o600)
    assert run(capsys, "assess", EXAMPLE, "--format", "json", "-o", str(out))[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_fifo_is_refused_not_waited_on(capsys, tmp_path):
    fifo = tmp_path / "profile.yaml"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "assess", str(fifo))       # would block forever if opened
    assert code == 2 and "not a regular file" in err


def test_a_full_disk_is_a_clear_error_and_changes_nothing(capsys, tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    out.write_text("old\n", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "fsync", full)
    code, _, err = run(capsys, "assess", EXAMPLE, "--format", "json", "-o", str(out))
    assert code == 2 and "the disk is full" in err and "internal error" not in err
    assert out.read_text(encoding="utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_an_unwritable_folder_is_a_clear_error(capsys):
    code, _, err = run(capsys, "assess", EXAMPLE, "-o", "/proc/pnman-report.txt")
    assert code == 2 and "cannot be written" in err and "internal error" not in err


def test_a_closed_standard_output_is_a_clear_error():
    done = subprocess.run([sys.executable, "-m", "pnman", "assess", EXAMPLE], cwd=ROOT,
                          preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2 and "standard output is closed" in done.stderr


def test_a_sessions_folder_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch):
    from pnman.interview.questionnaire.session import sessions_dir
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv("PNMAN_HOME", str(not_a_folder))
    with pytest.raises(InputError, match="sessions folder cannot be created.*PNMAN_HOME"):
        sessions_dir()


def test_a_session_lock_never_follows_a_link(tmp_path, monkeypatch, kb):
    from pnman.interview.questionnaire.session import open_session
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    (tmp_path / "sessions").mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (tmp_path / "sessions" / "s.lock").symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        open_session("s", kb, resume=False, lang="fr")
    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_a_fifo_as_session_file_is_refused(tmp_path, monkeypatch, kb):
    from pnman.interview.questionnaire.session import open_session
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    (tmp_path / "sessions").mkdir()
    os.mkfifo(tmp_path / "sessions" / "s.json")
    with pytest.raises(InputError, match="not a regular file"):
        open_session("s", kb, resume=True, lang="fr")
