"""The knowledge matches the guide to the digit and to the word."""
from __future__ import annotations

import json

import pytest

from pnman.knowledge.export import knowledge_export
from pnman.knowledge.guidetext import find_guide
from pnman.engine.validate import validate

# Transcribed from the guide's tables: line amounts per size, then the printed total.
TABLES = {
    2: {"TPE": ([350000, 300000, 200000], 850000), "PE": ([600000, 400000, 300000], 1300000),
        "ME": ([1500000, 750000, 400000], 2650000)},
    4: {"TPE": ([300000, 200000, 200000], 700000), "PE": ([500000, 300000, 300000], 1100000),
        "ME": ([1000000, 500000, 400000], 1900000)},
    6: {"TPE": ([300000, 200000, 150000], 650000), "PE": ([1000000, 500000, 300000], 1800000),
        "ME": ([2000000, 1000000, 600000], 3600000)},
    8: {"TPE": ([250000, 100000, 150000], 500000), "PE": ([500000, 250000, 300000], 1050000),
        "ME": ([1000000, 450000, 600000], 2050000)},
    10: {"TPE": ([800000, 100000, 400000], 1300000), "PE": ([1600000, 200000, 600000], 2400000),
         "ME": ([3200000, 400000, 800000], 4400000)},
    12: {"TPE": ([250000, 100000, 200000], 550000), "PE": ([500000, 200000, 400000], 1100000),
         "ME": ([1000000, 400000, 600000], 2000000)},
    13: {"TPE": ([200000, 100000, 160000], 460000), "PE": ([400000, 100000, 400000], 900000),
         "ME": ([1000000, 450000, 400000], 900000)},
    16: {"TPE": ([100000, 100000, 200000], 400000), "PE": ([200000, 100000, 640000], 940000),
         "ME": ([300000, 100000, 640000], 1040000)},
    18: {"TPE": ([500000, 100000, 200000], 800000), "PE": ([1000000, 100000, 480000], 1580000),
         "ME": ([1500000, 100000, 620000], 2220000)},
    20: {"TPE": ([15000, 40000, 80000], 135000), "PE": ([20000, 50000, 120000], 190000),
         "ME": ([30000, 70000, 200000], 300000)},
    21: {"TPE": ([250000, 20000, 80000], 350000), "PE": ([270000, 30000, 120000], 420000),
         "ME": ([300000, 40000, 200000], 540000)},
}
DAYS = {
    1: {"PE": (15, 2), "ME": (30, 3)}, 3: {"PE": (15, 2), "ME": (30, 3)},
    5: {"PE": (9, 2), "ME": (17, 3)}, 7: {"PE": (5, 2), "ME": (10, 3)},
    9: {"TPE": (5, 0), "PE": (10, 0)}, 11: {"TPE": (2, 1), "PE": (4, 2), "ME": (8, 2)},
    14: {"PE": (5, 0), "ME": (12, 0)}, 15: {"PE": (5, 0), "ME": (12, 0)},
    17: {"PE": (5, 0), "ME": (12, 0)}, 19: {"PE": (5, 0), "ME": (12, 0)},
}
POST_ERP = {"TPE": 4, "PE": 8, "ME": 16}
OPTIONS = {23: [(50000, 120000), (120000, 500000)], 25: [(10000, 240000), (24000, 1000000)],
           27: [(750000, 750000), (250000, 250000), (300000, 300000), (1000000, 1000000)]}
DAY_OPTIONS = {22: ([(3, 5), (5, 15)], 2), 24: ([(3, 5), (5, 15)], 2), 26: ([(3, 10)], 1)}
COACHING = {1, 3, 5, 7, 9, 11, 14, 15, 17, 19, 22, 24, 26}
AXES = {**{n: 1 for n in range(1, 9)}, **{n: 2 for n in range(9, 13)}, **{n: 3 for n in range(13, 22)},
        **{n: 4 for n in range(22, 28)}}


@pytest.fixture(scope="module")
def exported(kb):
    return {f["fiche"]: f for f in json.loads(json.dumps(knowledge_export(kb)))}


def test_all_27_fiches_with_every_section(exported):
    assert sorted(exported) == list(range(1, 28))
    for number, f in exported.items():
        assert f["title"] and f["objectives"] and f["expected_results"], number
        assert f["population"] and f["prerequisites"], number
        assert f["type"] == ("coaching" if number in COACHING else "investment"), number
        assert f["axis"] == AXES[number], number
        if f["type"] == "coaching":
            assert f["activities"] and f["experts"], number


@pytest.mark.parametrize("number", sorted(TABLES))
def test_investment_tables_to_the_digit(exported, number):
    by_size = exported[number]["budget"]["by_size"]
    assert sorted(by_size) == ["ME", "PE", "TPE"]
    for size, (amounts, total) in TABLES[number].items():
        assert [line["amount_da_ht"] for line in by_size[size]["lines"]] == amounts
        assert by_size[size]["total_da_ht"] == total
        assert all(line["category"] and line["description"] for line in by_size[size]["lines"])


def test_days_and_tolerances_as_printed(exported):
    for number, sizes in DAYS.items():
        days = exported[number]["budget"]["days"]
        assert {s: (d["days"], d["tolerance"]) for s, d in days.items()} == sizes, number
    post = exported[9]["budget"]["post_erp_days"]
    assert {s: d["days"] for s, d in post.items()} == POST_ERP


def test_options_and_day_ranges_as_printed(exported):
    for number, ranges in OPTIONS.items():
        options = exported[number]["budget"]["options"]
        assert [(o["min_da_ht"], o["max_da_ht"]) for o in options] == ranges, number
        assert all(o["label"] for o in options)
    for number, (ranges, experts) in DAY_OPTIONS.items():
        budget = exported[number]["budget"]
        assert [(o["min_days"], o["max_days"]) for o in budget["day_options"]] == ranges
        assert budget["experts_count"] == experts


def test_workstation_limit_of_fiche_13(exported):
    limit = exported[13]["budget"]["workstation_limit"]
    assert (limit["TPE"], limit["PE"], limit["ME"]) == (4, 8, 8)


def test_only_printed_sizes_are_present(exported):
    for number in (1, 3, 5, 7, 14, 15, 17, 19):
        assert "TPE" not in exported[number]["budget"]["days"]
    assert "ME" not in exported[9]["budget"]["days"]


def test_every_condition_carries_a_citation(kb):
    for number, conditions in kb.conditions.items():
        assert conditions
        for condition in conditions:
            assert condition.citation.text and condition.citation.section
            assert condition.id.startswith(f"f{number}.")


def test_guide_anomalies_are_reported_with_both_figures(kb):
    report = validate(kb)
    mismatch = [f for f in report.findings if f.code == "total_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].fiche == 13
    assert mismatch[0].figures == {"size_class": "ME", "printed_total_da_ht": 900000, "lines_sum_da_ht": 1850000}
    odd = [f for f in report.findings if f.code == "odd_ranges"]
    assert [f.fiche for f in odd] == [25]
    missing = {f.fiche for f in report.findings if f.code == "missing_size_figure"}
    assert missing == {1, 3, 5, 7, 9, 14, 15, 17, 19}


@pytest.mark.skipif(find_guide() is None, reason="the guide (../shared/seed) is not available here")
def test_every_quotation_is_verbatim_in_the_guide(kb):
    report = validate(kb)
    assert report.errors == []
    assert any(c["check"] == "citations" and c["figures"]["count"] > 900 for c in report.checks)


def test_coaching_that_runs_alongside_quotes_its_own_activities(kb):
    """Fiches 22, 24 and 26 go on while their acquisition is carried out: the sentences that
    say so are the fiche's own activities, within them, and fiche 9's Partie 2 says when it begins."""
    alongside = {n: f.alongside for n, f in kb.fiches.items() if f.alongside}
    assert {n: a.acquisition for n, a in alongside.items()} == {22: 23, 24: 25, 26: 27}
    for number, entry in alongside.items():
        items = [item for step in kb.fiche(number).activities.steps for item in step.items]
        assert entry.text and all(any(text in item for item in items) for text in entry.text), number
    post = kb.fiche(9).straddles.after_text
    assert any(post in item for step in kb.fiche(9).activities.steps for item in step.items)
