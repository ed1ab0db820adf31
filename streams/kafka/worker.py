"""Start a chainwatch worker (the faust app of :mod:`streams.kafka.topology`) in this process.

    python -m streams.kafka.worker            # settings from CHAINWATCH_* environment variables
    chainwatch worker --bootstrap 127.0.0.1:9092 --data-dir .worker-1 --web-port 6067

The worker joins the consumer group ``settings.worker.app_id``, creates the topics it uses when they are
missing, rebuilds its tables from their changelog topics, and then runs until SIGTERM or SIGINT (a clean
stop: in-flight events finish and offsets are committed). SIGKILL is a crash: the next worker of the group
recovers the state from the changelogs and re-reads what was not committed; the table values make that
re-reading idempotent (see docs/streaming.md).
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import faust

from schemas.errors import ChainwatchError
from streams.kafka.topics import TOPIC_ALREADY_EXISTS, admin_client, create_topics, creation_request
from streams.kafka.topology import build_topology, internal_topic_specs
from streams.settings import Settings, load_settings

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import KafkaError

log = logging.getLogger("chainwatch.worker")


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


def prepare_topics(settings: Settings, scopes: Iterable[str], timeout: float = 60.0) -> None:
    """Create every topic the worker uses that is missing, before faust joins the group.

    faust declares its topics itself, but concurrently with subscribing: a topic created in the same start
    can miss the first assignment (seen: a repartition topic left unassigned for minutes, until the next
    metadata refresh), and faust never creates topics it only writes to. So they are made here, with
    kafka-python, and awaited. The public topics as ``chainwatch topics create`` makes them; a public topic
    that differs is reported but tolerated (the worker does not need their partition counts to agree); a
    repartition or changelog topic with the wrong partition count stops the worker.
    """
    for result in create_topics(settings):
        if result.status == "created":
            log.info("created topic %s (%d partitions)", result.spec.name, result.partitions)
        for problem in result.problems:
            log.warning("topic %s %s", result.spec.name, problem)
    specs = internal_topic_specs(settings, scopes)
    with admin_client(settings) as admin:
        response = admin.create_topics(creation_request(settings, specs), raise_errors=False)
        for topic in response["topics"]:
            if topic["error_code"] == 0:
                log.info("created topic %s", topic["name"])
            elif topic["error_code"] != TOPIC_ALREADY_EXISTS:
                raise ChainwatchError(
                    f"could not create topic {topic['name']!r}: error {topic['error_code']} "
                    f"{topic.get('error_message') or ''}".strip()
                )
        wanted = {s.name: s.partitions for s in specs}
        deadline = time.monotonic() + timeout
        while True:  # created topics take a moment to show up in the metadata every client reads
            found = {
                t["name"]: len(t["partitions"])
                for t in admin.describe_topics(list(wanted))
                if t["error_code"] == 0 and t["partitions"]
            }
            if len(found) == len(wanted) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ChainwatchError(f"topic(s) {', '.join(missing)} did not appear within {timeout:g}s")
    wrong = {name: (found[name], n) for name, n in wanted.items() if found[name] != n}
    if wrong:
        details = "; ".join(
            f"{name} has {have} partitions, expected {n}" for name, (have, n) in wrong.items()
        )
        raise ChainwatchError(
            f"{details}. The repartition topics and table changelogs must have CHAINWATCH_TOPICS__PARTITIONS "
            "partitions: set it to the existing count, or use a new CHAINWATCH_WORKER__APP_ID (a fresh state)"
        )


def run_worker(settings: Settings) -> NoReturn:
    """Run a worker until it is stopped; exits the process (faust's worker owns the event loop).

    Exit status 2 when a rule file is broken or the topics cannot be prepared (broker unreachable, partition
    counts that disagree).
    """
    level = settings.worker.log_level.upper()
    logging.basicConfig(level=level, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s")
    logging.getLogger("chainwatch").setLevel(level)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))  # the admin client
    settings.worker.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        topology = build_topology(settings)  # a broken rule file is a RuleError: one line, exit 2
        prepare_topics(settings, topology.scopes)
    except (ChainwatchError, KafkaError) as exc:
        log.critical("chainwatch worker cannot start: %s", exc)
        sys.exit(2)
    worker = faust.Worker(topology.app, loglevel=level, logfile=None, redirect_stdouts=False)
    worker.execute_from_commandline()


def main() -> NoReturn:
    run_worker(load_settings())


if __name__ == "__main__":
    main()
