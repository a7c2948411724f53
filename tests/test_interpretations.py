"""Interpretation notes (how the knowledge reads the guide where it is silent) in every
language: the knowledge keeps them in French; each catalogue that translates words every
note under one of the ids that carry it, and every face shows those words. Records keep
the knowledge's French text, so no digest moves."""
from __future__ import annotations

import re

import pytest

from conftest import record_of
from pnman.interview.cli.main import main
from pnman.interview.render.l10n import Words
from pnman.knowledge.locales import available_languages, catalogue
from strategies import KB

ARABIC = re.compile("[\u0600-\u06ff]")
TRANSLATIONS = [lang for lang in available_languages() if catalogue(lang).translation]


def test_there_are_notes_and_translating_catalogues():
    assert len(KB.interpretation_sources) > 30
    assert {"en", "ar"} <= set(TRANSLATIONS)


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_every_interpretation_note_has_words_in_each_translation(lang):
    w = Words(lang, KB)
    missing = [ids[0] for text, ids in KB.interpretation_sources.items() if w.interpretation(text) == text]
    assert missing == []
    for text in KB.interpretation_sources:
        if lang == "ar":
            assert ARABIC.search(w.interpretation(text)), text


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_every_catalogue_note_is_keyed_by_an_id_that_carries_a_note(lang):
    ids = {source for sources in KB.interpretation_sources.values() for source in sources}
    keys = {k.split(".", 1)[1] for k in catalogue(lang).keys if k.startswith("interpretations.")}
    assert keys and keys <= ids, sorted(keys - ids)


def test_french_shows_the_knowledges_own_words():
    w = Words("fr", KB)
    assert all(w.interpretation(text) == text for text in KB.interpretation_sources)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_faces_show_the_translated_notes(capsys, lang):
    """pnman fiches, check and validate: the French notes are gone, the language's are there."""
    w = Words(lang, KB)
    french = {text: w.interpretation(text) for text in KB.interpretation_sources}
    for args in (["fiches", "27"], ["fiches", "9"], ["check", "examples/pe-internet.yaml", "--fiche", "17"]):
        assert main([*args, "--lang", lang, "--format", "text"] if args[0] == "check" else [*args, "--lang", lang]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert not [t for t in french if t[:40] in out], args
        assert any(" ".join(words.split())[:40] in out for words in french.values()), args


def test_records_keep_the_knowledges_notes_and_the_same_digest():
    profile = {"employees": 12, "uses_it": False, "goals": ["network"]}
    records = {lang: record_of(profile, KB, lang=lang) for lang in ("fr", "en", "ar")}
    assert len({r["decision_digest"] for r in records.values()}) == 1
    notes = {lang: [r.get("interpretation") for f in rec["fiches"] for r in f["reasons"]] for lang, rec in records.items()}
    assert notes["fr"] == notes["en"] == notes["ar"] and any(notes["fr"])
