"""docs/deploy.md, run: Debian's nginx on 127.0.0.1 with the document's own server block (a
self-signed certificate made by openssl in place of a real one) in front of a real
`pnman serve --root-path /pnman --forwarded-allow-ips 127.0.0.1`, and Chromium signing in,
opening an entry and making an override through it, over HTTPS and under the sub-path."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = (ROOT / "docs/deploy.md").read_text(encoding="utf-8")
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.path.exists(p)), None)
OPENSSL = shutil.which("openssl")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery staple"


def block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", DEPLOY, flags=re.S)
    assert found, f"docs/deploy.md has no {language} block"
    return found.group(1)


def test_the_systemd_unit_starts_a_command_pnman_understands():
    unit = block("ini")
    exec_start = re.search(r"^ExecStart=(.*)$", unit, flags=re.M).group(1)
    argv = shlex.split(exec_start)
    assert argv[0].endswith("/pnman")
    from pnman.interview.cli.main import build_parser
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.host, args.root_path, args.forwarded_allow_ips) == \
           ("serve", "127.0.0.1", "/pnman", "127.0.0.1")
    assert "User=pnman" in unit and "PNMAN_HOME=/var/lib/pnman" in unit
    port = re.search(r"proxy_pass http://127\.0\.0\.1:(\d+)/;", block("nginx")).group(1)
    assert port == str(args.port)


def run_cli_subprocess(argv, env, stdin: str | None = None, stdout: bool = False) -> str:
    """`pnman ARGV` as its own process; its standard error (or output), after exit 0."""
    done = subprocess.run([sys.executable, "-m", "pnman", *argv], env=env, cwd=ROOT, input=stdin or "",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout if stdout else done.stderr


def _free_port() -> int:
    from web_server import free_port
    return free_port()


@contextlib.contextmanager
def _process(argv, env=None, ready=None, name="process"):
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if ready is not None:
            for _ in range(300):                               # at most 30 s
                if ready():
                    break
                assert proc.poll() is None, f"{name} stopped: {proc.stderr.read()[-2000:]}"
                time.sleep(0.1)
            else:
                raise AssertionError(f"{name} did not start")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _answers(url: str) -> bool:
    import ssl
    import urllib.request
    try:
        urllib.request.urlopen(url, timeout=1, context=ssl._create_unverified_context())   # noqa: S310 - a test
        return True
    except OSError:
        return False


def nginx_conf(tmp_path: Path, https_port: int, pnman_port: int) -> Path:
    """The document's server block with a test's certificate and ports, in a minimal nginx.conf
    that an unprivileged nginx can run from a folder of its own."""
    cert, key = tmp_path / "pnman.crt", tmp_path / "pnman.key"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    server = block("nginx")
    server = server.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    server = server.replace("/etc/ssl/pnman/pnman.crt", str(cert)).replace("/etc/ssl/pnman/pnman.key", str(key))
    server = server.replace("http://127.0.0.1:8000/", f"http://127.0.0.1:{pnman_port}/")
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server}
}}
""", encoding="utf-8")
    return conf


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(NGINX is None, reason="no nginx on this machine (.ci/run installs Debian's)")
@pytest.mark.skipif(OPENSSL is None, reason="no openssl on this machine (.ci/run installs it)")
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's)")
def test_a_diagnostician_signs_in_opens_an_entry_and_overrides_through_nginx_and_tls(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PNMAN_HOME=str(home))
    for name in ("PNMAN_REGISTRY", "PNMAN_ACCOUNTS"):
        env.pop(name, None)
    run_cli_subprocess(["users", "add", "karim", "--role", "diagnostician"], env, stdin=PASSWORD + "\n")
    err = run_cli_subprocess(["assess", str(ROOT / "examples/tpe-demarrage.yaml"), "--record"], env)
    entry = re.search(r"(\d+-[0-9a-f]{6})", err).group(1)
    pnman_port, https_port = _free_port(), _free_port()
    conf = nginx_conf(tmp_path, https_port, pnman_port)
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    base = f"https://127.0.0.1:{https_port}/pnman"
    serve = [sys.executable, "-m", "pnman", "serve", "--port", str(pnman_port), "--root-path", "/pnman",
             "--forwarded-allow-ips", "127.0.0.1", "--record"]
    with _process(serve, env, lambda: _answers(f"http://127.0.0.1:{pnman_port}/healthz"), "pnman serve"), \
            _process([NGINX, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"], None,
                     lambda: _answers(base + "/healthz"), "nginx"):
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                context = browser.new_context(ignore_https_errors=True, locale="fr-FR")
                page = context.new_page()
                page.goto(f"{base}/assessments")                           # not signed in: sent to the form
                assert page.url.startswith(f"{base}/login?next=")
                page.fill("#username", "karim")
                page.fill("#password", PASSWORD)
                page.click("form.login button[type=submit]")
                page.wait_for_url(f"{base}/assessments")
                cookie = next(c for c in context.cookies() if c["name"] == "pnman_login")
                assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
                assert cookie["path"] == "/pnman"
                assert "karim" in page.inner_text("header.top")
                page.click(f"a[href='/pnman/assessments/{entry}']")
                page.wait_for_url(f"{base}/assessments/{entry}*")
                assert "Menuiserie Benali" in page.inner_text("main")
                page.select_option("#o-fiche", "18")
                page.select_option("#o-status", "ineligible")
                page.select_option("#o-reason", "agency_decision")
                page.fill("#o-justification", "Le serveur est financé par un autre programme.")
                page.click("form.override button[type=submit]")
                page.wait_for_selector("text=Le serveur est financé par un autre programme.")
                assert page.url.startswith(f"{base}/assessments/{entry}")
                links = page.eval_on_selector_all("a[href], form[action], link[href], script[src]",
                                                  "els => els.map(e => e.getAttribute('href') || "
                                                  "e.getAttribute('action') || e.getAttribute('src'))")
                assert links and all(not u.startswith("/") or u.startswith("/pnman/") for u in links), links
            finally:
                browser.close()
    shown = json.loads(run_cli_subprocess(["registry", "show", entry, "--format", "json"], env, stdout=True))
    assert [(o["fiche"], o["status"], o["by"]) for o in shown["overrides"]] == [(18, "ineligible", "karim")]
    log = run_cli_subprocess(["users", "log"], env, stdout=True)
    assert re.search(r"karim\t127\.0\.0\.1\tlogin", log) and "karim\t127.0.0.1\toverride" in log
