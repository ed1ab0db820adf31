"""Shared test fixtures: the real Kafka broker and PostgreSQL server, the shared public data folder, small
event builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kafka_support import kafka_broker  # noqa: F401  (session fixture: one real broker per run)
from tests.postgres_support import postgres_server  # noqa: F401  (session fixture: one PostgreSQL per run)

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; CHAINWATCH_SHARED_DATA points elsewhere (a git worktree lives one level
# deeper than the main checkout, so its ../shared/data is not the shared folder).
SHARED_DATA = Path(os.environ.get("CHAINWATCH_SHARED_DATA") or REPO.parent / "shared" / "data")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"public test data not found at {SHARED_DATA}")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_secret_memory() -> None:
    """Each test starts with no remembered secrets, as a new process does (schemas/secret_memory.py):
    a password one test redacted must not decide what another test's text becomes."""
    from schemas.secret_memory import KNOWN_SECRETS

    KNOWN_SECRETS.forget()
