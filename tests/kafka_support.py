"""Pytest helpers for tests that need a real Kafka broker (see kafka/broker.py and docs/kafka-local.md).

Register the session fixture in ``tests/conftest.py`` with either::

    from tests.kafka_support import kafka_broker  # noqa: F401  (a fixture)

or::

    pytest_plugins = ["tests.kafka_support"]

``kafka_broker`` starts one broker per test run (a temporary data folder, free ports on 127.0.0.1) and
stops it by PID at the end. It is a :class:`LocalKafka`: ``kafka_broker.bootstrap`` is the
``bootstrap_servers`` string, and ``kafka_broker.restart()`` / ``kill()`` / ``start()`` drive the
process. A test that stops the broker must start it again (``try``/``finally``): later tests share it.

Without Java 17+ (or without Maven while ``kafka/libs`` has no jars) the tests that use the fixture are
skipped, unless the environment has ``CI=true``: then they fail, so CI cannot go green by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

BROKER_PY = Path(__file__).resolve().parents[1] / "kafka" / "broker.py"
# kafka/ is deliberately not a package (it would shadow kafka-python's ``kafka``): load it by path.
_MODULE_NAME = "chainwatch_local_kafka"


def load_broker_module() -> ModuleType:
    """kafka/broker.py as a module (loaded once per interpreter)."""
    module = sys.modules.get(_MODULE_NAME)
    if module is None:
        spec = importlib.util.spec_from_file_location(_MODULE_NAME, BROKER_PY)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {BROKER_PY}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE_NAME] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_MODULE_NAME]
            raise
    return module


broker_module = load_broker_module()
LocalKafka: Any = broker_module.LocalKafka
KafkaError: type[Exception] = broker_module.KafkaError
ToolMissingError: type[Exception] = broker_module.ToolMissingError


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def skip_or_fail(reason: str) -> NoReturn:
    """``pytest.skip(reason)``, or ``pytest.fail`` when ``CI=true``."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this fails instead of being skipped)", pytrace=False)
    pytest.skip(reason)


def check_prerequisites() -> None:
    """Raise ToolMissingError unless Java 17+ is there and the jars are (or Maven can fetch them)."""
    broker_module.find_java()
    if not broker_module.jars_present():
        broker_module.find_maven()


def check_prerequisites_or_skip() -> None:
    """:func:`check_prerequisites`, turning a missing tool into a skip (a failure when ``CI=true``)."""
    try:
        check_prerequisites()
    except ToolMissingError as exc:
        reason = f"local Kafka broker unavailable: {exc}"
    else:
        return
    skip_or_fail(reason)  # outside the except block: no chained traceback in the report


def unique_topic(prefix: str = "test") -> str:
    """A topic name no other test (or earlier run on the same data) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# One broker per interpreter, shared even when the fixture is registered in more than one place
# (conftest and a test module each make their own FixtureDef of the same function).
_session: dict[str, Any] = {"broker": None, "users": 0}


def _acquire(base_dir: Path) -> Any:
    broker = _session["broker"]
    if broker is None:
        check_prerequisites_or_skip()
        broker = LocalKafka(base_dir, port=0)
        try:
            broker.start()
        except ToolMissingError as exc:
            skip_or_fail(f"local Kafka broker unavailable: {exc}")
        except BaseException:
            broker.stop()
            raise
        _session["broker"] = broker
    elif not broker.is_running:  # a test stopped it and did not start it again
        broker.start()
    _session["users"] += 1
    return broker


def _release() -> None:
    _session["users"] -= 1
    if _session["users"] <= 0 and _session["broker"] is not None:
        broker, _session["broker"] = _session["broker"], None
        broker.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running single-node Kafka broker (a ``LocalKafka``) shared by the whole test session."""
    broker = _acquire(tmp_path_factory.mktemp("kafka", numbered=True))
    try:
        yield broker
    finally:
        _release()
