"""``chainwatch receive``: the OTLP/HTTP receiver on the command line (docs/telemetry.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from schemas.errors import ChainwatchError
from streams.cli.common import err_console, fail


def register(app: typer.Typer) -> None:
    """Add the ``receive`` command to the ``chainwatch`` command line."""

    @app.command("receive")
    def receive(
        db: Annotated[
            Path | None,
            typer.Option(help="Detect in this process and write this DuckDB file (no Kafka needed)."),
        ] = None,
        host: Annotated[
            str | None, typer.Option(help="Bind address (default: CHAINWATCH_RECEIVER__HOST, 127.0.0.1).")
        ] = None,
        port: Annotated[
            int | None, typer.Option(help="Port (default: CHAINWATCH_RECEIVER__PORT, 4318; 0 picks one).")
        ] = None,
        bootstrap: Annotated[
            str | None,
            typer.Option(help="Kafka bootstrap servers (default: CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS)."),
        ] = None,
        insecure_local: Annotated[
            bool,
            typer.Option(
                "--insecure-local",
                help="Accept requests without a bearer token (only for a receiver on this machine).",
            ),
        ] = False,
    ) -> None:
        """Receive OTLP/HTTP traces and logs (/v1/traces, /v1/logs) and stream them into chainwatch."""
        from streams.alerts.delivery.pipeline import AlertPipeline
        from streams.ingest.receiver import Receiver, Sink
        from streams.ingest.receiver_sinks import EmbeddedSink, KafkaSink
        from streams.settings import build_engine, load_settings

        settings = load_settings()
        bind_host = host or settings.receiver.host
        bind_port = settings.receiver.port if port is None else port
        tokenless = insecure_local and not (
            settings.receiver.token and settings.receiver.token.get_secret_value()
        )
        if tokenless and bind_host not in ("127.0.0.1", "::1", "localhost"):
            # no token and a reachable address: anyone on the network could write the audit trail
            raise fail(
                f"--insecure-local only binds to 127.0.0.1 (asked for {bind_host}); "
                "set CHAINWATCH_RECEIVER__TOKEN to listen on other addresses"
            )
        pipeline: AlertPipeline | None = None
        if db:  # with Kafka the loader applies suppression and delivers (docs/alerts.md)
            try:
                pipeline = AlertPipeline.from_settings(settings.delivery, background=True)
            except ChainwatchError as exc:
                raise fail(str(exc)) from None
        try:
            sink: Sink = (
                EmbeddedSink(build_engine(settings), db, pipeline) if db else KafkaSink(settings, bootstrap)
            )
        except duckdb.Error as exc:
            if pipeline is not None:
                pipeline.close()
            raise fail(f"cannot open {db} ({exc}); is another writer using it?") from None
        try:
            receiver = Receiver(
                sink,
                settings.receiver,
                insecure_local=insecure_local,
                max_record_bytes=settings.max_record_bytes,
            )
        except ChainwatchError as exc:
            sink.close()
            if pipeline is not None:
                pipeline.close()
            raise fail(str(exc)) from None
        try:
            asyncio.run(_serve(receiver, bind_host, bind_port, db))
        finally:
            sink.close()  # the last sessions' alerts go through the pipeline too
            if pipeline is not None:
                from streams.cli.alerts import finish_delivery

                finish_delivery(pipeline, settings.delivery.drain_seconds, err_console)
            c = receiver.counters
            err_console.print(
                f"received {c.requests} requests: {c.events} events, {c.dead_letters} dead letters, "
                f"{c.bad_requests} undecodable, {c.unauthorized} unauthorized, {c.too_large} too large, "
                f"{c.unavailable} retried (sink down)"
            )


async def _serve(receiver: object, host: str, port: int, db: Path | None) -> None:
    from streams.ingest.receiver import Receiver, start

    assert isinstance(receiver, Receiver)
    runner, bound = await start(receiver, host, port)
    target = f"DuckDB {db}" if db else "Kafka"
    # The bound address on one line, for scripts and tests that start it with port 0.
    print(
        f"chainwatch receive: listening on http://{host}:{bound} (/v1/traces, /v1/logs) -> {target}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
