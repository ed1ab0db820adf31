"""``chainwatch guard``: decide before a tool call runs (serve, hook, mcp, flush; docs/guard.md).

``guard hook`` runs on every Claude Code tool call, so the entry point ``streams.cli.main`` hands it to
``streams.guard.claude_hook`` without building this command tree (see ``streams/cli/__init__.py``); the
command below is what ``chainwatch guard --help`` lists, and takes the same options.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from streams.cli.common import console, err_console, fail

guard_app = typer.Typer(help="Decide before a tool call runs: allow, ask or deny (docs/guard.md).")


def register(app: typer.Typer) -> None:
    app.add_typer(guard_app, name="guard")


@guard_app.command("serve")
def serve(
    db: Annotated[
        Path | None, typer.Option(help="Write the audit trail to this DuckDB file (else: the Kafka topic).")
    ] = None,
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers (without --db).")] = None,
    restore_db: Annotated[
        Path | None, typer.Option(help="With Kafka: rebuild recent sessions from this database (read-only).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (default: CHAINWATCH_GUARD__POLICY_FILE).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and record, but always answer allow.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Bind address (default: CHAINWATCH_GUARD__HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: CHAINWATCH_GUARD__PORT; 0 picks one).")
    ] = None,
    insecure_local: Annotated[
        bool, typer.Option("--insecure-local", help="Accept requests without a token (this machine only).")
    ] = False,
) -> None:
    """Serve decisions on 127.0.0.1: POST /v1/decide, POST /v1/report (token-protected)."""
    import duckdb

    from detectors.identity import IdentityFileError
    from schemas.errors import ChainwatchError
    from streams.guard.serve import ServeOptions, build
    from streams.guard.serve import serve as run
    from streams.settings import load_settings

    settings = load_settings()
    options = ServeOptions(db, bootstrap, restore_db, host, port, policy, dry_run, insecure_local)
    bind = host or settings.guard.host
    if bind not in ("127.0.0.1", "::1", "localhost"):
        raise fail(f"the guard serves this machine only; --host {bind} is not a loopback address")
    if not insecure_local and not (settings.guard.token and settings.guard.token.get_secret_value()):
        raise fail(
            "the guard needs a bearer token: set CHAINWATCH_GUARD__TOKEN (the hook and the MCP proxy send it "
            "from the same variable), or start it with --insecure-local (this machine only)"
        )
    try:
        guard, pipeline = build(settings, options)
    except (ChainwatchError, IdentityFileError) as exc:
        raise fail(str(exc)) from None
    except duckdb.Error as exc:
        raise fail(f"cannot open the database ({exc}); is another writer using it?") from None
    try:
        asyncio.run(run(guard, settings, options, lambda line: print(line, flush=True)))
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    finally:
        guard.close()
        if pipeline is not None:
            from streams.cli.alerts import finish_delivery

            finish_delivery(pipeline, settings.delivery.drain_seconds, err_console)
        counts = guard.counters.decisions
        err_console.print(
            f"decided {sum(counts.values())} calls ({counts['deny']} denied, {counts['ask']} asked), "
            f"{guard.counters.reported} reported, {guard.counters.expired} never reported"
        )


@guard_app.command("hook", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def hook(ctx: typer.Context) -> None:
    """The Claude Code hook: reads the hook JSON on stdin, prints the decision (see docs/guard.md)."""
    from streams.guard.claude_hook import main

    raise typer.Exit(main(list(ctx.args)))


@guard_app.command("mcp", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def mcp(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Option(help="Session id of the calls (default: a new one).")] = None,
    task: Annotated[str | None, typer.Option(help="The session's task, as the user stated it.")] = None,
    ask: Annotated[str, typer.Option(help="What an 'ask' verdict does on a pipe: deny or allow.")] = "deny",
    environment: Annotated[str | None, typer.Option(help="prod, staging, dev or unknown.")] = None,
    credential_id: Annotated[str | None, typer.Option(help="The credential the server acts with.")] = None,
    agent_id: Annotated[str | None, typer.Option(help="Agent id (default: the MCP client's name).")] = None,
) -> None:
    """An MCP stdio proxy: chainwatch guard mcp [OPTIONS] -- SERVER COMMAND…"""
    from streams.guard.client import ClientConfig
    from streams.guard.mcp_proxy import main

    command = list(ctx.args)
    if not command:
        raise fail("give the MCP server's command after --, e.g. chainwatch guard mcp -- python server.py")
    if ask not in ("deny", "allow"):
        raise fail(f"--ask {ask!r}: use deny or allow")
    try:
        config = ClientConfig.from_env(
            environment=environment, credential_id=credential_id, agent_id=agent_id
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(main(command, config, session_id=session, task=task, allow_ask=ask == "allow"))


@guard_app.command("flush")
def flush(
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 30.0,
) -> None:
    """Send what the hook and the proxy spooled while the service was down; prints what is left."""
    from streams.guard.client import ClientConfig, GuardClient

    try:
        config = ClientConfig.from_env()
    except ValueError as exc:
        raise fail(str(exc)) from None
    client = GuardClient(config)
    try:
        sent = client.drain(time.monotonic() + timeout)
        left = client.spool.count()
    finally:
        client.close()
    console.print(f"sent {sent} spooled reports to {config.url}; {left} left in {config.spool_path}")
    if left:
        sys.exit(1)
