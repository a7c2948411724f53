"""The registry's dashboard (contract §15): its figures equal those computed by hand from
`pnman registry export`, for every filter; `pnman impact` agrees with its impact section;
the page draws each chart on the server with its table, in fr/en/ar, with no inline
script or style; the filtered list downloads as .xlsx; a bad filter is a 400 naming it;
the index follows appends and a replaced registry, lives in the registry (kept by each append,
built once for an older one, never in a request); a phone shows it without scrolling sideways."""
from __future__ import annotations

import io
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from bench.portfolio import profiles as portfolio
from conftest import run
from pnman.interview.render.l10n import Words
from pnman.interview.web.app import Settings, create_app
from pnman.knowledge import default
from test_web_accounts import HTML, office, signed_in, visitor  # noqa: F401 - office: the accounts' fixture

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8000"
STATUSES = ("eligible", "conditional", "unknown", "ineligible")


@pytest.fixture(autouse=True)
def editions(monkeypatch):
    monkeypatch.setenv("PNMAN_EDITIONS", str(ROOT / "tests" / "editions"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    """A registry of 60 generated companies (batch --record) and overrides on three of them."""
    folder = tmp_path_factory.mktemp("dashboard")
    source = folder / "p.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in portfolio(60, seed=21)), encoding="utf-8")
    path = folder / "registry.sqlite3"
    from pnman.interview.cli.main import main
    assert main(["batch", str(source), "-o", str(folder / "out.jsonl"), "--record", "--registry", str(path)]) == 0
    lines = [json.loads(line) for line in (folder / "out.jsonl").read_text().splitlines()]
    overridden = 0
    for line in lines:
        ineligible = [n for n, s in line["statuses"].items() if s == "ineligible"]
        if ineligible and overridden < 3:
            for status in ("conditional", "eligible"):      # the second replaces the first: one in force
                assert main(["override", line["entry"], "--fiche", ineligible[0], "--status", status,
                             "--reason", "document_evidence", "--justification", "Attestation fournie ensuite.",
                             "--by", "Test", "--registry", str(path)]) == 0
            overridden += 1
    return path


def _copy(registry: Path, target: Path) -> None:
    """The registry as it stands (its WAL included: a copy of the file alone may miss the last
    commits), through SQLite's backup."""
    import sqlite3
    source, copy = sqlite3.connect(registry), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


def exported(capsys, registry: Path) -> list[dict]:
    code, out, err = run(capsys, "registry", "export", "--registry", str(registry))
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines() if line]


def by_hand(entries: list[dict], since=None, until=None, sizes=()) -> dict:
    """The dashboard's figures, computed from the export with plain Python."""
    kept = {}
    for entry in entries:
        if entry["kind"] != "assessment":
            continue
        record = entry["payload"]["record"]
        day = entry["created_at"][:10]
        size = record["size_class"] or "-"
        if (since and day < since) or (until and day > until) or (sizes and size not in sizes):
            continue
        kept[entry["id"]] = (day, size, record)
    fiches: dict[int, Counter] = defaultdict(Counter)
    budgets: dict[str, list] = defaultdict(lambda: [0, 0, 0, 0, 0])
    days = Counter()
    for day, size, record in kept.values():
        days[day] += 1
        planned = {s["fiche"] for s in record["plan"] if s["kind"] == "fiche"}
        for f in record["fiches"]:
            fiches[f["fiche"]][f["status"]] += 1
            fiches[f["fiche"]]["planned"] += f["fiche"] in planned
            fiches[f["fiche"]]["companies"] += 1
        totals = record["totals"]
        row = budgets[size]
        row[0] += 1
        row[1] += totals["investment_da_ht"]["min"]
        row[2] += totals["investment_da_ht"]["max"]
        row[3] += totals["coaching_days"]["min"]
        row[4] += totals["coaching_days"]["max"]
    in_force = {}
    for entry in entries:
        if entry["kind"] == "override" and entry["payload"]["entry"] in kept:
            data = entry["payload"]
            in_force[(data["entry"], data["fiche"])] = data
    overrides = Counter(d["fiche"] for d in in_force.values() if d["status"] != d["engine_status"])
    return {"assessments": len(kept), "days": dict(days), "fiches": {n: dict(c) for n, c in fiches.items()},
            "budgets": {k: v for k, v in budgets.items()}, "overrides": dict(overrides)}


def client(registry: Path | None, tmp_path: Path) -> TestClient:
    """The operator on the server's own machine (loopback, no account: contract §11)."""
    return TestClient(create_app(Settings(kb=default(), sessions=tmp_path / "sessions", registry=registry,
                                          accounts=tmp_path / "accounts.sqlite3")),
                      base_url=BASE, client=("127.0.0.1", 50000))


@pytest.mark.parametrize("query, since, until, sizes", [
    ("", None, None, ()),
    ("size=PE&size=ME", None, None, ("PE", "ME")),
    ("size=-", None, None, ("-",)),
    ("since=2000-01-01&until=2999-12-31&size=TPE", "2000-01-01", "2999-12-31", ("TPE",)),
    ("until=2000-01-01", None, "2000-01-01", ()),
])
def test_figures_equal_those_computed_from_the_export(capsys, registry, tmp_path, query, since, until, sizes):
    expected = by_hand(exported(capsys, registry), since, until, sizes)
    response = client(registry, tmp_path).get(f"/dashboard.json?{query}")
    assert response.status_code == 200
    data = response.json()
    assert data["assessments"] == expected["assessments"]
    assert {p["period"]: p["assessments"] for p in data["over_time"]["points"]} == expected["days"]
    got = {f["fiche"]: {k: f[k] for k in (*STATUSES, "planned", "companies") if f[k]} for f in data["fiches"]}
    assert got == {n: {k: v for k, v in c.items() if v} for n, c in expected["fiches"].items()}
    for f in data["fiches"]:
        assert f["shares"]["planned"] == pytest.approx(f["planned"] / f["companies"])
    assert {b["size_class"] or "-": [b["companies"], b["investment_da_ht"]["min"], b["investment_da_ht"]["max"],
                                     b["coaching_days"]["min"], b["coaching_days"]["max"]]
            for b in data["budgets"]} == expected["budgets"]
    assert {o["fiche"]: o["overridden"] for o in data["overrides"]} == expected["overrides"]
    for o in data["overrides"]:
        assert o["rate"] == pytest.approx(o["overridden"] / data["assessments"])
    if not query:
        assert sum(expected["overrides"].values()) == 3         # the fixture's three overrides in force


def test_the_override_figures_are_the_registrys_own(capsys, registry, tmp_path):
    from pnman.records.registry import Registry
    with Registry.open(registry, create=False) as opened:
        summary = opened.override_summary().as_dict()
    data = client(registry, tmp_path).get("/dashboard.json").json()
    assert [(o["fiche"], o["overridden"]) for o in data["overrides"]] == \
        [(f["fiche"], f["overridden"]) for f in summary["fiches"]]


def test_impact_section_agrees_with_pnman_impact(capsys, registry, tmp_path):
    profiles = [e["payload"]["record"]["profile"] for e in exported(capsys, registry) if e["kind"] == "assessment"]
    source = tmp_path / "p.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in profiles), encoding="utf-8")
    code, out, err = run(capsys, "impact", str(source), "--from", "base", "--to", "2027-test", "--format", "json")
    assert code == 0, err
    *companies, last = [json.loads(line) for line in out.splitlines()]
    changed = {c["name"] for c in companies if c["changed"]}
    data = client(registry, tmp_path).get("/dashboard.json?from=base&to=2027-test").json()
    impact = data["impact"]
    assert impact["companies"] == len(profiles) and impact["changed"] == len(changed) == last["summary"]["affected"]
    assert impact["changed"] > 0
    assert {c["name"] for c in impact["listed"]} <= changed
    same = client(registry, tmp_path).get("/dashboard.json?from=base&to=base").json()["impact"]
    assert same["changed"] == 0


@pytest.mark.parametrize("lang, direction", [("fr", "ltr"), ("en", "ltr"), ("ar", "rtl")])
def test_the_page_draws_each_chart_with_its_table(registry, tmp_path, lang, direction):
    response = client(registry, tmp_path).get(f"/dashboard?lang={lang}")
    assert response.status_code == 200
    html = response.text
    w = Words(lang, default())
    assert f'dir="{direction}"' in html and w("dashboard.title") in html
    assert html.count("<svg") == 4 and html.count("<table") == 5         # four charts, each with a table; the impact list
    for section in ("over-time", "fiches", "budgets", "overrides"):
        block = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
        assert "<svg" in block and "<table" in block
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert w.status("eligible") in html


@pytest.mark.parametrize("lang, company", [("fr", "entreprises"), ("en", "companies"), ("ar", "المؤسسات")])
def test_the_page_counts_assessments_and_says_so(capsys, registry, tmp_path, lang, company):
    """A company assessed twice counts twice: the figures are labelled as assessments (not
    companies), and the page says how it counts — in each language."""
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    profile = tmp_path / "twice.json"
    profile.write_text(json.dumps({"name": "Deux Fois", "employees": 12, "goals": ["network"]}))
    for _ in range(2):
        assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    web = client(copy, tmp_path)
    data = web.get("/dashboard.json").json()
    assert data["assessments"] == 62 and {f["companies"] for f in data["fiches"]} == {62}    # twice, counted twice
    html = web.get(f"/dashboard?lang={lang}").text
    w = Words(lang, default())
    assert w("dashboard.counting") in html
    heading = html.split('id="fiches">', 1)[1].split("</h2>", 1)[0]
    assert heading == w("dashboard.fiches").replace("’", "’") and company not in heading
    for count in (1, 2):
        sentence = w("dashboard.impact_count", count=count, n=count, companies=9, before="a", after="b")
        assert company not in w("dashboard.impact") and company not in sentence
        assert lang == "ar" or ("assessments" if lang == "en" else "évaluations") in sentence or count == 1


def test_the_filtered_list_downloads_as_xlsx(registry, tmp_path):
    web = client(registry, tmp_path)
    figures = web.get("/dashboard.json?size=PE").json()
    response = web.get("/dashboard.xlsx?size=PE&lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    header, *rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert header[:5] == ("Entry", "Date", "Company", "Size", "Guide edition")
    assert len(rows) == figures["assessments"] > 0 and {r[3] for r in rows} == {"PE"}
    eligible_f16 = sum(1 for r in rows if r[header.index("Fiche 16")] == "eligible")
    assert eligible_f16 == next(f["eligible"] for f in figures["fiches"] if f["fiche"] == 16)


@pytest.mark.parametrize("query, word", [("since=yesterday", "'since'"), ("size=XL", "'size'"),
                                         ("since=2026-02-01&until=2026-01-01", "after"), ("to=2099", "'to'")])
def test_a_bad_filter_is_a_400_naming_it(registry, tmp_path, query, word):
    web = client(registry, tmp_path)
    response = web.get(f"/dashboard.json?{query}")
    assert response.status_code == 400 and word in response.json()["error"]
    assert web.get(f"/dashboard?{query}").status_code == 400


def test_without_a_registry_the_dashboard_says_so(tmp_path):
    web = client(None, tmp_path)
    assert web.get("/dashboard").status_code == 404
    assert "--registry" in web.get("/dashboard.json").json()["error"]


def test_the_index_follows_appends_and_a_replaced_registry(capsys, registry, tmp_path):
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    web = client(copy, tmp_path)
    before = web.get("/dashboard.json").json()["assessments"]
    profile = tmp_path / "one.json"
    profile.write_text(json.dumps({"name": "Nouvelle", "employees": 12, "goals": ["network"]}))
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    assert web.get("/dashboard.json").json()["assessments"] == before + 1
    copy.unlink()
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0   # another registry there
    data = web.get("/dashboard.json").json()
    assert data["assessments"] == 1 and data["budgets"][0]["size_class"] == "PE"


playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_phone_shows_the_dashboard_without_scrolling_sideways(registry, tmp_path, lang):
    from web_server import serving
    with serving(tmp_path / "sessions", registry=registry) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/dashboard?lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            boxes = page.eval_on_selector_all("svg.chart", "els => els.map(e => e.getBoundingClientRect().width)")
            assert len(boxes) == 4 and all(0 < width <= 390 for width in boxes)
            assert errors == []                     # no CSP refusal, nothing missing
        finally:
            browser.close()


def _drop_index(path: Path) -> None:
    """The registry as pnman wrote it before its index (or as an older pnman appends to it)."""
    import sqlite3
    conn = sqlite3.connect(path, isolation_level=None)
    for name in ("index_state", "index_assessments", "index_fiche_status", "index_overrides"):
        conn.execute(f"DROP TABLE {name}")
    conn.close()


def test_the_index_lives_in_the_registry_and_a_request_reads_no_record(registry, tmp_path, monkeypatch):
    """Every append keeps the index: a dashboard request parses no record, makes no file."""
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    from pnman.records import chain
    monkeypatch.setattr(chain, "unpack", lambda blob: pytest.fail("a request read a record"))
    data = client(copy, tmp_path).get("/dashboard.json").json()
    assert data["assessments"] == 60 and data["not_indexed"] == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("registry")) == ["registry.sqlite3"]


def test_a_registry_from_before_the_index_is_indexed_once_with_its_progress(capsys, registry, tmp_path):
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    _drop_index(copy)
    web = client(copy, tmp_path)
    data = web.get("/dashboard.json").json()
    total = len(exported(capsys, copy))
    assert data["assessments"] == 0 and data["not_indexed"] == total      # never built inside a request
    page = web.get("/dashboard?lang=en").text
    assert f"{total} registry entries are not counted yet" in page and "pnman registry index" in page
    # an append meanwhile (an older pnman's, or this one's without an index): still not counted
    profile = tmp_path / "one.json"
    profile.write_text(json.dumps({"name": "Nouvelle", "employees": 12, "goals": ["network"]}))
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    assert web.get("/dashboard.json").json()["not_indexed"] == total + 1
    code, out, err = run(capsys, "registry", "index", "--registry", str(copy), "--lang", "en")
    assert code == 0, err
    assert f"Dashboard index of {copy}: {total + 1} / {total + 1} entries" in err
    assert f"({total + 1} entries indexed)" in out
    data = web.get("/dashboard.json").json()
    entries = exported(capsys, copy)
    expected = by_hand(entries)
    assert data["not_indexed"] == 0 and data["assessments"] == expected["assessments"] == 61
    assert {f["fiche"]: f["companies"] for f in data["fiches"]} == \
        {n: c["companies"] for n, c in expected["fiches"].items()}
    assert {o["fiche"]: o["overridden"] for o in data["overrides"]} == expected["overrides"]
    # from now on each append keeps it
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    kept = web.get("/dashboard.json").json()
    assert kept["assessments"] == 62 and kept["not_indexed"] == 0
    code, out, err = run(capsys, "registry", "index", "--registry", str(copy), "--rebuild", "--lang", "fr")
    assert code == 0 and f"à jour ({total + 2} entrées indexées)" in out, err      # every entry once more
    assert web.get("/dashboard.json").json() == kept         # made again from every entry: the same figures


def test_an_index_behind_the_chain_is_not_extended_past_a_gap(capsys, registry, tmp_path, monkeypatch):
    """An entry appended without the index (an older pnman) leaves it where it was: the next
    appends do not index themselves past the gap; `registry index` fills it."""
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    from pnman.records import figures_index
    from pnman.records.registry import Registry
    profile = tmp_path / "one.json"
    profile.write_text(json.dumps({"name": "Ancienne", "employees": 40, "goals": ["website"]}))
    hook = figures_index.append_hook
    monkeypatch.setattr(figures_index, "append_hook", lambda conn: None)
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    monkeypatch.setattr(figures_index, "append_hook", hook)
    assert run(capsys, "assess", str(profile), "--record", "--registry", str(copy))[0] == 0
    with Registry.open(copy, create=False) as opened:
        assert opened.index_lag() == 2
        assert opened.build_index() == 2 and opened.index_lag() == 0
    assert client(copy, tmp_path).get("/dashboard.json").json()["assessments"] == 62


def test_an_index_of_another_version_is_not_read_and_is_made_again(capsys, registry, tmp_path):
    import sqlite3
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("UPDATE index_state SET value = 0 WHERE key = 'version'")      # as another pnman made it
    conn.close()
    web = client(copy, tmp_path)
    total = len(exported(capsys, copy))
    assert web.get("/dashboard.json").json()["not_indexed"] == total
    code, out, err = run(capsys, "registry", "index", "--registry", str(copy), "--lang", "en")
    assert code == 0 and f"({total} entries indexed)" in out, err
    data = web.get("/dashboard.json").json()
    assert data["not_indexed"] == 0 and data["assessments"] == 60


def test_serve_builds_the_index_of_an_older_registry_as_it_starts(capsys, registry, tmp_path):
    import subprocess
    import sys
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    _drop_index(copy)
    import socket
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "serve", "--registry", str(copy), "--port", str(port),
                             "--lang", "en"], cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("pnman serve: http") or len(lines) > 20:
                break
    finally:
        proc.kill()
        proc.wait(timeout=30)
    text = "".join(lines)
    assert f"Dashboard index of {copy}:" in text, text
    assert text.index("Dashboard index") < text.index("pnman serve: http")
    assert client(copy, tmp_path).get("/dashboard.json").json()["not_indexed"] == 0


# -- who may see it (contract §11): diagnostician, auditor, admin ---------------------------------------

def test_the_dashboard_is_for_diagnosticians_auditors_and_admins(office):
    anonymous = visitor(office)
    for path in ("/dashboard", "/dashboard.xlsx"):
        reply = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=%2Fdashboard")
    assert anonymous.get("/dashboard.json", follow_redirects=False).status_code == 401
    for name in ("dina", "aude", "adam"):
        web = signed_in(office, name)
        assert web.get("/dashboard", headers=HTML).status_code == 200, name
        assert web.get("/dashboard.json").json()["assessments"] == 1, name
        assert web.get("/dashboard.xlsx").status_code == 200, name


AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(CHROMIUM is None or not AXE.exists(), reason="needs Chromium and the vendored axe-core")
def test_axe_core_finds_no_wcag_violation_on_the_dashboard(registry, tmp_path):
    from web_server import serving
    script = AXE.read_text(encoding="utf-8")
    found = {}
    with serving(tmp_path / "sessions", registry=registry) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for lang in ("fr", "en", "ar"):
                for width in (1280, 390):
                    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
                    page = context.new_page()
                    page.goto(f"{base}/dashboard?lang={lang}")
                    page.evaluate(script)
                    found[(lang, width)] = page.evaluate(
                        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
                        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map(v => v.id)")
                    context.close()
        finally:
            browser.close()
    assert found == {key: [] for key in found} and len(found) == 6


def test_the_companies_a_chunk_adds_at_once_are_those_a_rebuild_counts(registry, tmp_path):
    """Each append writes the companies its entries add to each (day, size, fiche, status,
    planned) row once (batch --record's chunks of 64 entries): the same table, row for row,
    as indexing every entry again, one by one."""
    import sqlite3

    from pnman.records import figures_index
    copy = tmp_path / "registry.sqlite3"
    _copy(registry, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        def table():
            return sorted(conn.execute("SELECT * FROM index_fiche_status"))
        kept = table()
        assert sum(row[-1] for row in kept) == 60 * 27 and max(row[-1] for row in kept) > 1
        assert figures_index.catch_up(conn, rebuild=True) == conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        assert table() == kept
    finally:
        conn.close()
