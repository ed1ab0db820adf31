"""Start a chainwatch worker (the faust app of :mod:`streams.app`) in this process.

    python -m streams.worker            # settings from CHAINWATCH_* environment variables
    chainwatch worker --bootstrap 127.0.0.1:9092 --data-dir .worker-1 --web-port 6067

The worker joins the consumer group ``settings.worker.app_id``, creates the topics it uses when they are
missing, rebuilds its tables from their changelog topics, and then runs until SIGTERM or SIGINT (a clean
stop: in-flight events finish and offsets are committed). SIGKILL is a crash: the next worker of the group
recovers the state from the changelogs and re-reads what was not committed; the table values make that
re-reading idempotent (see docs/streaming.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn

import faust

from streams.app import create_app
from streams.settings import Settings, load_settings


def with_overrides(
    settings: Settings,
    *,
    bootstrap: str | None = None,
    data_dir: Path | None = None,
    web_port: int | None = None,
    web_host: str | None = None,
    web_enabled: bool | None = None,
    app_id: str | None = None,
    partitions: int | None = None,
    session_idle_seconds: float | None = None,
    sweep_interval_seconds: float | None = None,
    log_level: str | None = None,
) -> Settings:
    """A copy of ``settings`` with the given values replaced (None keeps the setting)."""

    def changed(model: Any, **values: Any) -> Any:
        update = {k: v for k, v in values.items() if v is not None}
        return model.model_copy(update=update) if update else model

    return settings.model_copy(
        update={
            "kafka": changed(settings.kafka, bootstrap_servers=bootstrap),
            "topics": changed(settings.topics, partitions=partitions),
            "worker": changed(
                settings.worker,
                data_dir=data_dir,
                web_port=web_port,
                web_host=web_host,
                web_enabled=web_enabled,
                app_id=app_id,
                session_idle_seconds=session_idle_seconds,
                sweep_interval_seconds=sweep_interval_seconds,
                log_level=log_level,
            ),
        }
    )


def run_worker(settings: Settings) -> NoReturn:
    """Run a worker until it is stopped; exits the process (faust's worker owns the event loop)."""
    settings.worker.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    level = settings.worker.log_level.upper()
    logging.getLogger("chainwatch").setLevel(level)
    worker = faust.Worker(app, loglevel=level, logfile=None, redirect_stdouts=False)
    worker.execute_from_commandline()


def main() -> NoReturn:
    run_worker(load_settings())


if __name__ == "__main__":
    main()
