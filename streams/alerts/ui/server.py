"""The triage page's HTTP server (aiohttp): static files, a small JSON API, verdicts.

Security: every /api/ request except /api/info needs ``Authorization: Bearer <token>`` (constant-time
compare) unless the server was started with ``--insecure-local``; with ``CHAINWATCH_UI_ANALYSTS_FILE`` each
analyst has a token of their own and a verdict is recorded under the name the token belongs to
(``streams/alerts/ui/analysts.py``); the Host header must name the bound address (no DNS rebinding); a POST
must be JSON and, when the browser says where it comes from (``Origin``), come from this page — host and
port (no cross-site verdicts, not even from another port of the same host); request bodies are capped at
16 KiB; a connection that sends no complete request header within 15 s is closed;
responses forbid framing and inline scripts; alert data is redacted again before it is served. The
database connections only ever run SELECTs and record verdicts (sealed in the audit trail with the
integrity key, ``streams/store/appends.py``).

The page holds no lock on the database between requests: each request opens the file for as long as it
needs it (read-only, or for writing to record a verdict), so ``chainwatch alerts``, ``show`` and even
``run`` work beside it. While another process writes the file, a request answers 503 naming it. On a lake
(``--lake``) there is no lock to hold: the lake is attached once (read-only, and for verdicts) and each
request reads the last committed snapshot through a cursor of its own, while the loader writes.
"""

from __future__ import annotations

import asyncio
import getpass
import hmac
import importlib.resources
import os
import secrets
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import duckdb
from aiohttp import web
from rich.console import Console

from schemas.redaction import redact_text
from streams.alerts.delivery.formats import document
from streams.alerts.ui.analysts import ANALYSTS_FILE_ENV, AnalystTokens
from streams.alerts.view import AlertNotFound, list_alerts, load_view
from streams.store.access import DatabaseUnavailable, StoreTarget, connect, cursor
from streams.store.appends import check_sealing_key
from streams.store.database import Store
from streams.store.integrity import IntegrityKeyError
from streams.store.lake import Lake

MAX_BODY_BYTES = 16 * 1024
MAX_NOTE_CHARS = 2000
MAX_LIST = 500
TOKEN_ENV = "CHAINWATCH_UI_TOKEN"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATIC = {"app.js": "text/javascript", "app.css": "text/css"}

DB_KEY: web.AppKey[StoreTarget] = web.AppKey("db")  # the database file (opened per request) or lake
LOCK_WAIT_SECONDS = 3.0  # a `chainwatch alerts` or a verdict holds the file for milliseconds
TOKEN_KEY: web.AppKey[str | None] = web.AppKey("token", str)
ANALYSTS_KEY: web.AppKey[AnalystTokens | None] = web.AppKey("analysts", AnalystTokens)
HEADER_TIMEOUT_SECONDS = 15.0
# Host header values accepted; filled once the port is known (empty set: any host, for 0.0.0.0)
HOSTS_KEY: web.AppKey[set[str]] = web.AppKey("hosts", set)
NAME_KEY: web.AppKey[str] = web.AppKey("db_name", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Result = TypeVar("Result")


@lru_cache(maxsize=4)
def _attached(lake: Lake, write: bool) -> duckdb.DuckDBPyConnection:
    """The lake attached once per mode: attaching loads the extensions (a few hundred ms), and a lake
    connection holds no lock between its transactions, so keeping it costs the loader nothing."""
    return connect(lake, read_only=not write)


@contextmanager
def _database(target: StoreTarget, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(target, Lake):
        con = cursor(_attached(target, write))
    else:
        con = connect(target, read_only=not write, wait_seconds=LOCK_WAIT_SECONDS)
    try:
        yield con
    finally:
        con.close()


async def _with_database(
    request: web.Request, work: Callable[[duckdb.DuckDBPyConnection], Result], *, write: bool = False
) -> Result:
    """Run ``work`` on a connection opened for this request only, in a thread (opening may wait for
    another process's lock); the file is released before the response is sent."""

    def opened() -> Result:
        with _database(request.app[DB_KEY], write=write) as con:
            return work(con)

    return await asyncio.to_thread(opened)


def _static(name: str) -> bytes:
    return (importlib.resources.files("streams.alerts.ui") / "static" / name).read_bytes()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _guarded(request, handler)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    hosts = request.app[HOSTS_KEY]
    if hosts and request.host not in hosts:
        return _error(421, f"unexpected Host {request.host!r}; open the URL the server printed")
    if request.method not in ("GET", "HEAD"):
        # Cross-site requests: a page elsewhere can POST a "simple" (form or text/plain) body to
        # 127.0.0.1 without the browser asking first; with --insecure-local nothing else would stop it
        # from recording a verdict. JSON bodies need a CORS preflight, which this server never grants.
        origin = request.headers.get("Origin")
        if origin is not None and not same_origin(origin, request.host):
            return _error(403, f"cross-origin request from {origin!r} refused")
        if request.content_type != "application/json":
            return _error(415, "send the body as Content-Type: application/json")
    if request.path.startswith("/api/") and request.path != "/api/info":
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        value = value.strip() if scheme.lower() == "bearer" else ""
        analysts, token = request.app[ANALYSTS_KEY], request.app[TOKEN_KEY]
        if analysts is not None:
            analyst = analysts.who(value) if value else None
            if analyst is None:
                return _error(401, "missing, wrong or revoked analyst token")
            request[ANALYST] = analyst
        elif token is not None and not hmac.compare_digest(value.encode(), token.encode()):
            return _error(401, "missing or wrong bearer token")
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"request body over {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        return exc


# The analyst the request's token belongs to (per-analyst tokens only).
ANALYST: web.RequestKey[str] = web.RequestKey("analyst", str)


def same_origin(origin: str, host: str) -> bool:
    """The page's Origin names the host *and port* the request was sent to. A Host without a port is the
    default port of the Origin's scheme, so a TLS proxy in front (https://name, Host: name) still matches;
    another site, "null" or another port of the same host does not."""
    parts = urlsplit(origin)
    try:
        origin_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        target = urlsplit(f"//{host}")
        host_port = target.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        return False
    return parts.hostname is not None and parts.hostname == target.hostname and origin_port == host_port


async def index(request: web.Request) -> web.Response:
    return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return _error(404, "not found")
    return web.Response(body=_static(name), content_type=STATIC[name], charset="utf-8")


async def info(request: web.Request) -> web.Response:
    return web.json_response(
        {"db": request.app[NAME_KEY], "token_required": request.app[TOKEN_KEY] is not None}
    )


def _status(row: Any) -> str:
    if row.suppressed_by:
        return "suppressed"
    return str(row.verdict or "new")


async def alerts(request: web.Request) -> web.Response:
    query = request.query
    severity = query.get("severity") or None
    if severity not in (None, "info", "low", "medium", "high", "critical"):
        return _error(400, f"severity {severity!r} is not known")
    try:
        limit = int(query.get("limit", MAX_LIST))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIST:
        return _error(400, f"limit must be a whole number from 1 to {MAX_LIST}")
    try:
        rows = await _with_database(
            request,
            lambda con: list_alerts(con, min_severity=severity, detector=query.get("detector") or None),
        )
    except DatabaseUnavailable as exc:
        return _error(503, str(exc))
    status = query.get("status") or None
    text = (query.get("q") or "").lower()
    result = []
    for row in rows:
        if status and _status(row) != status:
            continue
        alert = row.alert
        haystack = " ".join([alert.title, alert.session_id, alert.agent_id or "", alert.alert_id]).lower()
        if text and text not in haystack:
            continue
        result.append(
            {
                "alert_id": alert.alert_id,
                "last_seen": alert.last_seen.isoformat(),
                "severity": str(alert.severity),
                "risk_score": alert.risk_score,
                "detector_id": alert.detector_id,
                "title": redact_text(alert.title),
                "session_id": alert.session_id,
                "status": _status(row),
            }
        )
        if len(result) >= limit:
            break
    return web.json_response({"alerts": result})


async def alert(request: web.Request) -> web.Response:
    try:
        view = await _with_database(request, lambda con: load_view(con, request.match_info["alert_id"]))
    except AlertNotFound as exc:
        return _error(404, str(exc))
    except DatabaseUnavailable as exc:
        return _error(503, str(exc))
    return web.json_response(document(view, "json"))  # redacted, as every output of an alert


async def verdict(request: web.Request) -> web.Response:
    from streams.alerts.verdicts import VERDICTS, record_verdict

    try:
        body = await request.json()
    except ValueError:
        return _error(400, "the body must be JSON: {status, note, analyst}")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object: {status, note, analyst}")
    status, note, analyst = body.get("status"), body.get("note") or None, body.get("analyst") or None
    if status not in VERDICTS:
        return _error(400, f"status must be one of {', '.join(VERDICTS)}")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
        return _error(400, f"note must be text of at most {MAX_NOTE_CHARS} characters")
    if analyst is not None and (not isinstance(analyst, str) or len(analyst) > 200):
        return _error(400, "analyst must be a name of at most 200 characters")
    if ANALYST in request:  # per-analyst tokens: the token says who, not the page
        if analyst is not None and analyst != request[ANALYST]:
            return _error(403, f"this token belongs to {request[ANALYST]!r}; a verdict is recorded under it")
        analyst = request[ANALYST]

    def record(con: duckdb.DuckDBPyConnection) -> Any:
        target = request.app[DB_KEY]
        full_id = record_verdict(con, request.match_info["alert_id"], status, note, analyst, target=target)
        return full_id, load_view(con, full_id)

    try:  # the write lock is held for this one verdict, not between verdicts
        full_id, view = await _with_database(request, record, write=True)
    except AlertNotFound as exc:
        return _error(404, str(exc))
    except (DatabaseUnavailable, IntegrityKeyError) as exc:  # a trail re-keyed since the page started
        return _error(503, str(exc))
    assert view.verdict is not None
    return web.json_response(
        {
            "alert_id": full_id,
            "verdict": {
                "status": view.verdict.status,
                "note": view.verdict.note,
                "analyst": view.verdict.analyst,
                "recorded_at": view.verdict.recorded_at.isoformat(),
            },
        }
    )


def create_app(
    db_path: StoreTarget,
    *,
    token: str | None,
    hosts: set[str],
    db_name: str,
    analysts: AnalystTokens | None = None,
) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY_BYTES)
    app[DB_KEY] = db_path
    app[TOKEN_KEY] = token
    app[ANALYSTS_KEY] = analysts
    app[HOSTS_KEY] = hosts
    app[NAME_KEY] = db_name
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/info", info)
    app.router.add_get("/api/alerts", alerts)
    app.router.add_get("/api/alerts/{alert_id}", alert)
    app.router.add_post("/api/alerts/{alert_id}/verdict", verdict)
    return app


def _allowed_hosts(host: str, port: int) -> set[str]:
    names = {host}
    if host in ("127.0.0.1", "::1", "localhost"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    elif host in ("0.0.0.0", "::"):
        return set()  # any interface: the operator vouches for the network; the token still applies
    return {f"{n}:{port}" for n in names}


def _name(target: StoreTarget) -> str:
    return target.name if isinstance(target, Path) else str(target)


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the triage page's socket has no address")


def serve(db_path: StoreTarget, *, host: str, port: int, insecure_local: bool, out: Console) -> None:
    token: str | None = None
    analysts_file = os.environ.get(ANALYSTS_FILE_ENV)
    analysts = AnalystTokens(Path(analysts_file)) if analysts_file and not insecure_local else None
    if analysts is not None:
        analysts.who("")  # read the file now: a malformed one stops the start, naming the line
    elif not insecure_local:
        token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    elif host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"--insecure-local only binds to 127.0.0.1 (asked for {host}); drop one of them")
    # applies the DDL (the verdicts table) once, then lets go of the file; only SELECTs and the sealed
    # verdicts follow. A verdict is sealed with the trail's integrity key: a key setting that differs from
    # the trail's stops the page here, not at the first verdict (streams/store/appends.py)
    with Store(db_path, audit_trail=False) as store:
        check_sealing_key(store.con, db_path)
    asyncio.run(_serve(db_path, host, port, token, out, analysts))


async def _serve(
    db_path: StoreTarget,
    host: str,
    port: int,
    token: str | None,
    out: Console,
    analysts: AnalystTokens | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hosts = {"<port not bound yet>"}  # matches no request until the real names are known
    app = create_app(db_path, token=token, hosts=hosts, db_name=_name(db_path), analysts=analysts)
    # keepalive_timeout: a connection without a complete request header this long after it opened (or after
    # its previous response) is closed: slow or idle clients cannot hold connections open
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=HEADER_TIMEOUT_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    site_port = port or _bound_port(runner)
    hosts.clear()
    hosts.update(_allowed_hosts(host, site_port))
    url = f"http://{'127.0.0.1' if host in ('127.0.0.1', 'localhost') else host}:{site_port}/"
    out.print(f"triage page for {db_path} at {url}", highlight=False, soft_wrap=True)
    if analysts is not None:
        out.print(
            f"per-analyst tokens from {analysts.path}: each verdict is recorded under its token's analyst"
        )
    elif token is None:
        out.print("no access token (--insecure-local): anyone on this machine can record verdicts")
    elif os.environ.get(TOKEN_ENV):
        out.print(f"access token: the value of {TOKEN_ENV}")
    else:
        out.print(f"access token: {token}", highlight=False)
    if analysts is None:
        out.print(
            "verdicts are recorded as the analyst named on the page, unverified "
            f"(login: {getpass.getuser()}); set {ANALYSTS_FILE_ENV} to tie each verdict to an analyst's "
            "own token"
        )
    out.file.flush()
    await stop.wait()
    await runner.cleanup()
