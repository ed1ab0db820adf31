"""What the triage-page tests share: a `chainwatch ui` subprocess, Debian's chromium, the login.

The browser tests never install a browser: without Chromium they skip with a message, and under
CI=true they fail (CI installs it explicitly: `make ci-deps`, called by .ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[1]
TOKEN = "ui-test-token-7d2e"
# Screenshots the browser tests keep for a human (CI uploads the folder); not committed.
ARTIFACTS = Path(os.environ.get("CHAINWATCH_TEST_ARTIFACTS", REPO / "test-artifacts"))
# Flags that let headless Chromium start on a machine without network (no background connections).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path | None:
    found = os.environ.get("CHAINWATCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    path = Path(found)
    return path if path.is_file() else None


def require_chromium() -> Path:
    """The Chromium to drive, or skip (fail under CI=true) with what to do. Never installs anything."""
    path = chromium_path()
    if path is not None:
        return path
    message = (
        "browser test skipped: no Chromium found (set CHAINWATCH_CHROMIUM or install Debian's chromium, "
        "e.g. `make chromium`, which uses apt-get)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI=true requires it (.ci/run installs it with `make ci-deps`)")
    pytest.skip(message)


@contextmanager
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(page: Page, url: str, token: str = TOKEN, analyst: str = "ana") -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#login")).to_be_visible()
    page.fill("#token", token)
    page.fill("#analyst", analyst)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#alerts tbody tr").first).to_be_visible()


@dataclass
class UiServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    db: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


def start_ui(
    db: Path, tmp: Path, *extra: str, token: str | None = TOKEN, lake: str | None = None
) -> UiServer:
    """`chainwatch ui --db DB` (or `--lake CATALOG` when ``lake`` is given) on a free port."""
    log = tmp / f"ui-{time.monotonic_ns()}.log"
    store = ["--lake", lake] if lake is not None else ["--db", str(db)]
    env = {k: v for k, v in os.environ.items() if k != "CHAINWATCH_UI_TOKEN"}
    if token is not None:
        env["CHAINWATCH_UI_TOKEN"] = token
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "ui", *store, "--port", "0", *extra],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text(errors="replace"))
        if match:
            return UiServer(match.group(1), proc, log, db)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"chainwatch ui did not start:\n{log.read_text(errors='replace')}")


@contextmanager
def serving_a_copy(db: Path, tmp: Path) -> Iterator[UiServer]:
    """`chainwatch ui` on a copy of ``db`` (tests may record verdicts), stopped when the block ends."""
    copy = tmp / db.name
    copy.write_bytes(db.read_bytes())
    ui = start_ui(copy, tmp)
    try:
        yield ui
    finally:
        ui.stop()
