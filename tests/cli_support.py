"""`chainwatch` as a shell runs it: a subprocess with a clean CHAINWATCH_* environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def run_chainwatch(
    args: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``chainwatch ARGS`` in ``cwd``; only the given CHAINWATCH_* variables are set (none of the
    caller's), and ``prefix`` wraps the command (e.g. setpriv)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHAINWATCH_")}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "streams.cli", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
