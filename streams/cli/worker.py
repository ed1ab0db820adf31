"""``chainwatch worker``: run the streaming worker (streams/kafka/topology.py) against a Kafka cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``worker`` command to the ``chainwatch`` command line."""

    @app.command("worker")
    def worker(
        bootstrap: Annotated[
            str | None,
            typer.Option(
                help="Kafka bootstrap servers, host:port[,host:port] "
                "(default: CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS)."
            ),
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option(
                help="Worker-local folder (default: CHAINWATCH_WORKER__DATA_DIR); "
                "one per worker on a machine."
            ),
        ] = None,
        web_port: Annotated[
            int | None,
            typer.Option(
                help="Port of the worker's web server on --web-host (stats on /chainwatch/stats/); "
                "one per worker on a machine."
            ),
        ] = None,
        web_host: Annotated[str | None, typer.Option(help="Bind address of the web server.")] = None,
        web: Annotated[bool | None, typer.Option("--web/--no-web", help="Serve the web pages.")] = None,
        app_id: Annotated[
            str | None,
            typer.Option(help="Consumer group and prefix of the repartition and changelog topics."),
        ] = None,
        partitions: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="Partitions of the topics the worker creates; bounds how many workers share the load.",
            ),
        ] = None,
        idle_seconds: Annotated[
            float | None, typer.Option(help="Wall-clock seconds of inactivity after which a session closes.")
        ] = None,
        sweep_interval: Annotated[
            float | None, typer.Option(help="Seconds between idle-session sweeps.")
        ] = None,
        log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error.")] = None,
    ) -> None:
        """Consume agent events from Kafka, detect risky action chains, publish findings, alerts, chains."""
        from streams.kafka.worker import run_worker, with_overrides
        from streams.settings import load_settings

        settings = with_overrides(
            load_settings(),
            bootstrap=bootstrap,
            data_dir=data_dir,
            web_port=web_port,
            web_host=web_host,
            web_enabled=web,
            app_id=app_id,
            partitions=partitions,
            session_idle_seconds=idle_seconds,
            sweep_interval_seconds=sweep_interval,
            log_level=log_level,
        )
        run_worker(settings)
