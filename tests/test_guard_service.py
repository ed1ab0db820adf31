"""``chainwatch guard serve`` over HTTP: the token, bad requests with reasons, dead letters, health; and the
start-up refusals (no token, an address other than this machine's, a broken policy file)."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.guard_support import CHAINWATCH, TOKEN, env_for, guard_service

pytestmark = pytest.mark.slow


def post(url: str, body: bytes, token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_http_interface(tmp_path: Path) -> None:
    with guard_service(tmp_path) as served:
        decide, report = served.url + "/v1/decide", served.url + "/v1/report"
        assert post(decide, b"{}", token=None)[0] == 401
        assert post(decide, b"{}", token="wrong-token-wrong-token")[0] == 401
        status, body = post(decide, b"not json")
        assert status == 400 and "not JSON" in body["error"]
        status, body = post(decide, json.dumps({"call": {"session_id": "s"}}).encode())
        assert status == 400 and "tool" in body["error"]
        status, body = post(decide, json.dumps({"call": {"kind": "session", "session_id": "s"}}).encode())
        assert status == 400 and "tool call" in body["error"]
        status, body = post(
            decide,
            json.dumps({"call": {"session_id": "s", "tool": "ls", "arguments": {"path": "/tmp"}}}).encode(),
        )
        assert status == 200 and body["decision"] == "allow" and body["call_id"].startswith("guard:")
        events = [
            {"session_id": "s", "tool": "ls", "event_id": body["call_id"], "outcome": "success"},
            {"x": 1},
        ]
        status, body = post(report, json.dumps({"events": events}).encode())
        assert status == 200 and body["accepted"] == 1 and body["dead_letters"][0]["index"] == 1
        status, body = post(report, json.dumps({"events": "nope"}).encode())
        assert status == 400
        request = urllib.request.Request(
            served.url + "/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            health = json.loads(response.read())
        assert health["decisions"]["allow"] == 1 and health["pending"] == 0 and health["unauthorized"] == 2
    with duckdb.connect(str(served.db), read_only=True) as con:
        assert con.execute("SELECT decision, outcome FROM events WHERE session_id = 's'").fetchall() == [
            ("allowed_by_rule", "success")
        ]
        assert con.execute("SELECT count(*) FROM dead_letters WHERE stage = 'report'").fetchone() == (1,)


def start_fails(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [CHAINWATCH, "guard", "serve", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr


def test_start_up_refusals(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    no_token = {k: v for k, v in env.items() if k != "CHAINWATCH_GUARD__TOKEN"}
    assert "CHAINWATCH_GUARD__TOKEN" in start_fails(
        ["--db", str(tmp_path / "a.duckdb"), "--port", "0"], no_token
    )
    assert "not a loopback address" in start_fails(["--host", "0.0.0.0", "--port", "0"], env)
    policy = tmp_path / "policy.yml"
    policy.write_text("rules: [{decision: maybe}]\n", encoding="utf-8")
    said = start_fails(["--db", str(tmp_path / "b.duckdb"), "--port", "0", "--policy", str(policy)], env)
    assert "rules.0.decision" in said and str(policy) in said
