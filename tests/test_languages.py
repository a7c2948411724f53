"""Languages beyond the words: CLDR plurals and numbers (Babel), right-to-left reports.

A catalogue entry may be a plural mapping ({one, other} in French, six forms in Arabic),
chosen by {count}; amounts are grouped as the catalogue's locale groups them, in Latin
digits; an Arabic report reads right to left and says it is a translation.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hypothesis import given, settings

from conftest import record_of
from strategies import KB, profiles
from pnman.interview.render.html import assessment_html
from pnman.interview.render.l10n import Words
from pnman.knowledge.errors import KnowledgeError
from pnman.knowledge.locales import Catalogue, available_languages, flatten
from pnman.knowledge.profile import check_profile

ROOT = Path(__file__).resolve().parents[1]

NBSP = "\u00a0"
needs_arabic = pytest.mark.skipif("ar" not in available_languages(), reason="no Arabic catalogue (knowledge/locales/ar.yaml)")
FORMS = {"zero": "لا بطاقة", "one": "بطاقة واحدة", "two": "بطاقتان", "few": "{count} بطاقات", "many": "{count} بطاقة",
         "other": "{count} بطاقةً"}


def test_a_plural_mapping_is_one_entry_not_nested_keys():
    tree = {"report": {"statuses": {"one": "{count} fiche", "other": "{count} fiches"},
                       "choices": {"other": "autre", "network": "réseau"}}}
    assert dict(flatten(tree)) == {"report.statuses": {"one": "{count} fiche", "other": "{count} fiches"},
                                   "report.choices.other": "autre", "report.choices.network": "réseau"}


@pytest.mark.parametrize("count, form", [(0, "zero"), (1, "one"), (2, "two"), (3, "few"), (10, "few"), (11, "many"),
                                         (99, "many"), (100, "other"), (102, "other"), (111, "many")])
def test_arabic_plural_forms_follow_cldr(count, form):
    cat = Catalogue("ar", {"x": FORMS}, "ar.yaml")
    assert cat.plural_form(count) == form
    assert cat.text("x", count=count) == FORMS[form].format(count=count)


def test_french_and_english_plurals_and_the_fallback_to_other():
    fr = Catalogue("fr", {"x": {"one": "{n} réponse", "other": "{n} réponses"}}, "fr.yaml")
    assert [fr.text("x", n=n) for n in (0, 1, 2)] == ["0 réponse", "1 réponse", "2 réponses"]
    assert fr.text("x", n=1_000_000) == "1000000 réponses"       # CLDR's « many » is absent: other
    en = Catalogue("en", {"x": {"one": "{count} answer", "other": "{count} answers"}}, "en.yaml")
    assert [en.text("x", count=n) for n in (0, 1, 2)] == ["0 answers", "1 answer", "2 answers"]
    with pytest.raises(KnowledgeError, match="plural entry needs"):
        en.text("x")


def test_the_catalogues_plural_entries_read_well(kb):
    fr, en = Words("fr", kb), Words("en", kb)
    assert fr("interview.transcript", count=1, path="t.json") == "1 question ; transcription : t.json"
    assert fr("interview.transcript", count=7, path="t.json") == "7 questions ; transcription : t.json"
    assert en("interview.interrupted", n=1, name="s").startswith("Interrupted. Your 1 answer is saved.")


def test_amounts_are_grouped_as_each_locale_writes_them(kb):
    """French keeps « 2 400 000 DA HT » (no-break in HTML); English groups with commas; Arabic
    with Algerian dots, in Latin digits."""
    fr, en = Words("fr", kb), Words("en", kb)
    assert fr.da(2400000) == "2 400 000 DA HT"
    assert fr.glued(NBSP).da(2400000) == f"2{NBSP}400{NBSP}000{NBSP}DA{NBSP}HT"
    assert en.da(2400000) == "2,400,000 DA excl. tax"
    assert en.glued(NBSP).da(2400000) == f"2,400,000{NBSP}DA{NBSP}excl.{NBSP}tax"
    assert fr.number(950) == "950" and fr.number(1000) == "1 000" and en.number(12.5) == "12.5"
    assert fr.cat.locale == "fr_DZ" and en.cat.locale == "en"


@needs_arabic
def test_arabic_amounts_use_latin_digits_and_algerian_grouping(kb):
    ar = Words("ar", kb)
    assert ar.cat.locale == "ar_DZ"
    assert ar.number(2400000) == "2.400.000" and ar.number(12.5) == "12,5"
    assert ar.da(2400000) == ar.cat.text("format.da", amount="2.400.000")
    assert all(ch.isascii() for ch in ar.number(1234567))         # 0-9, never ٠-٩


def test_dates_follow_the_locale(kb):
    assert Words("fr", kb).date("2025-03-12T10:20:30+00:00") == "12 mars 2025"
    assert Words("en", kb).date("2025-03-12T10:20:30Z") == "March 12, 2025"
    assert Words("fr", kb).date("fixed") == "fixed"


def _report(kb, lang: str) -> str:
    profile = check_profile({"name": "Menuiserie Benali", "employees": 15, "pnman_member": True,
                             "diagnostic_approved": True, "recommendations": ["tic_coaching", "tic_upgrade"],
                             "general_conditions": True, "goals": ["website"], "it_infrastructure": True,
                             "web_staff": True}, kb)
    return assessment_html(record_of(profile, kb, lang=lang), Words(lang, kb))


def test_a_french_report_is_left_to_right_and_not_a_translation(kb):
    page = _report(kb, "fr")
    assert '<html lang="fr" dir="ltr">' in page and 'class="translation-note"' not in page
    assert "text-align: left" not in page and "text-align: right" not in page and "padding-left" not in page
    assert 'class="translation-note"' in _report(kb, "en")


@needs_arabic
def test_an_arabic_report_is_right_to_left_marked_as_a_translation_with_french_quotes_isolated(kb):
    page, w = _report(kb, "ar"), Words("ar", kb)
    assert '<html lang="ar" dir="rtl">' in page
    assert f'<p class="translation-note">{w("report.translation_note")}</p>' in page.replace("&#39;", "'")
    assert '<bdi dir="ltr" lang="fr">« L’appui du PNMAN peut prendre la forme' in page     # a guide caveat
    assert f'<bdi dir="ltr" lang="fr">{w.fiche_title(22)}</bdi>' in page                     # a fiche's title
    assert '<bdi class="amount">' in page


@settings(max_examples=30, deadline=None)
@given(profile=profiles())
def test_the_decision_digest_is_the_same_in_every_language(profile):
    """Contract §10: --lang never changes a decision; the words differ, the digest does not."""
    from pnman.engine.facade import assess
    from pnman.interview.render.l10n import Words, localise
    from pnman.knowledge.locales import available_languages
    from pnman.knowledge.profile import check_profile
    assessment = assess(check_profile(profile, KB), KB)
    records = {lang: localise(assessment.record(timestamp="fixed"), Words(lang, KB)) for lang in available_languages()}
    assert len(records) >= 3
    assert len({r["decision_digest"] for r in records.values()}) == 1
    assert len({r["record_hash"] for r in records.values()}) == len(records)    # the words do differ


def test_a_localised_record_localised_again_speaks_the_new_language_and_still_audits(kb):
    from pnman.engine.audit import audit
    from pnman.interview.render.l10n import localise
    record = record_of(check_profile({"employees": 60, "goals": ["erp"], "uses_it": False}, kb), kb, lang="fr")
    again = localise(record, Words("ar", kb))
    assert again["lang"] == "ar" and again["decision_digest"] == record["decision_digest"]
    assert [x["message"] for x in again["warnings"]] != [x["message"] for x in record["warnings"]]
    assert audit(again, kb)["verdict"] == "match"


# Counts every language must write right (0, 1, 2, 3, 11, 100: each CLDR category of fr, en, ar).
PLURAL_CASES = {
    "fr": {"counts.people": {0: "0 personne", 1: "1 personne", 2: "2 personnes", 3: "3 personnes",
                             11: "11 personnes", 100: "100 personnes"},
           "counts.rows_rejected": {0: "0 ligne rejetée", 1: "1 ligne rejetée", 2: "2 lignes rejetées",
                                    100: "100 lignes rejetées"},
           "counts.companies": {0: "0 entreprise", 1: "1 entreprise", 11: "11 entreprises"}},
    "en": {"counts.people": {0: "0 people", 1: "1 person", 2: "2 people", 100: "100 people"},
           "counts.companies_assessed": {0: "0 companies assessed", 1: "1 company assessed",
                                         3: "3 companies assessed"}},
    "ar": {"counts.people": {0: "0 شخص", 1: "شخص واحد", 2: "شخصان", 3: "3 أشخاص", 7: "7 أشخاص",
                             11: "11 شخصًا", 32: "32 شخصًا", 100: "100 شخص"},
           "counts.companies": {1: "مؤسسة واحدة", 2: "مؤسستان", 3: "3 مؤسسات", 11: "11 مؤسسةً", 100: "100 مؤسسة"}},
}


@pytest.mark.parametrize("lang", sorted(PLURAL_CASES))
def test_counted_nouns_take_the_form_of_their_figure(kb, lang):
    w = Words(lang, kb)
    for key, cases in PLURAL_CASES[lang].items():
        assert {n: w.count(key, n) for n in cases} == cases


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_every_counted_noun_has_a_form_for_every_figure(kb, lang):
    """Every `counts.*` and `lists.*` entry gives a sentence with its figure (or its list) for
    0, 1, 2, 3, 11 and 100, and no two CLDR categories of the language share a wrong form:
    the French one/other and English one/other forms differ."""
    w = Words(lang, kb)
    keys = sorted(k for k in w.cat.keys if k.startswith(("counts.", "lists.")))
    assert len(keys) >= 14
    for key in keys:
        for n in (0, 1, 2, 3, 11, 100):
            if key.startswith("counts."):
                text = w.count(key, n)
                assert str(n) in text or n in (1, 2) and lang == "ar", (key, n, text)
            else:
                numbers = list(range(20, 20 + n))
                text = w.fiche_list(key, numbers)
                assert all(str(x) in text for x in numbers[:3]), (key, n, text)
        if lang in ("fr", "en") and key.startswith("counts."):
            assert w.count(key, 1) != w.count(key, 2).replace("2", "1")


def test_lists_of_fiches_end_the_language_s_way(kb):
    fr, en, ar = Words("fr", kb), Words("en", kb), Words("ar", kb)
    assert fr.fiche_list("lists.needed_by", [20]) == "requise par la fiche 20"
    assert fr.fiche_list("lists.needed_by", [20, 23]) == "requise par les fiches 20 et 23"
    assert fr.fiche_list("lists.needed_by", [16, 20, 23]) == "requise par les fiches 16, 20 et 23"
    assert en.fiche_list("lists.needed_by", [20, 23]) == "needed by fiches 20 and 23"
    assert en.fiche_list("lists.fiches_requested", [16]) == "fiche 16"
    assert ar.fiche_list("lists.needed_by", [20, 23]) == "تتطلبه البطاقتان 20 و23"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_fiche_short_titles_are_in_the_reader_s_language(kb, lang):
    """Our short titles are translated in the fiche files; the guide's French title is only
    quoted. A text report in English or Arabic shows none of the French short titles."""
    w = Words(lang, kb)
    assert all(w.fiche_title(n) != kb.fiche(n).short_title for n in kb.fiches)
    out = subprocess.run([sys.executable, "-m", "pnman", "assess", str(ROOT / "examples/pe-internet.yaml"),
                          "--lang", lang], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    french = [kb.fiche(n).short_title for n in kb.fiches]
    assert [t for t in french if t in out.stdout] == []
    assert w.fiche_title(22) in out.stdout.replace("\n", " ") or lang == "ar"
