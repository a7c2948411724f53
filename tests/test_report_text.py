"""What the text and Markdown reports tell a person about each plan step."""
from __future__ import annotations

from pathlib import Path

from pnman.interview.cli.main import main

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "me-erp.yaml")


def test_each_fiche_step_says_its_type_status_and_flags(capsys):
    assert main(["assess", EXAMPLE]) == 0
    cells = [line.split("│")[2] for line in capsys.readouterr().out.splitlines() if line.count("│") == 4]
    out = " ".join(" ".join(cells).split())               # the table wraps long cells over lines
    assert "[investissement, conditionnelle]" in out
    assert "[accompagnement, conditionnelle, facultative]" in out   # fiche 9: no prerequisite of 10 calls for it


def test_markdown_says_it_too(capsys):
    assert main(["assess", EXAMPLE, "--format", "markdown", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "(investment, conditional)" in out and "(coaching, conditional, optional)" in out


# -- words a person reads: no ids, lines that fit, figures that read well ---------------------
import re  # noqa: E402

import pytest  # noqa: E402

from conftest import record_of  # noqa: E402
from pnman.interview.render.l10n import Words  # noqa: E402
from pnman.interview.render.markdown import assessment_markdown  # noqa: E402
from pnman.interview.render.text import assessment_text, check_text  # noqa: E402
from pnman.knowledge.profile import check_profile  # noqa: E402

EXAMPLES = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
# Condition ids (f9.population.recommendations), rule ids (test.…, status.…, plan.…, goal.…,
# request.…, implies.…), company action ids (action.…, check.…) and snake_case codes: raw fact
# keys (design_office) and warning codes (unknown_status). Markdown escapes « _ » as « \_ ».
IDS = re.compile(r"\bf\d+\.[a-z]|\b(?:test|status|plan|goal|request|implies|action|check)\.[a-z_]"
                 r"|\b[a-z]+(?:\\?_[a-z0-9]+)+\b")


def ids_in(text: str) -> list[str]:
    return [m.group(0) for m in IDS.finditer(text)]


def _assess(capsys, monkeypatch, *argv, columns="80"):
    monkeypatch.setenv("COLUMNS", columns)
    assert main(["assess", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_text_has_no_ids_and_fits_80_columns(capsys, monkeypatch, example, lang):
    out = _assess(capsys, monkeypatch, example, "--lang", lang)
    assert ids_in(out) == []
    assert [line for line in out.splitlines() if len(line) > 80] == []
    verbose = _assess(capsys, monkeypatch, example, "--lang", lang, "--verbose")
    assert re.search(r"\bstatus\.f\d+\.", verbose)
    assert [line for line in verbose.splitlines() if len(line) > 80] == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_verbose_text_shows_the_condition_ids(capsys, monkeypatch, example):
    record = record_of(check_profile(__import__("yaml").safe_load(open(example, encoding="utf-8")), _kb()), _kb())
    failing = {r["condition"] for e in record["fiches"] for r in e["reasons"]}
    verbose = _assess(capsys, monkeypatch, example, "--verbose", columns="200")
    assert failing and all(condition in verbose for condition in failing)


def _kb():
    from pnman import knowledge
    return knowledge.default()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_markdown_has_no_ids_unless_verbose(capsys, monkeypatch, example, lang):
    out = _assess(capsys, monkeypatch, example, "--format", "markdown", "--lang", lang)
    assert ids_in(out) == []
    verbose = _assess(capsys, monkeypatch, example, "--format", "markdown", "--lang", lang, "--verbose")
    assert re.search(r"`status\.f\d+\.", verbose)


def test_reasons_are_the_guide_s_words(capsys, monkeypatch):
    root = Path(EXAMPLE).parent
    out = " ".join(_assess(capsys, monkeypatch, str(root / "pe-internet.yaml"), columns="200").split())
    assert "réservé aux PME à caractère industriel" in out
    out = " ".join(_assess(capsys, monkeypatch, str(root / "me-erp.yaml"), columns="200").split())
    assert "pas de recommandation TIC de type coaching dans le diagnostic" in out
    assert "réservé aux entreprises qui n’utilisent pas encore l’informatique" in out
    out = " ".join(_assess(capsys, monkeypatch, str(root / "pme-industrielle.yaml"), columns="200").split())
    assert "à préciser : Bureau d’études" in out
    assert "à mettre en place : Répertoire nomenclature des produits, Cahier des charges GPAO" in out
    out = " ".join(_assess(capsys, monkeypatch, str(root / "pe-internet.yaml"), "--lang", "en", columns="200").split())
    assert "only for industrial SMEs" in out and "to put in place: Company website or E-commerce site" in out


def test_every_recommendation_and_every_short_title_has_words(kb):
    for lang in ("fr", "en"):
        words = Words(lang, kb)
        assert all(words.cat.has(f"report.reason.recommendations.{c}") for c in kb.facts["recommendations"].choices)
    titles = {number: fiche.short_title for number, fiche in kb.fiches.items()}
    assert all(titles.values()) and len(set(titles.values())) == len(titles)
    assert titles[1] != titles[3] and "GPAO" in titles[1] and "GMAO" in titles[3]


def test_titles_are_whole_in_the_tables(capsys, monkeypatch, kb):
    """Each line of the title column holds whole words of the fiche's short title."""
    out = _assess(capsys, monkeypatch, EXAMPLE, columns="80").splitlines()
    header = next(i for i, line in enumerate(out) if "Titre" in line and "Statut" in line)
    start, end = out[header].index("Titre"), out[header].index("Statut")
    words = {word for fiche in kb.fiches.values() for word in fiche.short_title.split()}
    rows = []
    for line in out[header + 2:]:
        if not line.strip():
            break
        rows.append(line)
    chunks = [line[start:end].split() for line in rows]
    assert len(rows) >= len(kb.fiches) and all(word in words for chunk in chunks for word in chunk)


def test_figures_read_well(kb):
    w = Words("fr", kb)
    assert w.da_range(2_400_000, 2_400_000) == "2 400 000 DA HT"
    assert w.da_range(0, 500_000) == "jusqu’à 500 000 DA HT"
    assert w.days_range(0, 0) == "aucun" and w.days_range(15, 15) == "15 h/j" and w.days_range(13, 34) == "13 – 34 h/j"
    text = assessment_text(record_of(check_profile(__import__("yaml").safe_load(
        open(Path(EXAMPLE).parent / "tpe-demarrage.yaml", encoding="utf-8")), kb), kb, lang="fr"), w)
    assert "0 – 0" not in text and "Accompagnement (jours) : aucun" in " ".join(text.split())
    assert "1 260 000 DA HT – 1 260 000" not in text


@pytest.mark.parametrize("profile, lang, says", [
    ({"employees": 3, "goals": ["network"]}, "fr",
     "Pas de plan d’action : une entreprise de 3 personnes n’entre dans aucune classe de taille du guide "
     "(TPE : de 5 à 9 personnes)"),
    ({"employees": 300, "goals": ["network"]}, "en",
     "No action plan: a company of 300 people falls in none of the guide's size classes (ME: 50 to 250 people)"),
    ({"employees": 30}, "fr", "le profil ne donne ni objectif ni fiche demandée"),
    ({"employees": 30, "industrial": False, "pnman_member": True, "diagnostic_approved": True,
      "recommendations": ["tic_coaching"], "goals": ["gpao"], "fiches": [13]}, "fr",
     "aucune des fiches demandées n’est ouverte à l’entreprise"),
])
def test_no_plan_always_says_why(kb, profile, lang, says):
    record = record_of(check_profile(profile, kb), kb, lang=lang)
    assert record["plan"] == []
    for render in (assessment_text, assessment_markdown):
        out = " ".join(render(record, Words(lang, kb)).split())
        assert says in out, render.__name__
        assert ids_in(out) == []
    if profile.get("fiches"):
        out = " ".join(assessment_text(record, Words(lang, kb)).split())
        assert "Fiche 2 – Acquisition GPAO (objectif « Gérer la production par ordinateur (GPAO) ») : " \
               "réservé aux PME à caractère industriel" in out
        assert "Fiche 13 – Équipement de démarrage : pas de recommandation d’investissement TIC" in out


@pytest.mark.parametrize("fiche", [2, 9, 13, 26])
@pytest.mark.parametrize("example", EXAMPLES)
def test_check_has_no_ids_unless_verbose(kb, example, fiche):
    record = record_of(check_profile(__import__("yaml").safe_load(open(example, encoding="utf-8")), kb), kb, lang="fr")
    out = check_text(record, fiche, Words("fr", kb), width=80)
    # the knowledge's own interpretations may name a fact key: they are quoted as written
    shown = "\n".join(line for line in out.splitlines())
    found = [i for i in ids_in(shown) if i != "general_conditions"]
    assert found == []
    assert [line for line in out.splitlines() if len(line) > 80] == []
    verbose = check_text(record, fiche, Words("fr", kb), verbose=True, width=80)
    assert f"f{fiche}.general.size_class" in verbose and f"status.f{fiche}." in verbose


from hypothesis import HealthCheck, given, settings  # noqa: E402

from strategies import profiles  # noqa: E402


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(profiles())
def test_any_profile_reads_without_ids_in_80_columns(kb, profile):
    for lang in ("fr", "en"):
        record = record_of(check_profile(profile, kb), kb, lang=lang)
        text = assessment_text(record, Words(lang, kb), width=80)
        assert ids_in(text) == [] and max(len(line) for line in text.splitlines()) <= 80
        assert ids_in(assessment_markdown(record, Words(lang, kb))) == []
        if not record["plan"]:
            assert "Pas de plan d’action : " in text or "No action plan: " in text


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_an_optional_step_named_in_a_reason_is_worded_not_an_id(kb, lang):
    """Found by the property above: « seule l'étape facultative action.management_software »."""
    from pnman.interview.render.reasons import describe_rule
    w = Words(lang, kb)
    for rule, words in (("plan.optional.for.action.management_software", w.action("management_software")),
                        ("plan.optional.for.f13", w.fiche_title(13))):
        text = describe_rule(rule, w)
        assert words in text and "action." not in text and "f13" not in text, text
