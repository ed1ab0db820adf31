"""``chainwatch guard mcp -- <server command>``: an MCP stdio proxy that asks the guard before each tool call.

It starts the server command, and sits between the MCP client (its own stdin/stdout) and the server (the
child's stdin/stdout); the server's stderr is the proxy's. Every message passes through byte for byte,
except:

* a ``tools/call`` request is decided first (``POST /v1/decide``); a denied call never reaches the server:
  the client gets a JSON-RPC error (code ``-32001``, the reason as message, the verdict as data). An "ask"
  is denied too unless ``--ask allow`` (a stdio proxy has no human to ask); when the service is down, the
  configured default answers (``CHAINWATCH_GUARD__ON_UNAVAILABLE``; ``ask`` counts as deny here);
* the server's answer to an allowed call is reported (``POST /v1/report``) before the client sees it, as
  an executed call whose result is outside content, so the next decision already knows what it brought;
* a ``tools/list`` answer is recorded as the ``mcp`` / ``tools/list`` call chainwatch's MCP adapter
  writes, and each tool's description and annotations become the ``tool_declaration`` of its later calls;
* a JSON-RPC batch (an array; MCP dropped batching in 2025-06-18) holding a ``tools/call`` is refused with
  an error per request, so that no call passes undecided.

Messages are handled in order: a call waits for its decision before the client's next message is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from schemas.adapters.declarations import mcp_declaration
from schemas.adapters.mcp import content_text, listed_tool
from streams.guard.client import ClientConfig, GuardClient, Unavailable

SOURCE = "mcp-proxy"
DENIED_CODE = -32001  # JSON-RPC server-defined error range: refused by chainwatch guard
MAX_LINE = 64 * 1024 * 1024  # one JSON-RPC message per line; large tool results must still pass
T = TypeVar("T")


@dataclass
class Proxy:
    client: GuardClient
    session_id: str
    task: str | None = None
    allow_ask: bool = False
    agent_id: str | None = None  # else the MCP client's own name from initialize
    server: str | None = None  # the server's name from its initialize answer
    calls: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)  # JSON-RPC id -> call
    listings: set[str] = field(default_factory=set)  # ids of tools/list requests
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool -> declaration
    initialize_ids: set[str] = field(default_factory=set)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    denied: int = 0

    # -- events
    def _base(self) -> dict[str, Any]:
        config = self.client.config
        base: dict[str, Any] = {
            "source": SOURCE,
            "session_id": self.session_id,
            "agent_id": self.agent_id or config.agent_id or "mcp-client",
            "principal": config.who(),
            "event_time": datetime.now(UTC).isoformat(),
        }
        return base

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name"))
        arguments = params.get("arguments")
        call: dict[str, Any] = {
            **self._base(),
            "kind": "tool_call",
            "event_id": f"{SOURCE}:{self.session_id}:{next(self.counter)}",
            "tool": name,
            "action": name,
            "arguments": arguments
            if isinstance(arguments, dict)
            else ({"_raw": arguments} if arguments else {}),
            "environment": self.client.config.environment,
        }
        if self.client.config.credential_id:
            call["credential_id"] = self.client.config.credential_id
        if self.task:
            call["task"] = self.task
        if name in self.declared:
            call["tool_declaration"] = self.declared[name]
        return call

    def start_event(self) -> dict[str, Any] | None:
        if not self.task:
            return None
        return {
            **self._base(),
            "kind": "session",
            "action": "start",
            "task": self.task,
            "event_id": f"{SOURCE}:{self.session_id}:start",
        }

    def report(self, event: dict[str, Any]) -> None:
        self.client.report_or_spool(event, executed=True)

    # -- client -> server
    def from_client(self, message: Any) -> tuple[bool, list[dict[str, Any]]]:
        """(forward the line to the server?, answers to send the client instead)."""
        if isinstance(message, list):
            if any(isinstance(m, dict) and m.get("method") == "tools/call" for m in message):
                return False, [
                    _error(
                        m.get("id"), "JSON-RPC batches are refused by chainwatch guard; send calls one by one"
                    )
                    for m in message
                    if isinstance(m, dict) and "id" in m and "method" in m
                ]
            return True, []
        if not isinstance(message, dict) or "method" not in message or "id" not in message:
            return True, []
        ident = _key(message["id"])
        method = message["method"]
        if method == "initialize":
            info = (message.get("params") or {}).get("clientInfo") or {}
            if not self.agent_id and isinstance(info, dict) and info.get("name"):
                self.agent_id = str(info["name"])
            self.initialize_ids.add(ident)
        elif method == "tools/list":
            self.listings.add(ident)
        elif method == "tools/call":
            params = message.get("params")
            call = self._call(params if isinstance(params, dict) else {})
            allowed, verdict = self.decide(call)
            if not allowed:
                self.denied += 1
                return False, [
                    _error(message["id"], f"denied by chainwatch guard: {verdict['reason']}", verdict)
                ]
            self.calls[ident] = (call, time.monotonic())
        return True, []

    def decide(self, call: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        config = self.client.config
        try:
            verdict = self.client.decide(call)
        except Unavailable as exc:
            answer = config.on_unavailable
            reason = f"service unavailable ({str(exc)[:200]}); answered {answer} by configuration"
            verdict = {"decision": answer, "reason": reason, "call_id": call["event_id"]}
            passes = answer == "allow"
            record = {**call, "decision_reason": reason}
            record.update(
                {"decision": "allowed_by_rule"} if passes else {"decision": "denied", "outcome": "denied"}
            )
            self.client.spool.put(call["event_id"], orjson.dumps(record), executed=not passes)
            if passes:
                call.update(decision="allowed_by_rule", decision_reason=reason)
            return passes, verdict
        decision = verdict["decision"]
        if decision == "ask" and not self.allow_ask:
            # Nobody to ask on a stdio pipe: refused, and recorded as such (the service waits for a report).
            self.report(
                {**call, "decision": "denied", "outcome": "denied", "decision_reason": verdict["reason"]}
            )
            return False, verdict
        return decision in ("allow", "ask"), verdict

    # -- server -> client
    def from_server(self, message: Any) -> None:
        if not isinstance(message, dict) or "method" in message or "id" not in message:
            return
        ident = _key(message["id"])
        if ident in self.initialize_ids:
            self.initialize_ids.discard(ident)
            info = (message.get("result") or {}).get("serverInfo") or {}
            if isinstance(info, dict) and info.get("name"):
                self.server = str(info["name"])
        elif ident in self.listings:
            self.listings.discard(ident)
            self._listed(message)
        elif ident in self.calls:
            call, started = self.calls.pop(ident)
            self.report(_executed(call, message, (time.monotonic() - started) * 1000))

    def _listed(self, message: dict[str, Any]) -> None:
        result = message.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return
        tools: dict[str, Any] = {}
        for tool in result["tools"]:
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                continue
            tools[tool["name"]] = listed_tool(tool)
            declaration = mcp_declaration(tool)
            self.declared[tool["name"]] = declaration.model_dump(mode="json", exclude_none=True)
        self.report(
            {
                **self._base(),
                "kind": "tool_call",
                "event_id": f"{SOURCE}:{self.session_id}:{next(self.counter)}",
                "tool": "mcp",
                "action": "tools/list",
                "target": f"mcp-server:{self.server}" if self.server else None,
                "arguments": {"server": self.server, "tools": tools},
                "outcome": "success",
                "untrusted_content": True,
                "result_summary": f"{len(tools)} tools listed",
            }
        )


def _key(ident: Any) -> str:
    return orjson.dumps(ident).decode()


def _error(ident: Any, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": DENIED_CODE, "message": message}
    if data is not None:
        error["data"] = {"chainwatch": data}
    return {"jsonrpc": "2.0", "id": ident, "error": error}


def _executed(call: dict[str, Any], response: dict[str, Any], duration_ms: float) -> dict[str, Any]:
    executed = {**call, "duration_ms": round(duration_ms, 3)}
    error, result = response.get("error"), response.get("result")
    if isinstance(error, dict):
        executed.update(
            outcome="error", result_summary=f"JSON-RPC error {error.get('code')}: {error.get('message')}"
        )
    elif isinstance(result, dict):
        executed["outcome"] = "error" if result.get("isError") is True else "success"
        text = content_text(result)
        if text:
            executed.update(result_summary=text[:4000], untrusted_content=True)
    return executed


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # not ours to judge: passed through as it is


async def run(command: list[str], proxy: Proxy) -> int:
    """Run the server and pump both directions until the client closes its end; returns the server's code."""
    # One worker thread runs every guard exchange (they block on HTTP): the proxy's bookkeeping and its spool
    # are touched by one thread at a time, and a call's report is sent before a later call is decided.
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chainwatch-mcp-guard")

    async def off_loop(fn: Callable[..., T], *args: Any) -> T:
        return await loop.run_in_executor(worker, fn, *args)

    loop = asyncio.get_running_loop()
    server = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=MAX_LINE
    )
    assert server.stdin is not None and server.stdout is not None
    client_in = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(client_in), sys.stdin)
    out_lock = asyncio.Lock()

    async def to_client(data: bytes) -> None:
        async with out_lock:
            await asyncio.to_thread(_write_stdout, data)

    start = proxy.start_event()
    if start is not None:
        await off_loop(proxy.report, start)

    async def client_to_server() -> None:
        assert server.stdin is not None
        while line := await client_in.readline():
            forward, answers = await off_loop(proxy.from_client, _parse(line))
            for answer in answers:
                await to_client(orjson.dumps(answer) + b"\n")
            if forward:
                server.stdin.write(line)
                await server.stdin.drain()
        server.stdin.close()

    async def server_to_client() -> None:
        assert server.stdout is not None
        while line := await server.stdout.readline():
            await off_loop(proxy.from_server, _parse(line))
            await to_client(line)

    pumps = asyncio.gather(client_to_server(), server_to_client())
    try:
        await pumps
    finally:
        if server.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                server.terminate()
        code = await server.wait()
        worker.shutdown(wait=True)
    return code


def _write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def new_session_id() -> str:
    return f"mcp:{uuid.uuid4().hex[:16]}"


def main(
    command: list[str], config: ClientConfig, *, session_id: str | None, task: str | None, allow_ask: bool
) -> int:
    client = GuardClient(config)
    proxy = Proxy(
        client, session_id or new_session_id(), task=task, allow_ask=allow_ask, agent_id=config.agent_id
    )
    try:
        return asyncio.run(run(command, proxy))
    finally:
        client.close()
