"""`pnman serve` through Starlette's TestClient: the JSON API of contract §7, the guards,
and the pages as plain forms (JavaScript off)."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import run  # noqa: E402
from pnman.interview.questionnaire.headless import run_headless  # noqa: E402
from pnman.interview.render.l10n import Words  # noqa: E402
from pnman.interview.web.app import Settings, create_app  # noqa: E402
from strategies import KB, profiles  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8000"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def client(sessions: Path, *, address: str = "127.0.0.1", **options) -> TestClient:
    """A visitor at `address` (loopback: with no account, the local operator) of a server
    whose sessions and accounts live in `sessions`."""
    options.setdefault("accounts", sessions / "accounts.sqlite3")
    return TestClient(create_app(Settings(kb=KB, sessions=sessions, **options)), base_url=BASE,
                      client=(address, 50000))


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> TestClient:
    return client(tmp_path_factory.mktemp("sessions"))


def interview_through_api(api: TestClient, profile: dict, lang: str = "fr") -> dict:
    """Answer every `next` from `profile` (absent keys: « je ne sais pas »); the result."""
    started = api.post("/api/interviews", json={"lang": lang})
    assert started.status_code == 201, started.text
    body = started.json()
    session = body["id"]
    step, answered = body["next"], 0
    while step is not None:
        assert set(step) >= {"key", "text", "help", "kind", "choices", "default"}
        assert step["kind"] in ("bool", "int", "choice", "multi", "text")
        reply = api.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": profile.get(step["key"])})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        step, answered = body["next"], answered + 1
        assert answered < 60
    assert body["result"] is not None
    return body["result"]


def same_decision(result: dict, expected: dict) -> None:
    """Contract §6/§7 soundness: the plan, the totals, and the status of every fiche in the
    plan or named by the goals (the others may stay unknown: nobody asked about them)."""
    named = {KB.guide.goals[g].fiche for g in expected["profile"].get("goals") or []}
    named |= set(expected["profile"].get("fiches") or [])
    named |= {s["fiche"] for s in expected["plan"] if s["kind"] == "fiche"}
    relevant = lambda record: {f["fiche"]: f["status"] for f in record["fiches"] if f["fiche"] in named}  # noqa: E731
    assert relevant(result) == relevant(expected)
    strip = ("label",)
    assert [{k: v for k, v in s.items() if k not in strip} for s in result["plan"]] == \
           [{k: v for k, v in s.items() if k not in strip} for s in expected["plan"]]
    assert result["totals"] == expected["totals"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_interview_through_the_api_reaches_what_pnman_assess_gives(api, capsys, example):
    profile = yaml.safe_load(example.read_text(encoding="utf-8"))
    code, out, err = run(capsys, "assess", str(example), "--format", "json")
    assert code == 0, err
    through_api = interview_through_api(api, profile)
    same_decision(through_api, json.loads(out))
    headless = run_headless(profile, KB, Words("fr", KB))["result"]     # the same machine, the same questions
    assert [(f["fiche"], f["status"]) for f in through_api["fiches"]] == \
           [(f["fiche"], f["status"]) for f in headless["fiches"]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=profiles(complete=True))
def test_soundness_holds_for_the_web_interview(api, profile):
    expected = api.post("/api/assess", json=profile)
    assert expected.status_code == 200, expected.text
    same_decision(interview_through_api(api, profile), expected.json())


def test_a_bad_value_gives_400_with_the_cli_message_and_leaves_the_session_unchanged(api):
    session = api.post("/api/interviews", json={}).json()["id"]
    before = api.get(f"/api/interviews/{session}").json()
    reply = api.post(f"/api/interviews/{session}/answers", json={"key": "employees", "value": "douze"})
    assert reply.status_code == 400
    assert reply.json() == {"error": "<interview>: key 'employees': expected a whole number from 0 to 1000000, "
                                     "found 'douze'"}
    assert api.get(f"/api/interviews/{session}").json() == before


def test_assess_refuses_a_bad_profile_with_the_message_the_cli_gives(api, capsys, tmp_path):
    bad = {"employees": 20, "industrail": True}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    reply = api.post("/api/assess", json=bad)
    assert code == 2 and reply.status_code == 400
    assert err.strip() == f"pnman: {reply.json()['error']}".replace("<request>", str(path))


@pytest.mark.parametrize("body,content_type,status", [
    (b"not json", "application/json", 400),
    (b'{"employees": 20}', "text/plain", 415),
    (b"[1, 2]", "application/json", 400),
])
def test_assess_needs_a_json_profile(api, body, content_type, status):
    reply = api.post("/api/assess", content=body, headers={"content-type": content_type})
    assert reply.status_code == status
    assert "error" in reply.json() and "Traceback" not in reply.text


def test_back_asks_the_previous_question_again_with_its_answer_offered(api):
    start = api.post("/api/interviews", json={"lang": "en"}).json()
    session, first = start["id"], start["next"]["key"]
    api.post(f"/api/interviews/{session}/answers", json={"key": first, "value": 20})
    again = api.post(f"/api/interviews/{session}/back").json()["next"]
    assert again["key"] == first and again["default"] == 20
    assert api.get(f"/api/interviews/{session}").json()["answers"] == {}


def test_an_unknown_interview_is_404_and_a_bad_language_400(api):
    assert api.get("/api/interviews/nope").status_code == 404
    assert api.post("/api/interviews/nope/answers", json={"key": "employees", "value": 3}).status_code == 404
    reply = api.post("/api/interviews", json={"lang": "xx"})
    assert reply.status_code == 400 and "lang" in reply.json()["error"]


def test_health_and_fiches(api, capsys):
    assert api.get("/healthz").json() == {"status": "ok", "knowledge_version": KB.version}
    code, out, _ = run(capsys, "fiches", "--format", "json")
    assert api.get("/api/fiches").json() == json.loads(out)


def test_a_foreign_host_header_gives_400(api):
    for path in ("/", "/healthz", "/api/fiches"):
        reply = api.get(path, headers={"host": "evil.example:8000"})
        assert reply.status_code == 400 and "Host" in reply.json()["error"]
    assert api.get("/healthz", headers={"host": "localhost:8000"}).status_code == 200


def test_every_response_carries_a_strict_content_security_policy(api):
    for path in ("/", "/healthz", "/static/pnman.css", "/docs"):
        reply = api.get(path)
        assert reply.status_code == 200, path
        assert "default-src 'self'" in reply.headers["content-security-policy"], path
        assert reply.headers["x-content-type-options"] == "nosniff"


def test_no_page_loads_anything_from_another_site(api):
    for path in ("/", "/docs"):
        page = api.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), path


def test_htmx_is_the_vendored_release(api):
    notes = (ROOT / "interview/web/static/VENDORED.md").read_text(encoding="utf-8")
    expected = re.search(r"sha256 of `htmx.min.js`: `([0-9a-f]{64})`", notes).group(1)
    served = api.get("/static/htmx.min.js")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == expected


def finish_interview(web: TestClient, profile: dict, lang: str = "fr") -> str:
    session = web.post("/api/interviews", json={"lang": lang}).json()["id"]
    step = web.get(f"/api/interviews/{session}").json()["next"]
    while step is not None:
        step = web.post(f"/api/interviews/{session}/answers",
                        json={"key": step["key"], "value": profile.get(step["key"])}).json()["next"]
    return session


# -- the pages, as plain forms (what a browser without JavaScript sends) -----------------------

def csrf(web: TestClient) -> str:
    web.get("/")
    return web.cookies.get("pnman_csrf")


def start(web: TestClient, **fields) -> str:
    reply = web.post("/start", data={"csrf_token": csrf(web), "lang": "fr", **fields}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    return reply.headers["location"]


def key_of(page: str) -> str | None:
    found = re.search(r'name="key" value="([a-z_]+)"', page)
    return found.group(1) if found else None


def answer(web: TestClient, link: str, key: str, value=None, **extra):
    data = {"csrf_token": web.cookies.get("pnman_csrf"), "key": key, **extra}
    if value is not None:
        data["value"] = value
    return web.post(f"{link}/answer", data=data, follow_redirects=False)


@pytest.mark.parametrize("path", ["/start", "/i/xxxxxxxxxxxxxxxxxxxxxx/answer", "/i/xxxxxxxxxxxxxxxxxxxxxx/back"])
def test_a_form_post_without_its_csrf_token_gives_403(tmp_path, path):
    web = client(tmp_path)
    web.get("/")
    reply = web.post(path, data={"lang": "fr", "key": "employees", "value": "3"})
    assert reply.status_code == 403 and "jeton" in reply.text
    forged = web.post(path, data={"csrf_token": "forged", "key": "employees"})
    assert forged.status_code == 403


def test_a_person_goes_through_the_forms_to_a_result_and_downloads_it(tmp_path):
    web = client(tmp_path)
    link = start(web, name="Menuiserie Benali")
    page = web.get(link).text
    assert key_of(page) == "employees" and "Question 1" in page
    bad = answer(web, link, "employees", "douze", action="answer")
    assert bad.status_code == 400 and 'value="douze"' in bad.text and 'class="error"' in bad.text
    assert answer(web, link, "employees", "7", action="answer").status_code == 303
    refused = answer(web, link, "goals", action="answer")            # nothing ticked
    assert refused.status_code == 400 and "objectif" in refused.text
    web.post(f"{link}/answer", data={"csrf_token": web.cookies.get("pnman_csrf"), "key": "goals",
                                     "value": ["start_it", "server"], "action": "answer"})
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    for _ in range(40):
        page = web.get(link).text
        key = key_of(page)
        if key is None:
            break
        value = profile.get(key)
        if value is None:
            answer(web, link, key, action="unknown")
        elif isinstance(value, bool):
            answer(web, link, key, "true" if value else "false", action="answer")
        elif isinstance(value, list):
            web.post(f"{link}/answer", data={"csrf_token": web.cookies.get("pnman_csrf"), "key": key,
                                             "value": [str(v) for v in value], "action": "answer"})
        else:
            answer(web, link, key, str(value), action="answer")
    result = web.get(f"{link}/result")
    assert result.status_code == 200 and "Menuiserie Benali" in result.text
    assert "Plan d’action" in result.text and "Totaux" in result.text
    record = web.get(f"{link}/result.json").json()
    assert record["profile"]["name"] == "Menuiserie Benali" and record["plan"]
    from datetime import datetime                 # the day in words, the exact moment for machines
    day = datetime.fromisoformat(record["timestamp"])
    assert f'<time datetime="{record["timestamp"]}">{day.day} ' in result.text and str(day.year) in result.text
    assert f'> · {record["timestamp"]}' not in result.text
    for step in record["plan"]:
        if step["kind"] == "fiche":
            assert KB.fiche(step["fiche"]).short_title in result.text
    report = web.get(f"{link}/report.html")
    assert report.headers["content-disposition"].startswith("attachment;")
    assert "'sha256-" in report.headers["content-security-policy"] and "Menuiserie Benali" in report.text
    number = record['plan'][-1].get('fiche') or 13
    explained = web.get(f"{link}/fiche/{number}")
    assert explained.status_code == 200 and "Ce qu’il faudrait" in explained.text
    assert f'href="{link}/result#fiche-{number}"' in explained.text          # back to the interview's result
    listing = web.get("/assessments").text
    assert "Menuiserie Benali" in listing and f"{link}/result" in listing


def test_the_review_changes_one_answer_and_keeps_the_others(tmp_path):
    web = client(tmp_path)
    link = start(web)
    answer(web, link, "employees", "7", action="answer")
    web.post(f"{link}/answer", data={"csrf_token": web.cookies.get("pnman_csrf"), "key": "goals",
                                     "value": ["website"], "action": "answer"})
    review = web.get(f"{link}/review").text
    assert "Modifier" in review and f"{link}/edit/employees" in review
    edit = web.get(f"{link}/edit/employees?from=review").text
    assert 'value="7"' in edit and 'name="return" value="review"' in edit
    changed = answer(web, link, "employees", "30", action="answer", **{"return": "review"})
    assert changed.status_code == 303 and changed.headers["location"].endswith("/review")
    state = web.get(f"/api/interviews/{link.rsplit('/', 1)[1]}").json()
    assert state["answers"]["employees"] == 30 and state["answers"]["goals"] == ["website"]


def test_a_restarted_server_keeps_the_sessions(tmp_path):
    first = client(tmp_path)
    session = first.post("/api/interviews", json={"lang": "en"}).json()["id"]
    first.post(f"/api/interviews/{session}/answers", json={"key": "employees", "value": 7})
    first_state = first.get(f"/api/interviews/{session}").json()
    second = client(tmp_path)                      # a new server over the same folder
    assert second.get(f"/api/interviews/{session}").json() == first_state
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    step = first_state["next"]
    while step is not None:
        step = second.post(f"/api/interviews/{session}/answers",
                           json={"key": step["key"], "value": profile.get(step["key"])}).json()["next"]
    assert second.get(f"/api/interviews/{session}").json()["result"]["plan"]


def test_the_pages_speak_the_language_chosen(tmp_path):
    web = client(tmp_path)
    assert "Commencer" in web.get("/").text and "Start" in web.get("/?lang=en").text
    token = csrf(web)
    link = web.post("/start", data={"csrf_token": token, "lang": "en"}, follow_redirects=False).headers["location"]
    assert "How many" in web.get(link).text or "Question 1" in web.get(link).text


def test_arabic_pages_read_right_to_left_and_say_they_are_a_translation(tmp_path):
    from pnman.knowledge.locales import available_languages
    if "ar" not in available_languages():
        pytest.skip("no Arabic catalogue")
    web = client(tmp_path)
    home = web.get("/?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in home and 'class="translation-note"' in home
    assert '<html lang="fr" dir="ltr">' in web.get("/").text
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    session = finish_interview(web, profile, lang="ar")
    page = web.get(f"/i/{session}/result").text
    assert 'dir="rtl"' in page
    assert "<bdi dir=\"ltr\" lang=\"fr\">« Configuration d’un serveur local »</bdi>" in page   # the guide's title, quoted in French


@pytest.mark.slow
def test_the_pdf_report_downloads_when_the_extra_is_installed(tmp_path):
    from pnman.interview.web.views import pdf_available
    web = client(tmp_path)
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    session = finish_interview(web, profile)
    page = web.get(f"/i/{session}/result").text
    reply = web.get(f"/i/{session}/report.pdf")
    if pdf_available():
        assert "report.pdf" in page
        assert reply.status_code == 200 and reply.content.startswith(b"%PDF")
    else:
        assert "report.pdf" not in page
        assert reply.status_code == 404 and "pnman[pdf]" in reply.text


def test_with_record_a_finished_interview_is_in_the_registry_and_its_record_still_audits(tmp_path, capsys):
    registry = tmp_path / "registry.sqlite3"
    web = client(tmp_path / "sessions", registry=registry, record=True)
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    session = finish_interview(web, profile)
    record = web.get(f"/i/{session}/result.json").json()
    assert record["registry"]["entry"]
    assert web.get(f"/api/interviews/{session}").json()["result"] == record      # recorded once, shown the same
    path = tmp_path / "result.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    code, out, err = run(capsys, "audit", str(path))
    assert code == 0, out + err
    code, out, _ = run(capsys, "registry", "list", "--format", "json", "--registry", str(registry))
    listed = json.loads(out)
    assert [e["id"] for e in listed] == [record["registry"]["entry"]]
    restarted = client(tmp_path / "sessions", registry=registry, record=True)     # no second entry
    assert restarted.get(f"/i/{session}/result.json").json() == record
    code, out, _ = run(capsys, "registry", "list", "--format", "json", "--registry", str(registry))
    assert len(json.loads(out)) == 1


def test_the_assessments_page_reads_the_registry_and_shows_overrides_beside_the_engine(tmp_path, capsys):
    registry = tmp_path / "registry.sqlite3"
    code, _, err = run(capsys, "assess", str(ROOT / "examples/tpe-demarrage.yaml"), "--record",
                       "--registry", str(registry))
    entry = re.search(r"(\d+-[0-9a-f]{6})", err).group(1)
    code, _, err = run(capsys, "override", entry, "--fiche", "18", "--status", "ineligible", "--reason",
                       "agency_decision", "--justification", "Le serveur est financé par un autre programme.",
                       "--by", "A. Diagnosticienne", "--registry", str(registry))
    assert code == 0, err
    web = client(tmp_path / "sessions", registry=registry)
    listing = web.get("/assessments").text
    assert "Menuiserie Benali" in listing and f"/assessments/{entry}" in listing
    page = web.get(f"/assessments/{entry}").text
    assert "A. Diagnosticienne" in page and "financé par un autre programme" in page
    assert "Statut du moteur" in page and "inéligible" in page
    assert web.get(f"/assessments/{entry}/result.json").json()["registry"]["entry"] == entry
    explained = web.get(f"/assessments/{entry}/fiche/18")
    assert explained.status_code == 200 and f'href="/assessments/{entry}#fiche-18"' in explained.text
    assert web.get("/assessments/0-000000").status_code == 404


def test_serve_refuses_a_busy_port_and_a_foreign_registry_before_starting(tmp_path, capsys):
    import socket

    from conftest import one_clean_line
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port))
    assert code == 2 and one_clean_line(err) and "already in use" in err
    foreign = tmp_path / "notes.sqlite3"
    foreign.write_text("not a database", encoding="utf-8")
    code, _, err = run(capsys, "serve", "--registry", str(foreign), "--record")
    assert code == 2 and one_clean_line(err) and str(foreign) in err
    code, _, err = run(capsys, "serve", "--edition", "no-such-edition")
    assert code == 2 and one_clean_line(err) and "base" in err


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(KB.facts)) | st.text(max_size=20), value=json_values)
def test_any_answer_is_taken_or_refused_in_one_line_never_a_server_error(api, key, value):
    session = api.post("/api/interviews", json={}).json()["id"]
    before = api.get(f"/api/interviews/{session}").json()
    reply = api.post(f"/api/interviews/{session}/answers", json={"key": key, "value": value})
    assert reply.status_code in (200, 400), reply.text
    if reply.status_code == 400:
        message = reply.json()["error"]
        assert "\n" not in message and "Traceback" not in message
        assert api.get(f"/api/interviews/{session}").json() == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=st.dictionaries(st.sampled_from(sorted(KB.facts)) | st.text(max_size=12), json_values, max_size=6))
def test_any_profile_posted_to_assess_is_assessed_or_refused_never_a_server_error(api, profile):
    reply = api.post("/api/assess", json=profile)
    assert reply.status_code in (200, 400), reply.text


def test_an_oversized_body_is_refused_before_it_is_read(api):
    reply = api.post("/api/assess", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                     headers={"content-type": "application/json"})
    assert reply.status_code == 413 and "error" in reply.json()


def test_an_oversized_chunked_body_is_refused_too(api):
    chunks = (b"{" if i == 0 else b" " * 65536 for i in range(40))     # 2.5 MB, no Content-Length
    reply = api.post("/api/assess", content=chunks, headers={"content-type": "application/json"})
    assert reply.status_code == 413 and "error" in reply.json()


def test_an_answer_from_an_old_page_leads_back_to_the_question_now(tmp_path):
    web = client(tmp_path)
    link = start(web)
    answer(web, link, "employees", "7", action="answer")
    stale = answer(web, link, "uses_it", "true", action="answer")     # a question not asked yet
    assert stale.status_code == 303 and stale.headers["location"] == link
    assert key_of(web.get(link).text) == "goals"


def test_the_host_check_knows_loopback_every_interface_and_names_given():
    from pnman.interview.web.security import allowed_hosts
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    everywhere = allowed_hosts("0.0.0.0", 8080, ["pnman.example.dz"])
    assert {"127.0.0.1:8080", "pnman.example.dz:8080", f"{__import__('socket').gethostname()}:8080"} <= everywhere
    assert "evil.example:8080" not in everywhere
    assert allowed_hosts("192.0.2.7", 80) == {"192.0.2.7:80", "192.0.2.7"}


def test_a_session_changes_language_midway_and_keeps_its_answers(tmp_path):
    web = client(tmp_path)
    link = start(web)
    answer(web, link, "employees", "7", action="answer")
    assert "Que souhaitez-vous" in web.get(link).text
    switched = web.post(f"{link}/lang", data={"csrf_token": web.cookies.get("pnman_csrf"), "lang": "en",
                                              "next": link}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == link
    page = web.get(link).text
    assert '<html lang="en"' in page and key_of(page) == "goals"
    session = link.rsplit("/", 1)[1]
    assert web.get(f"/api/interviews/{session}").json()["answers"] == {"employees": 7}
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    step = web.get(f"/api/interviews/{session}").json()["next"]
    while step is not None:
        value = profile.get(step["key"]) if step["key"] != "employees" else 7
        step = web.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": value}).json()["next"]
    english = web.get(f"{link}/result.json").json()
    web.post(f"{link}/lang", data={"csrf_token": web.cookies.get("pnman_csrf"), "lang": "fr", "next": f"{link}/result"})
    french = web.get(f"{link}/result.json").json()
    assert (english["lang"], french["lang"]) == ("en", "fr")
    assert english["decision_digest"] == french["decision_digest"]
    forged = web.post(f"{link}/lang", data={"csrf_token": web.cookies.get("pnman_csrf"), "lang": "en",
                                            "next": "https://evil.example/"}, follow_redirects=False)
    assert forged.headers["location"] == link                      # never a redirect elsewhere


def test_a_recorded_interview_that_changes_language_is_not_recorded_again(tmp_path, capsys):
    registry = tmp_path / "registry.sqlite3"
    web = client(tmp_path / "sessions", registry=registry, record=True)
    session = finish_interview(web, yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8")))
    french = web.get(f"/i/{session}/result.json").json()
    web.get("/")
    web.post(f"/i/{session}/lang", data={"csrf_token": web.cookies.get("pnman_csrf"), "lang": "en"})
    english = web.get(f"/i/{session}/result.json").json()
    assert english["lang"] == "en" and english["decision_digest"] == french["decision_digest"]
    assert english["registry"] == french["registry"]
    code, out, _ = run(capsys, "registry", "list", "--format", "json", "--registry", str(registry))
    assert len(json.loads(out)) == 1


def test_finishing_again_after_a_changed_answer_records_only_a_changed_decision_naming_what_it_replaces(tmp_path,
                                                                                                      capsys):
    registry = tmp_path / "registry.sqlite3"
    web = client(tmp_path / "sessions", registry=registry, record=True)
    profile = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
    session = finish_interview(web, profile)
    first = web.get(f"/i/{session}/result.json").json()
    reply = web.post(f"/api/interviews/{session}/answers", json={"key": "employees", "value": 40})
    assert reply.status_code == 200, reply.text
    step = reply.json()["next"]
    while step is not None:
        step = web.post(f"/api/interviews/{session}/answers",
                        json={"key": step["key"], "value": profile.get(step["key"])}).json()["next"]
    second = web.get(f"/i/{session}/result.json").json()
    assert second["decision_digest"] != first["decision_digest"]
    assert second["registry"]["replaces"] == first["registry"]["entry"] != second["registry"]["entry"]
    page = web.get(f"/i/{session}/result").text
    assert f"remplace l’entrée {first['registry']['entry']}" in page
    code, out, _ = run(capsys, "registry", "list", "--format", "json", "--registry", str(registry))
    assert len(json.loads(out)) == 2
    # the same decision again (a result made anew, e.g. after a restart under another knowledge
    # version): the entry recorded stands, nothing is appended
    service = web.app.state.service
    again = dict(second, timestamp="2030-01-01T00:00:00+00:00")
    assert service._recorded(again, second) is second
    code, out, _ = run(capsys, "registry", "list", "--format", "json", "--registry", str(registry))
    assert len(json.loads(out)) == 2


def test_a_refused_answer_keeps_the_question_s_address(tmp_path):
    """After a refused answer the address is the question's (htmx pushes it), and the post's
    address, opened again, leads to the question instead of « n'existe pas »."""
    web = client(tmp_path)
    link = start(web)
    refused = web.post(f"{link}/answer", data={"csrf_token": web.cookies.get("pnman_csrf"), "key": "employees",
                                                "value": "sept"}, headers={"HX-Request": "true"}, follow_redirects=False)
    assert refused.status_code == 400 and refused.headers["HX-Push-Url"] == link
    again = web.get(f"{link}/answer", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == link


def test_the_goals_question_offers_no_i_dont_know(tmp_path):
    """The goals question cannot be left unknown (an interview must ask for something): its
    page offers no « Je ne sais pas » that would only be refused."""
    web = client(tmp_path)
    link = start(web)
    page = web.get(link).text
    for _ in range(30):
        key = key_of(page)
        if key == "goals":
            break
        answer(web, link, key, {"employees": "12"}.get(key), action="answer" if key == "employees" else "unknown")
        page = web.get(link).text
    assert key_of(page) == "goals"
    assert 'value="unknown"' not in page


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_api_page_speaks_each_language(tmp_path, lang):
    """/docs in the language of ?lang=: its words and every operation's summary come from the
    catalogue (an operation without words would show FastAPI's English summary)."""
    from pnman.knowledge.locales import catalogue
    cat = catalogue(lang)
    page = client(tmp_path).get(f"/docs?lang={lang}").text
    assert f'<html lang="{lang}" dir="{cat.direction}">' in page
    assert cat.text("docs.title") in page and cat.text("docs.responses") in page
    import html
    summaries = [html.unescape(s) for s in re.findall(r"<p><strong>(.*?)</strong></p>", page)]
    assert len(summaries) >= 7
    operations = {k for k in cat.keys if k.startswith("docs.operations.")}
    assert set(summaries) <= {cat.text(k) for k in operations}
    if lang != "en":
        english = catalogue("en")
        for key in ("docs.machine", "docs.errors", "docs.body", "docs.status.200"):
            assert english.text(key) not in page, key
    assert "Successful Response" not in page and "Validation Error" not in page and "422" not in page



def test_serve_parses_http_and_runs_its_loop_in_c():
    """uvicorn picks httptools and uvloop when they are installed (pyproject's dependencies):
    with h11 and asyncio in Python, a third of a saturated server's CPU was theirs."""
    import importlib.util

    from uvicorn.config import Config
    if importlib.util.find_spec("httptools") is None:      # an environment made before they were dependencies
        pytest.skip("httptools is not installed in this environment: `pip install -e .` installs it")
    config = Config(app=lambda scope, receive, send: None, log_level="warning")
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    assert importlib.util.find_spec("uvloop") is not None
