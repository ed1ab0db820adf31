"""``chainwatch guard serve``: the local HTTP service the hook and the MCP proxy ask.

* ``POST /v1/decide`` — body: a proposed tool call (``wire.py``); answer: the verdict (``decision`` allow /
  ask / deny, ``reason``, ``risk``, ``detectors``, ``call_id``). A denied call is recorded at once.
* ``POST /v1/report`` — body: ``{"events": [...]}``, what happened (executed calls with the proposal's
  ``event_id``, the session's task and prompts, its end, credential events); answered once the trail has
  committed them (503 when it cannot: the client keeps them in its spool and sends them again).
* ``GET /v1/health`` — counters, live sessions, calls waiting for their report.

Token-protected like the receiver (``CHAINWATCH_GUARD__TOKEN``, ``Authorization: Bearer …``); without a
token only with ``--insecure-local`` and only for requests addressed to this machine. Decisions run on the
event loop (they take about a millisecond, ``docs/performance.md``); the trail writes in its own thread.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from concurrent.futures import Future
from typing import Any

import orjson
from aiohttp import web

from schemas.errors import ChainwatchError
from streams.guard.live import Guard
from streams.guard.wire import BadCall, read_proposal, read_report
from streams.ingest.receiver import LOOPBACK_NAMES
from streams.settings import GuardSettings

log = logging.getLogger("chainwatch.guard")
REPORT_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 5


class GuardService:
    def __init__(self, guard: Guard, settings: GuardSettings, *, insecure_local: bool = False) -> None:
        token = settings.token.get_secret_value() if settings.token else ""
        if not token and not insecure_local:
            raise ChainwatchError(
                "the guard needs a bearer token: set CHAINWATCH_GUARD__TOKEN (the hook and the MCP proxy "
                "send it from the same variable), or start it with --insecure-local to accept "
                "unauthenticated requests from this machine"
            )
        self.guard = guard
        self.token = token
        self.app = web.Application(client_max_size=settings.max_body_bytes)
        self.app.router.add_post("/v1/decide", self.decide)
        self.app.router.add_post("/v1/report", self.report)
        self.app.router.add_get("/v1/health", self.health)
        self.unauthorized = 0
        self.bad_requests = 0

    def _authorized(self, request: web.Request) -> bool:
        if not self.token:
            # --insecure-local: only this machine; a page whose DNS name was rebound to 127.0.0.1 carries that
            # name as Host and is refused
            return request.url.host in LOOPBACK_NAMES
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    async def _body(self, request: web.Request) -> Any:
        if not self._authorized(request):
            self.unauthorized += 1
            raise _error(401, "missing or wrong bearer token (CHAINWATCH_GUARD__TOKEN)", bearer=True)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise _error(413, "body over CHAINWATCH_GUARD__MAX_BODY_BYTES") from None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.bad_requests += 1
            raise _error(400, f"body is not JSON: {exc}") from None

    async def decide(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            call = read_proposal(body)
        except BadCall as exc:
            self.bad_requests += 1
            raise _error(400, str(exc)) from None
        verdict, written = self.guard.decide(call)
        if written is not None:
            written.add_done_callback(_log_failure)  # the answer does not wait for the database
        return _json(200, verdict.to_dict())

    async def report(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            events, letters = read_report(body)
        except BadCall as exc:
            self.bad_requests += 1
            raise _error(400, str(exc)) from None
        _, written = self.guard.report(events, letters)
        if written is not None:
            try:
                await asyncio.wait_for(asyncio.wrap_future(written), REPORT_TIMEOUT_SECONDS)
            except Exception as exc:  # the trail is down or slow: the client keeps the report and retries
                log.warning("report not stored, the client will retry: %s", exc)
                raise _error(503, f"audit trail unavailable: {exc}", retry=True) from None
        return _json(
            200,
            {
                "accepted": len(events),
                "dead_letters": [{"index": d.record_no, "reason": d.reason} for d in letters],
            },
        )

    async def health(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            raise _error(401, "missing or wrong bearer token (CHAINWATCH_GUARD__TOKEN)", bearer=True)
        guard = self.guard
        return _json(
            200,
            {
                "sessions": sum(1 for scope, _ in guard.runner.states if scope == "session"),
                "pending": len(guard.pending),
                "decisions": guard.counters.decisions,
                "reported": guard.counters.reported,
                "expired": guard.counters.expired,
                "restored_events": guard.counters.restored_events,
                "unauthorized": self.unauthorized,
                "bad_requests": self.bad_requests,
            },
        )


def _log_failure(future: Future[None]) -> None:
    if future.exception() is not None:
        log.error("a denied call could not be written to the audit trail: %s", future.exception())


def _json(status: int, data: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _error(status: int, message: str, *, bearer: bool = False, retry: bool = False) -> web.HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if bearer else {}
    if retry:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    body = orjson.dumps({"error": message})
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        413: web.HTTPRequestEntityTooLarge,
        503: web.HTTPServiceUnavailable,
    }
    kind = kinds[status]
    if kind is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(
            max_size=0, actual_size=0, text=body.decode(), content_type="application/json", headers=headers
        )
    return kind(text=body.decode(), content_type="application/json", headers=headers)


async def start(service: GuardService, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve on host:port (0 picks a free port); returns the runner and the bound port."""
    runner = web.AppRunner(service.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []  # aiohttp exposes the bound sockets only here
    return runner, int(sockets[0].getsockname()[1]) if sockets else port
