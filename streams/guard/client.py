"""How the hook and the MCP proxy ask the service, within a hard time limit, and keep what it cannot take.

Standard library and orjson only: the Claude Code hook runs this on every tool call, and importing the
engine, pydantic or the settings module would cost more than the decision itself. :class:`ClientConfig`
therefore reads the ``CHAINWATCH_GUARD__*`` variables of ``streams.settings.GuardSettings`` itself (a test
keeps the two in step).
"""

from __future__ import annotations

import getpass
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from streams.guard.spool import ReportSpool

PREFIX = "CHAINWATCH_GUARD__"
ANSWERS = ("allow", "ask", "deny")
DRAIN_BATCH = 200
# In the home folder, not the working directory: Claude Code runs the hook in the project being edited.
DEFAULT_SPOOL = Path.home() / ".chainwatch" / "guard-spool.sqlite"


@dataclass(frozen=True)
class ClientConfig:
    url: str = "http://127.0.0.1:4320"
    token: str = ""
    timeout_seconds: float = 2.0
    on_unavailable: str = "ask"
    spool_path: Path = field(default_factory=lambda: DEFAULT_SPOOL)
    agent_id: str | None = None
    principal: str | None = None
    credential_id: str | None = None
    environment: str = "unknown"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> ClientConfig:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in (
            ("url", str),
            ("token", str),
            ("timeout_seconds", float),
            ("on_unavailable", str),
            ("spool_path", Path),
            ("agent_id", str),
            ("principal", str),
            ("credential_id", str),
            ("environment", str),
        ):
            raw = env.get(PREFIX + name.upper())
            if raw not in (None, ""):
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ValueError(
                        f"{PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}"
                    ) from None
        config = replace(cls(), **values, **{k: v for k, v in overrides.items() if v is not None})
        if config.on_unavailable not in ANSWERS:
            raise ValueError(
                f"{PREFIX}ON_UNAVAILABLE={config.on_unavailable!r}: use one of {', '.join(ANSWERS)}"
            )
        if not 0 < config.timeout_seconds <= 60:
            raise ValueError(f"{PREFIX}TIMEOUT_SECONDS must be above 0 and at most 60 seconds")
        return config

    def who(self) -> str:
        """Who the agent acts for: the configured principal, else the account running it."""
        if self.principal:
            return self.principal
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown-user"


class Unavailable(Exception):
    """The service did not answer in time, or refused (its message says why)."""


class GuardClient:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._spool: ReportSpool | None = None

    @property
    def spool(self) -> ReportSpool:
        if self._spool is None:
            self._spool = ReportSpool(self.config.spool_path)
        return self._spool

    def _post(self, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Unavailable("no time left")
        headers = {"Content-Type": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        request = urllib.request.Request(
            self.config.url.rstrip("/") + path, data=orjson.dumps(body), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=remaining) as response:
                answer = orjson.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise Unavailable(f"HTTP {exc.code} from {self.config.url}: {detail}") from None
        except (OSError, orjson.JSONDecodeError) as exc:  # refused, timed out, reset, garbled
            raise Unavailable(f"{self.config.url}: {exc}") from None
        if not isinstance(answer, dict):
            raise Unavailable(f"{self.config.url} answered {type(answer).__name__}, not an object")
        return answer

    def decide(self, call: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        deadline = deadline if deadline is not None else time.monotonic() + self.config.timeout_seconds
        answer = self._post("/v1/decide", {"call": call}, deadline)
        if answer.get("decision") not in ANSWERS:
            raise Unavailable(f"{self.config.url} answered without a decision: {answer}")
        return answer

    def report(self, events: list[dict[str, Any]], deadline: float | None = None) -> dict[str, Any]:
        deadline = deadline if deadline is not None else time.monotonic() + self.config.timeout_seconds
        return self._post("/v1/report", {"events": events}, deadline)

    def report_or_spool(
        self, event: dict[str, Any], *, executed: bool, deadline: float | None = None
    ) -> bool:
        """Report one event durably: it is spooled first and removed once the service took it, so that a
        process killed half-way (the hook's watchdog) loses nothing. True when delivered now."""
        event_id = str(event.get("event_id"))
        self.spool.put(event_id, orjson.dumps(event), executed=executed)
        try:
            self.report([event], deadline)
        except Unavailable as exc:
            self.spool.failed([event_id], str(exc))
            return False
        self.spool.delivered([event_id])
        return True

    def drain(self, deadline: float) -> int:
        """Send what the spool holds, oldest first, until it is empty or time is up; returns how many."""
        sent = 0
        while time.monotonic() < deadline:
            rows = self.spool.oldest(DRAIN_BATCH)
            if not rows:
                break
            ids = [event_id for event_id, _ in rows]
            try:
                self.report([orjson.loads(body) for _, body in rows], deadline)
            except Unavailable as exc:
                self.spool.failed(ids, str(exc))
                break
            self.spool.delivered(ids)
            sent += len(ids)
        return sent

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
