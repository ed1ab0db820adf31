"""``guard serve`` put together: the engine, the policy, the trail (DuckDB or Kafka), the sessions restored
from the stored history, the HTTP service; and the orderly stop (calls still waiting are recorded).

Restoring from Kafka's changelog is not built: the worker's state tables hold every event the worker saw,
including the calls the guard denied, and the guard's live state must not (``live.py``); restoring from the
events topic would replay it whole. With ``--db`` the sessions come back from DuckDB; with Kafka, pass
``--restore-db`` (a database the loader writes, opened read-only) or start empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streams.alerts.delivery.pipeline import AlertPipeline
from streams.guard.live import Guard
from streams.guard.policy import load_policy
from streams.guard.service import GuardService, start
from streams.guard.trail import DuckDBTrail, KafkaTrail, Trail
from streams.settings import Settings, build_engine
from streams.store.database import Store

log = logging.getLogger("chainwatch.guard")


@dataclass
class ServeOptions:
    db: Path | None = None  # write the trail here (embedded); None: Kafka
    bootstrap: str | None = None
    restore_db: Path | None = None  # with Kafka: restore sessions from this database (read-only)
    host: str | None = None
    port: int | None = None
    policy: Path | None = None
    dry_run: bool = False
    insecure_local: bool = False


def build(settings: Settings, options: ServeOptions) -> tuple[Guard, AlertPipeline | None]:
    """The guard with its trail, its sessions restored; raises ChainwatchError (policy, token, identities)."""
    guard_settings = settings.guard
    policy = load_policy(options.policy or guard_settings.policy_file)
    engine = build_engine(settings)
    pipeline: AlertPipeline | None = None
    trail: Trail
    if options.db is not None:
        pipeline = AlertPipeline.from_settings(settings.delivery, background=True)
        trail = DuckDBTrail.open(options.db, pipeline)
    else:
        trail = KafkaTrail(settings, options.bootstrap)
    guard = Guard(
        engine,
        policy,
        trail,
        dry_run=options.dry_run or guard_settings.dry_run,
        pending_seconds=guard_settings.pending_seconds,
    )
    guard.warm_up()
    since = datetime.now(UTC) - timedelta(hours=guard_settings.restore_hours)
    if isinstance(trail, DuckDBTrail):
        restored = guard.restore(trail.store, since)
    elif options.restore_db is not None:
        with Store(options.restore_db, read_only=True) as history:
            restored = guard.restore(history, since)
    else:
        restored = 0
    log.info(
        "restored %d events of the sessions active in the last %g h", restored, guard_settings.restore_hours
    )
    return guard, pipeline


async def serve(
    guard: Guard, settings: Settings, options: ServeOptions, announce: Callable[[str], None]
) -> None:
    """Serve until SIGINT/SIGTERM; every minute, calls whose report never came are recorded."""
    service = GuardService(guard, settings.guard, insecure_local=options.insecure_local)
    host = options.host or settings.guard.host
    runner, port = await start(service, host, settings.guard.port if options.port is None else options.port)
    target = f"DuckDB {options.db}" if options.db else "Kafka"
    policy = options.policy or settings.guard.policy_file or "the default policy"
    announce(
        f"chainwatch guard: listening on http://{host}:{port} (/v1/decide, /v1/report) -> {target}; "
        f"policy: {policy}{' (dry run)' if guard.dry_run or guard.policy.dry_run else ''}"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 60.0)
            guard.expire(time.time())
    finally:
        await runner.cleanup()
