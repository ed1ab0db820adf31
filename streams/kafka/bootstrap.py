"""The broker addresses a client uses: where they came from, and a format check before any client waits
on them (a host without a port would otherwise cost a full request timeout to find out)."""

from __future__ import annotations

import os

from schemas.errors import ChainwatchError

BOOTSTRAP_ENV = "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS"


class BootstrapInvalid(ChainwatchError):
    """The bootstrap servers are not a comma-separated list of host:port."""


def bootstrap_source(given: str | None) -> str:
    """Where the addresses came from, as the user set them: --bootstrap, the variable, or the default."""
    if given:
        return "--bootstrap"
    if os.environ.get(BOOTSTRAP_ENV):
        return BOOTSTRAP_ENV
    return f"the default; set {BOOTSTRAP_ENV} or pass --bootstrap"


def check_bootstrap(servers: str, given: str | None) -> None:
    """Every entry must be host:port with a port from 1 to 65535 ([::1]:9092 for IPv6)."""
    entries = [s.strip() for s in servers.split(",")]
    for entry in entries:
        host, colon, port = entry.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BootstrapInvalid(
                f"Kafka bootstrap server {entry!r} (from {bootstrap_source(given)}) is not host:port; "
                "write it with its port, e.g. broker:9092 (several: a:9092,b:9092)"
            )


def unreachable(servers: str, given: str | None, exc: BaseException) -> str:
    """The message for a broker that did not answer."""
    return (
        f"could not reach Kafka at {servers} (from {bootstrap_source(given)}): {exc}; start the broker "
        "(`make kafka-up`), or give its address with --bootstrap or " + BOOTSTRAP_ENV
    )
