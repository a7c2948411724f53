"""Shared fixtures: the knowledge base (loaded once) and helpers to assess profiles."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pnman import knowledge  # noqa: E402
from pnman.engine.facade import assess  # noqa: E402
from pnman.interview.render.l10n import Words, localise  # noqa: E402


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """Refusals speak the messages' language ($PNMAN_LANG, else $LANG, else French): the
    tests that compare refusals were written in English, so English unless a test chooses
    (tests/test_messages.py makes each refusal in fr, en and ar)."""
    monkeypatch.setenv("PNMAN_LANG", "en")


@pytest.fixture(scope="session")
def kb():
    return knowledge.default()


def record_of(profile, kb, *, timestamp: str | None = "fixed", lang: str | None = None) -> dict:
    """The engine's record of a checked profile; localised when a language is given."""
    record = assess(profile, kb).record(timestamp=timestamp)
    return localise(record, Words(lang, kb)) if lang else record


from pnman.engine.steps import step_label  # noqa: E402,F401 (how cases name a plan step: f13, f9:preparation)


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    """Run the CLI in-process: (exit code, stdout, stderr); `stdin` is fed as standard input."""
    from pnman.interview.cli.main import main
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_clean_line(err: str) -> bool:
    """An exit-2 message as the contract wants it: one line, named, no traceback."""
    return "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("pnman: ")
