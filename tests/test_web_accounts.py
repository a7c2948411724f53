"""Accounts and roles of `pnman serve` (contract §11), through its HTTP interface: each rule
of the table for anonymous visitors, each role, a wrong role, an expired session and an
API token; signing in (one message, throttling, CSRF, cookie flags); overrides under the
account's name; the auditor's replay; no other interview's id on an anonymous page; the
server with no account; `pnman users`."""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from conftest import run  # noqa: E402
from test_web_api import ROOT, client, finish_interview, start  # noqa: E402

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}
PROFILE = {"employees": 12, "goals": ["server"], "pnman_member": True, "name": "Menuiserie Benali"}


@pytest.fixture
def office(tmp_path, capsys, monkeypatch):
    """A server with a registry holding one entry, and one account of each role."""
    registry = tmp_path / "registry.sqlite3"
    code, _, err = run(capsys, "assess", str(ROOT / "examples/tpe-demarrage.yaml"), "--record",
                       "--registry", str(registry))
    assert code == 0, err
    entry = re.search(r"(\d+-[0-9a-f]{6})", err).group(1)
    accounts = tmp_path / "accounts.sqlite3"
    for name, role in (("dina", "diagnostician"), ("aude", "auditor"), ("adam", "admin")):
        code, _, err = run(capsys, "users", "--accounts", str(accounts), "add", name, "--role", role,
                           stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
        assert code == 0, err
    return {"registry": registry, "entry": entry, "accounts": accounts, "sessions": tmp_path / "sessions"}


def visitor(office, address="192.0.2.10", **options):
    office["sessions"].mkdir(exist_ok=True)
    return client(office["sessions"], address=address, registry=office["registry"], accounts=office["accounts"],
                  **options)


def sign_in(web, name, password=PASSWORD, next_="/assessments", token=None):
    web.get("/login")
    data = {"username": name, "password": password, "csrf_token": web.cookies.get("pnman_csrf") if token is None
            else token, "next": next_}
    return web.post("/login", data=data, follow_redirects=False)


def signed_in(office, name, **options):
    web = visitor(office, **options)
    reply = sign_in(web, name)
    assert reply.status_code == 303, reply.text
    return web


def override_form(web, entry, by=None, justification="Le serveur est financé par un autre programme."):
    data = {"csrf_token": web.cookies.get("pnman_csrf"), "fiche": "18", "status": "ineligible",
            "reason": "agency_decision", "justification": justification}
    if by:
        data["by"] = by
    return web.post(f"/assessments/{entry}/override", data=data, headers=HTML, follow_redirects=False)


# -- the table of §11 ------------------------------------------------------------------------------

def test_an_anonymous_visitor_is_sent_to_sign_in_and_a_program_gets_401(office):
    web = visitor(office)
    entry = office["entry"]
    for path in ("/assessments", f"/assessments/{entry}", f"/assessments/{entry}/fiche/18",
                 f"/assessments/{entry}/report.html", "/audit", f"/audit/{entry}"):
        reply = web.get(path, headers=HTML, follow_redirects=False)
        assert reply.status_code == 303, path
        assert reply.headers["location"].startswith("/login?next=" + path.replace("/", "%2F")), path
    for path in ("/api/assessments", f"/api/assessments/{entry}", f"/assessments/{entry}/result.json"):
        reply = web.get(path, follow_redirects=False)
        assert reply.status_code == 401 and "sign in" in reply.json()["error"], path
    boosted = web.get("/assessments", headers={"hx-request": "true", "accept": "*/*"}, follow_redirects=False)
    assert boosted.status_code == 303                               # htmx swaps in the sign-in page
    reply = web.post(f"/api/assessments/{entry}/overrides", json={"fiche": 18})
    assert reply.status_code == 401
    web.get("/")
    assert override_form(web, entry).status_code == 303          # to the sign-in page, nothing recorded
    # what anyone may do stays open
    assert web.get("/").status_code == 200 and web.get("/healthz").status_code == 200
    assert web.get("/api/fiches").status_code == 200
    assert web.post("/api/interviews", json={}).status_code == 201


@pytest.mark.parametrize("name, allowed, refused", [
    ("dina", ["/assessments", "/assessments/{e}", "/assessments/{e}/fiche/18", "/assessments/{e}/result.json"],
     ["/audit", "/audit/{e}", "/audit.jsonl"]),
    ("aude", ["/assessments", "/assessments/{e}", "/assessments/{e}/report.html", "/audit", "/audit/{e}",
              "/audit.jsonl"], []),
    ("adam", ["/assessments", "/assessments/{e}", "/audit", "/audit/{e}", "/audit.jsonl"], []),
])
def test_each_role_reaches_what_the_table_gives_it_and_no_more(office, name, allowed, refused):
    web = signed_in(office, name)
    entry = office["entry"]
    for path in allowed:
        reply = web.get(path.format(e=entry), headers=HTML)
        assert reply.status_code == 200, (name, path, reply.text[:200])
    for path in refused:
        reply = web.get(path.format(e=entry), headers=HTML)
        assert reply.status_code == 403, (name, path)
        assert "Accès refusé" in reply.text
    page = web.get(f"/assessments/{entry}", headers=HTML).text
    assert f"<bdi>{name}</bdi>" in page                                 # who am I, in the top bar
    assert ('action="/assessments/' + entry + '/override') in page or name == "aude"


def test_an_override_takes_its_by_from_the_account_and_is_logged(office, capsys):
    web = signed_in(office, "dina")
    entry = office["entry"]
    short = override_form(web, entry, justification="trop court")
    assert short.status_code == 400 and 'class="error"' in short.text and "trop court" in short.text
    reply = override_form(web, entry, by="Mallory")                      # a forged `by` is ignored
    assert reply.status_code == 303
    code, out, _ = run(capsys, "registry", "show", entry, "--format", "json", "--registry", str(office["registry"]))
    overrides = json.loads(out)["overrides"]
    assert [(o["fiche"], o["status"], o["by"]) for o in overrides] == [(18, "ineligible", "dina")]
    page = web.get(f"/assessments/{entry}", headers=HTML).text
    assert "financé par un autre programme" in page and "Mallory" not in page
    code, out, _ = run(capsys, "users", "--accounts", str(office["accounts"]), "log", "--format", "json")
    actions = [(line["account"], line["action"]) for line in json.loads(out)]
    assert ("dina", "login") in actions and ("dina", "override") in actions
    assert next(line for line in json.loads(out) if line["action"] == "override")["address"] == "192.0.2.10"


def test_an_auditor_may_not_override(office, capsys):
    web = signed_in(office, "aude")
    assert override_form(web, office["entry"]).status_code == 403
    code, out, _ = run(capsys, "registry", "show", office["entry"], "--format", "json",
                       "--registry", str(office["registry"]))
    assert json.loads(out)["overrides"] == []


def test_the_auditors_page_replays_an_entry_and_verifies_the_chain(office):
    web = signed_in(office, "aude")
    page = web.get(f"/audit/{office['entry']}", headers=HTML)
    assert page.status_code == 200
    assert "CONFORME" in page.text
    assert "Registre intact" in page.text
    export = web.get("/audit.jsonl", headers=HTML)
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [line["id"] for line in lines] == [office["entry"]]
    with sqlite3.connect(office["registry"]) as conn:               # an entry changed behind pnman's back
        conn.execute("DROP TRIGGER entries_never_updated")
        conn.execute("UPDATE entries SET name = 'Autre' WHERE id = ?", (office["entry"],))
    broken = web.get("/audit", headers=HTML)
    assert broken.status_code == 409 and office["entry"] in broken.text


def test_a_token_opens_the_api_for_its_role_only(office, capsys):
    code, token, _ = run(capsys, "users", "--accounts", str(office["accounts"]), "token", "dina")
    token = token.strip()
    assert code == 0 and token.startswith("pnman_")
    web = visitor(office)
    bearer = {"authorization": f"Bearer {token}"}
    listed = web.get("/api/assessments", headers=bearer)
    assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [office["entry"]]
    shown = web.get(f"/api/assessments/{office['entry']}", headers=bearer).json()
    assert shown["record"]["profile"]["name"] == "Menuiserie Benali"
    made = web.post(f"/api/assessments/{office['entry']}/overrides", headers=bearer,
                    json={"fiche": 18, "status": "ineligible", "reason": "agency_decision", "by": "Mallory",
                          "justification": "Le serveur est financé par un autre programme."})
    assert made.status_code == 201 and made.json()["by"] == "dina"
    assert web.get("/audit.jsonl", headers=bearer).status_code == 403              # a diagnostician's token
    assert web.get("/api/assessments", headers={"authorization": "Bearer pnman_forged"}).status_code == 401
    run(capsys, "users", "--accounts", str(office["accounts"]), "disable", "dina")
    assert web.get("/api/assessments", headers=bearer).status_code == 401
    stored = office["accounts"].read_bytes()
    assert token.encode() not in stored and PASSWORD.encode() not in stored


def test_an_idle_session_expires(office):
    web = signed_in(office, "dina", idle_minutes=5)
    assert web.get("/assessments", headers=HTML).status_code == 200
    long_ago = (datetime.now(timezone.utc) - timedelta(minutes=6)).replace(microsecond=0).isoformat()
    with sqlite3.connect(office["accounts"]) as conn:
        conn.execute("UPDATE logins SET last_seen = ?", (long_ago,))
    reply = web.get("/assessments", headers=HTML, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login")


def test_signing_out_ends_the_session_and_is_logged(office, capsys):
    web = signed_in(office, "adam")
    cookie = web.cookies.get("pnman_login")
    reply = web.post("/logout", data={"csrf_token": web.cookies.get("pnman_csrf")})
    assert reply.status_code == 200 and "déconnecté" in reply.text
    web.cookies.set("pnman_login", cookie)                        # the old cookie no longer opens anything
    assert web.get("/assessments", headers=HTML, follow_redirects=False).status_code == 303
    code, out, _ = run(capsys, "users", "--accounts", str(office["accounts"]), "log")
    assert "adam\t192.0.2.10\tlogout" in out


# -- signing in ------------------------------------------------------------------------------------

def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(office):
    wrong_name = sign_in(visitor(office, address="192.0.2.1"), "nobody")
    wrong_password = sign_in(visitor(office, address="192.0.2.2"), "dina", "not the right one!")
    assert wrong_name.status_code == wrong_password.status_code == 401
    message = lambda page: re.search(r'<p class="error" role="alert">(.*?)</p>', page).group(1)  # noqa: E731
    assert message(wrong_name.text) == message(wrong_password.text) == "Nom d’utilisateur ou mot de passe incorrect."


def test_five_failures_for_one_name_throttle_it_for_every_address(office):
    for i in range(5):
        assert sign_in(visitor(office, address=f"192.0.2.{i + 1}"), "dina", "guess number %d" % i).status_code == 401
    blocked = sign_in(visitor(office, address="192.0.2.99"), "dina")            # even the right password
    assert blocked.status_code == 429 and "15 minutes" in blocked.text
    assert blocked.headers["retry-after"] == "900"
    assert sign_in(visitor(office, address="192.0.2.99"), "aude").status_code == 303   # another name is not


def test_five_failures_from_one_address_throttle_it_for_every_name(office, capsys):
    web = visitor(office, address="198.51.100.7")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert sign_in(web, name).status_code == 401
    assert sign_in(web, "aude").status_code == 429
    assert sign_in(visitor(office, address="198.51.100.8"), "aude").status_code == 303
    code, out, _ = run(capsys, "users", "--accounts", str(office["accounts"]), "log", "--format", "json")
    actions = [line["action"] for line in json.loads(out)]
    assert actions.count("login_failed") == 5 and actions.count("login_throttled") == 1


def test_the_login_form_needs_its_csrf_token(office):
    web = visitor(office)
    for token in ("", "forged"):
        reply = sign_in(web, "dina", token=token)
        assert reply.status_code == 403 and "pnman_login" not in reply.headers.get("set-cookie", "")


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(office):
    plain = sign_in(visitor(office), "dina").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=lax" in plain and "Secure" not in plain
    web = visitor(office)
    web.base_url = web.base_url.copy_with(scheme="https")
    secure = sign_in(web, "dina").headers["set-cookie"]
    assert "HttpOnly" in secure and "SameSite=lax" in secure and "Secure" in secure


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_signing_in_never_redirects_to_another_site(office, target):
    reply = sign_in(visitor(office), "dina", next_=target)
    assert reply.status_code == 303 and reply.headers["location"] == "/assessments"


# -- privacy ---------------------------------------------------------------------------------------

def test_no_anonymous_page_names_another_interviews_id(office):
    web = visitor(office)
    others = [finish_interview(visitor(office, address="203.0.113.5"), PROFILE) for _ in range(2)]
    mine = start(web, name="Ma société")
    own = mine.rsplit("/", 1)[-1]
    pages = ["/", "/login", mine, f"{mine}/review", "/docs", "/assessments", "/audit", "/i/xxxxxxxxxxxxxxxxxxxxxx"]
    for path in pages:
        page = web.get(path, headers=HTML).text
        for other in others:
            assert other not in page, path
            assert other[:8] not in page, path
    assert own in web.get(mine, headers=HTML).text


# -- a server with no account ----------------------------------------------------------------------

def test_with_no_account_only_this_machine_sees_the_assessments(tmp_path):
    assert client(tmp_path, address="127.0.0.1").get("/assessments", headers=HTML).status_code == 200
    far = client(tmp_path, address="192.0.2.10").get("/assessments", headers=HTML)
    assert far.status_code == 403 and "pnman users add" in far.text
    relayed = client(tmp_path, address="127.0.0.1").get("/assessments", headers={**HTML, "x-forwarded-for": "1.2.3.4"})
    assert relayed.status_code == 403


def test_serve_beyond_loopback_with_no_account_refuses_to_start(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0", "--port", "8765")
    assert code == 2 and "pnman users add NAME --role admin" in err and "Traceback" not in err


# -- pnman users -----------------------------------------------------------------------------------

def test_users_add_list_passwd_disable_and_the_log(tmp_path, capsys, monkeypatch):
    accounts = ["users", "--accounts", str(tmp_path / "a.sqlite3")]
    assert run(capsys, *accounts, "add", "zoe", "--role", "auditor", stdin=PASSWORD + "\n",
               monkeypatch=monkeypatch)[0] == 0
    code, _, err = run(capsys, *accounts, "add", "zoe", "--role", "admin", stdin=PASSWORD + "\n",
                       monkeypatch=monkeypatch)
    assert code == 2 and "exists already" in err
    code, _, err = run(capsys, *accounts, "add", "yan", "--role", "admin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "12 characters" in err
    code, _, err = run(capsys, *accounts, "add", "bad name", "--role", "admin", stdin=PASSWORD + "\n",
                       monkeypatch=monkeypatch)
    assert code == 2 and "NAME" in err
    code, out, _ = run(capsys, *accounts, "list", "--format", "json")
    listed = json.loads(out)
    assert [set(a) for a in listed] == [{"name", "role", "active", "created_at", "last_login"}]
    assert listed[0]["name"] == "zoe" and listed[0]["role"] == "auditor" and listed[0]["active"] is True
    assert run(capsys, *accounts, "passwd", "zoe", stdin="another long password\n", monkeypatch=monkeypatch)[0] == 0
    assert run(capsys, *accounts, "disable", "zoe")[0] == 0
    assert json.loads(run(capsys, *accounts, "list", "--format", "json")[1])[0]["active"] is False
    code, _, err = run(capsys, *accounts, "passwd", "nobody", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 2 and "no account" in err
    with sqlite3.connect(tmp_path / "a.sqlite3") as conn:
        stored = conn.execute("SELECT password FROM accounts").fetchone()[0]
        assert stored.startswith("$argon2id$")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM log")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE log SET account = 'x'")
    log = run(capsys, *accounts, "log")[1]
    assert [line.split("\t")[3] for line in log.splitlines()] == ["account_added", "password_changed",
                                                                  "account_disabled"]
    assert (tmp_path / "a.sqlite3").stat().st_mode & 0o777 == 0o600


def test_the_audit_pages_say_when_there_is_no_registry_yet(tmp_path):
    web = client(tmp_path, registry=tmp_path / "not-yet.sqlite3")          # loopback, no account: admin
    for path in ("/audit", "/audit/1-abcdef", "/audit.jsonl"):
        reply = web.get(path, headers=HTML)
        assert reply.status_code == 404 and "registre" in reply.text, path
    assert web.get("/api/assessments").json() == []


def test_a_block_lasts_15_minutes_from_the_fifth_failure(office, monkeypatch):
    """Failures spread over 14 minutes still block for the whole 15 minutes after the fifth."""
    from pnman.interview.accounts import store as accounts_store
    start = datetime.now(timezone.utc)
    clock = {"now": start}
    monkeypatch.setattr(accounts_store, "now", lambda: clock["now"])
    for minute in (0, 1, 2, 3, 14):
        clock["now"] = start + timedelta(minutes=minute)
        assert sign_in(visitor(office, address="192.0.2.50"), "dina", "guess %d" % minute).status_code == 401
    for minute, status in ((16, 429), (28, 429), (29.5, 303)):
        clock["now"] = start + timedelta(minutes=minute)
        assert sign_in(visitor(office, address="192.0.2.51"), "dina").status_code == status, minute
