"""The triage page end to end in a real headless browser (Debian's chromium, driven by Playwright).

Without Chromium the browser tests skip with a message (and FAIL under CI=true, where `make ci-deps`
installs it); `make test` never installs it. Playwright never downloads a browser here: it is pointed at
the system's chromium (tests/ui_support.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.cli_support import run_chainwatch
from tests.db_support import held_for_writing
from tests.demo_support import seeded_demo_db
from tests.ui_support import (
    REPO,
    TOKEN,
    UiServer,
    browser,
    log_in,
    require_chromium,
    serving_a_copy,
    start_ui,
)

KNOWN_ALERT = "bf3cb0624f95ba86f2161a36d6760b76"  # the simulator's privilege-escalation chain (seed 7)


def http(
    url: str, *, token: str | None = None, data: bytes | None = None, host: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if host:
        headers["Host"] = host
    request = urllib.request.Request(
        url, data=data, headers=headers, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else body


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_demo_db(tmp_path_factory.mktemp("ui"))


@pytest.fixture
def server(demo_db: Path, tmp_path: Path) -> Iterator[UiServer]:
    with serving_a_copy(demo_db, tmp_path) as ui:
        yield ui


def test_the_api_requires_the_token_caps_bodies_and_checks_the_host(server: UiServer) -> None:
    api = server.url + "api/alerts"
    assert http(api)[0] == 401
    assert http(api, token="wrong")[0] == 401
    status, body = http(api, token=TOKEN)
    assert status == 200 and body["alerts"]
    big = json.dumps({"status": "benign", "note": "x" * 20_000}).encode()
    assert http(f"{api}/{KNOWN_ALERT}/verdict", token=TOKEN, data=big)[0] == 413
    assert http(f"{api}/{KNOWN_ALERT}/verdict", token=TOKEN, data=b'{"status": "maybe"}')[0] == 400
    assert http(api, token=TOKEN, host="attacker.example:80")[0] == 421  # DNS rebinding
    with urllib.request.urlopen(server.url, timeout=10) as response:
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_in_a_real_browser(server: UiServer) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        page = chromium.new_page()
        page.goto(server.url)
        # Token required: a wrong one is refused, the right one opens the list.
        expect(page.locator("#login")).to_be_visible()
        page.fill("#token", "not-the-token")
        page.fill("#analyst", "ana")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_contain_text("refused")
        page.fill("#token", TOKEN)
        page.fill("#analyst", "ana")
        page.click("#login-form button[type=submit]")
        rows = page.locator("#alerts tbody tr")
        expect(rows.first).to_be_visible()
        total = rows.count()
        # Filter: critical only.
        page.select_option("#f-severity", "critical")
        page.click("#filters button[type=submit]")
        expect(page.locator("#count")).not_to_have_text(f"{total} alerts")
        severities = page.locator("#alerts tbody tr td:nth-child(2)").all_inner_texts()
        assert severities and set(severities) == {"critical"}
        # Open the known alert: its chain with the three triggering steps.
        page.fill("#f-text", "backup-automation")
        page.click("#filters button[type=submit]")
        expect(rows).to_have_count(1)
        rows.first.click()
        expect(page.locator("#d-title")).to_contain_text("created IAM user backup-automation")
        triggering = page.locator("#timeline tr.trigger td:nth-child(4)")
        expect(triggering).to_have_text(["CreateUser", "AttachUserPolicy", "CreateAccessKey"])
        expect(page.locator("#lifetimes")).to_contain_text("revoked 2026-01-05 09:23:54")
        expect(page.locator("#d-verdict")).to_have_text("none yet")
        # Record a verdict.
        page.fill("#v-note", "agent created an admin user; key deleted, credential revoked")
        page.click("button.verdict[data-status=true-positive]")
        expect(page.locator("#v-result")).to_have_text("recorded true-positive")
        expect(page.locator("#d-verdict")).to_contain_text("true-positive by ana")
        expect(rows.first.locator("td:nth-child(6)")).to_have_text("true-positive")
    server.stop()
    con = duckdb.connect(str(server.db), read_only=True)
    rows_db = con.execute("SELECT alert_id, status, note, analyst FROM verdicts").fetchall()
    assert rows_db == [
        (KNOWN_ALERT, "true-positive", "agent created an admin user; key deleted, credential revoked", "ana")
    ]


def test_insecure_local_mode_needs_no_token_and_stays_on_loopback(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())
    ui = start_ui(db, tmp_path, "--insecure-local", token=None)
    try:
        status, body = http(ui.url + "api/alerts?severity=critical")
        assert status == 200 and all(a["severity"] == "critical" for a in body["alerts"])
        assert "no access token" in ui.log.read_text()
    finally:
        ui.stop()
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ui", "--db", str(db), "--insecure-local", "--host", "0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "only binds to 127.0.0.1" in done.stderr


HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">'


def test_agent_controlled_text_is_shown_as_text_never_as_html(demo_db: Path, tmp_path: Path) -> None:
    """Titles and targets come from the audited agents: markup in them must reach the page as text."""
    from playwright.sync_api import expect

    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())
    con = duckdb.connect(str(db))
    con.execute("UPDATE alerts SET title = ? WHERE alert_id = ?", [f"deleted {HOSTILE}", KNOWN_ALERT])
    con.execute(
        "UPDATE events SET target = ? WHERE event_id = (SELECT event_ids[1] FROM alerts WHERE alert_id = ?)",
        [f"arn:{HOSTILE}", KNOWN_ALERT],
    )
    con.close()
    ui = start_ui(db, tmp_path)
    try:
        with browser() as chromium:
            page = chromium.new_page()
            page.goto(ui.url)
            page.fill("#token", TOKEN)
            page.fill("#analyst", "ana")
            page.click("#login-form button[type=submit]")
            page.fill("#f-text", "deleted <img")
            page.click("#filters button[type=submit]")
            rows = page.locator("#alerts tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first.locator("td:nth-child(5)")).to_have_text(f"deleted {HOSTILE}")
            rows.first.click()
            expect(page.locator("#d-title")).to_contain_text(HOSTILE)
            expect(page.locator("#timeline")).to_contain_text(f"arn:{HOSTILE}")
            assert page.locator("main img").count() == 0  # no element was made from the text
            assert page.evaluate("document.body.dataset.pwned") is None
    finally:
        ui.stop()


def test_no_cross_site_verdicts_even_without_a_token(demo_db: Path, tmp_path: Path) -> None:
    """--insecure-local has no token: a page on another site must still not be able to record a verdict
    (a form or text/plain POST needs no CORS preflight, so the server itself must refuse it)."""
    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())
    ui = start_ui(db, tmp_path, "--insecure-local", token=None)
    verdict = f"{ui.url}api/alerts/{KNOWN_ALERT}/verdict"
    body = json.dumps({"status": "benign", "note": "nothing to see"}).encode()
    try:
        for headers in (
            {"Content-Type": "text/plain"},  # what a cross-site fetch without preflight can send
            {"Content-Type": "application/x-www-form-urlencoded"},
            {"Content-Type": "application/json", "Origin": "https://attacker.example"},
        ):
            request = urllib.request.Request(verdict, data=body, headers=headers, method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code in (403, 415), headers
        same_origin = {"Content-Type": "application/json", "Origin": ui.url.rstrip("/")}
        request = urllib.request.Request(verdict, data=body, headers=same_origin, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert http(f"{ui.url}api/alerts?limit=-1")[0] == 400
    finally:
        ui.stop()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM verdicts").fetchone() == (1,)


def test_the_page_holds_no_lock_the_command_line_needs(demo_db: Path, tmp_path: Path) -> None:
    """While `chainwatch ui` runs, `alerts`, `show`, `triage` and even `run` use the same file; a verdict
    holds the write lock only while it is recorded. A writer that holds the file gets a 503 naming it."""
    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())
    ui = start_ui(db, tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_chainwatch(args, cwd=tmp_path)

    try:
        listed = cli("alerts", "--db", str(db), "--severity", "critical")
        assert listed.returncode == 0 and KNOWN_ALERT[:12] in listed.stdout, listed.stderr
        shown = cli("show", KNOWN_ALERT[:8], "--db", str(db))
        assert shown.returncode == 0 and "backup-automation" in shown.stdout, shown.stderr
        verdict = json.dumps({"status": "benign", "note": "page", "analyst": "ana"}).encode()
        assert http(f"{ui.url}api/alerts/{KNOWN_ALERT}/verdict", token=TOKEN, data=verdict)[0] == 200
        triaged = cli("triage", KNOWN_ALERT, "--status", "true-positive", "--db", str(db), "--analyst", "bo")
        assert triaged.returncode == 0, triaged.stderr
        workload = tmp_path / "more.jsonl"
        shutil.copy(demo_db.parent / "workload.jsonl", workload)
        ran = cli("run", str(workload), "--db", str(db))
        assert ran.returncode == 0, ran.stderr
        status, body = http(f"{ui.url}api/alerts/{KNOWN_ALERT}", token=TOKEN)
        assert status == 200 and body["verdict"]["status"] == "true-positive"
        with held_for_writing(db) as holder:
            status, body = http(ui.url + "api/alerts", token=TOKEN)
            assert status == 503 and f"PID {holder.pid}" in body["error"], body
        assert http(ui.url + "api/alerts", token=TOKEN)[0] == 200  # served again once the writer is gone
    finally:
        ui.stop()
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("SELECT analyst FROM verdicts ORDER BY recorded_at").fetchall()] == [
        "ana",
        "bo",
    ]


def test_without_chromium_the_browser_tests_skip_and_ci_fails_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="browser test skipped: no Chromium found"):
        require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        require_chromium()


def test_make_test_installs_no_system_package() -> None:
    """`make test` (the README's second command) must not change the machine: no apt-get in what it runs;
    CI installs Chromium explicitly with `make ci-deps`."""
    dry = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "apt-get" not in dry.stdout and "sudo" not in dry.stdout, dry.stdout
    ci = subprocess.run(["make", "-n", "ci-deps"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "apt-get install -y -q chromium" in ci.stdout
    assert "make ci-deps" in (REPO / ".ci" / "run").read_text()


def test_the_page_says_which_process_holds_the_database(server: UiServer) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        page = chromium.new_page()
        log_in(page, server.url)
        with held_for_writing(server.db) as holder:
            page.click("#filters button[type=submit]")
            expect(page.locator("#app-error")).to_contain_text(
                f"is being written by another process (PID {holder.pid}"
            )
        page.click("#filters button[type=submit]")
        expect(page.locator("#app-error")).to_have_text("")
        expect(page.locator("#alerts tbody tr").first).to_be_visible()
