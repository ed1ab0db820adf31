"""The mistakes a newcomer makes, through the real `chainwatch` command (a subprocess, as a shell runs it):
each one gives an exit code and a one- or two-line message saying what, where and how to fix it, never a
traceback (`chainwatch --debug` shows it), and loses nothing.

One row per case of issue 20; the rows that need a folder the command may not write to drop the
capability that lets root write anywhere (`setpriv`), so they mean the same as root and as a user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from streams.simulator.workload import simulate, write_jsonl
from tests.cli_support import run_chainwatch
from tests.db_support import held_for_writing
from tests.demo_support import seeded_demo_db

KNOWN_ALERT = "bf3cb0624f95ba86f2161a36d6760b76"
COMMAND_TIMEOUT = 120  # far above any row's real time: a command that waits on a broker fails the row


@dataclass
class Workspace:
    """A folder to run one command in, with a workload, a demo database and helpers to spoil things."""

    root: Path
    workload: Path
    demo_db: Path
    holds: ExitStack = field(default_factory=ExitStack)

    def read_only_folder(self) -> Path:
        folder = self.root / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder

    def held_for_writing(self, db: Path) -> Path:
        """Keep ``db`` open for writing in another process until the row is done."""
        self.holds.enter_context(held_for_writing(db))
        return db

    def copy_of_demo(self) -> Path:
        db = self.root / "cw.duckdb"
        shutil.copy(self.demo_db, db)
        return db

    def release(self) -> None:
        self.holds.close()


@dataclass(frozen=True)
class Mistake:
    name: str
    args: Callable[[Workspace], list[str]]
    code: int
    says: tuple[str, ...]  # fragments of stderr, in order of appearance is not required
    never_says: tuple[str, ...] = ()
    prints: tuple[str, ...] = ()  # fragments of stdout
    env: dict[str, str] = field(default_factory=dict)
    env_of: Callable[[Workspace], dict[str, str]] | None = None  # variables that name workspace files
    unprivileged: bool = False  # run without CAP_DAC_OVERRIDE (read-only folders also bind root)
    after: Callable[[Workspace], None] | None = None  # what must still be true afterwards
    max_lines: int = 2


def _broken_rule_dir(ws: Workspace) -> dict[str, str]:
    rules = ws.root / "rules"
    rules.mkdir()
    (rules / "broken.yml").write_text("id: custom.broken\ntitle: [unclosed\n")
    return {"CHAINWATCH_ENGINE__RULES_DIRS": f'["{rules}"]'}


def _nothing_in(folder_name: str) -> Callable[[Workspace], None]:
    def check(ws: Workspace) -> None:
        assert not (ws.root / folder_name).exists(), f"{folder_name} was created"

    return check


def _released_and_unchanged(ws: Workspace) -> None:
    ws.release()
    counts = []
    for db in (ws.demo_db, ws.root / "cw.duckdb"):
        with duckdb.connect(str(db), read_only=True) as con:
            counts.append(
                con.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM alerts)").fetchone()
            )
    assert counts[0] == counts[1], "the held database was changed"


MISTAKES = [
    Mistake(
        "run while another process writes the database",
        lambda ws: ["run", str(ws.workload), "--db", str(ws.held_for_writing(ws.copy_of_demo()))],
        2,
        ("cw.duckdb is open in another process (PID", "python", "nothing was written"),
        after=_released_and_unchanged,
    ),
    Mistake(
        "run --db in a read-only folder",
        lambda ws: ["run", str(ws.workload), "--db", str(ws.read_only_folder() / "cw.duckdb")],
        2,
        ("cannot write", "read-only/cw.duckdb", "permission denied", "--db (or CHAINWATCH_DB_PATH)"),
        never_says=("another process",),
        unprivileged=True,
    ),
    Mistake(
        "run --db under a path that is a file",
        lambda ws: ["run", str(ws.workload), "--db", str(ws.workload / "cw.duckdb")],
        2,
        ("is a file, not a folder", "--db (or CHAINWATCH_DB_PATH)"),
    ),
    Mistake(
        "model train on a database another process writes",
        lambda ws: ["model", "train", "--db", str(ws.held_for_writing(ws.copy_of_demo()))],
        2,
        ("cw.duckdb is being written by another process (PID", "wait for it to finish"),
    ),
    Mistake(
        "simulate --out into a read-only folder",
        lambda ws: ["simulate", "--sessions", "3", "--out", str(ws.read_only_folder() / "w.jsonl")],
        2,
        ("read-only/w.jsonl: permission denied", "choose a path"),
        unprivileged=True,
    ),
    Mistake(
        "a wrongly typed setting, even for a command that does not use it",
        lambda ws: ["run", str(ws.workload), "--db", str(ws.root / "new.duckdb")],
        2,
        ("CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS='abc'", "valid number", "unset it"),
        env={"CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS": "abc"},
        after=_nothing_in("new.duckdb"),
    ),
    Mistake(
        "a setting that must be JSON and is not",
        lambda ws: ["run", str(ws.workload)],
        2,
        ("CHAINWATCH_ENGINE__DISABLED must be a JSON list",),
        env={"CHAINWATCH_ENGINE__DISABLED": "credential.never_revoked"},
    ),
    Mistake(
        "a broken rule file",
        lambda ws: ["run", str(ws.workload)],
        2,
        ("rules/broken.yml:", "not valid YAML"),
        env_of=_broken_rule_dir,
        max_lines=8,  # the YAML parser's own explanation (issue 15 shortens rule errors)
    ),
    Mistake(
        "a folder as input",
        lambda ws: ["run", str(ws.root)],
        2,
        ("is a folder, not a file", "give the files in it"),
        never_says=("no such file",),
    ),
    Mistake(
        "a --format that turns every record into a dead letter",
        lambda ws: ["run", str(ws.workload), "--format", "cloudtrail", "--db", str(ws.root / "x.duckdb")],
        0,  # the dead letters are stored with their reason (a file of bad records is a valid input)
        ("none of its", "became a cloudtrail event", "try --format native"),
    ),
    Mistake(
        "produce: a missing input, with no broker to wait for",
        lambda ws: ["produce", str(ws.root / "missing.jsonl")],
        2,
        ("missing.jsonl: no such file",),
        env={
            "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS": "600",
        },
    ),
    Mistake(
        "produce: a bootstrap host without a port",
        lambda ws: ["produce", str(ws.workload)],
        2,
        ("'broker' (from CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS) is not host:port", "broker:9092"),
        env={"CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": "broker"},
    ),
    Mistake(
        "produce: a broker that does not answer names where its address came from",
        lambda ws: ["produce", str(ws.workload)],
        1,
        ("could not reach Kafka at 127.0.0.1:1 (from CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS)", "make kafka-up"),
        env={
            "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS": "2",
        },
    ),
    Mistake(
        "ui --db on a file that does not exist",
        lambda ws: ["ui", "--db", str(ws.root / "missing.duckdb"), "--port", "0"],
        2,
        ("missing.duckdb: no such database",),
        never_says=("pass --db",),
    ),
    Mistake(
        "show with a too short alert-id prefix",
        lambda ws: ["show", KNOWN_ALERT[:4], "--db", str(ws.demo_db)],
        1,
        (f"no alert '{KNOWN_ALERT[:4]}'", "at least 6 characters"),
    ),
    Mistake(
        "detectors new outside a checkout",
        lambda ws: ["detectors", "new", "exfiltration.dns_tunnel"],
        2,
        ("is not a chainwatch checkout", "--root"),
        after=_nothing_in("detectors"),
    ),
    Mistake(
        "deliver --status with no sinks",
        lambda ws: ["deliver", "--status"],
        0,
        (),
        prints=("no delivery sinks are configured", "CHAINWATCH_DELIVERY__WEBHOOKS", "nothing to deliver"),
        after=_nothing_in(".chainwatch-spool.sqlite"),
    ),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("mistakes")
    workload = folder / "workload.jsonl"
    runs = simulate(seed=3, sessions=12, attack_ratio=0.2)
    write_jsonl(sorted((e for r in runs for e in r.events), key=lambda e: e.event_time), workload)
    return workload, seeded_demo_db(folder)


@pytest.fixture
def workspace(inputs: tuple[Path, Path], tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "work"
    root.mkdir()
    ws = Workspace(root, *inputs)
    try:
        yield ws
    finally:
        ws.release()
        for folder in root.rglob("read-only"):
            folder.chmod(0o755)


def unprivileged() -> list[str]:
    """A prefix that runs a command without the capabilities that let root ignore file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): a read-only folder cannot be made")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def chainwatch(
    args: list[str], *, cwd: Path, env: dict[str, str], prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    defaults = {"CHAINWATCH_DB_PATH": str(cwd / "chainwatch.duckdb")}
    return run_chainwatch(args, cwd=cwd, env={**defaults, **env}, prefix=prefix, timeout=COMMAND_TIMEOUT)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_mistake_gets_an_exit_code_and_a_short_message(mistake: Mistake, workspace: Workspace) -> None:
    env = {**mistake.env, **(mistake.env_of(workspace) if mistake.env_of else {})}
    prefix = unprivileged() if mistake.unprivileged else []
    done = chainwatch(mistake.args(workspace), cwd=workspace.root, env=env, prefix=prefix)
    err = done.stderr
    assert "Traceback" not in err and "Traceback" not in done.stdout, err
    assert done.returncode == mistake.code, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {err}"
    for fragment in mistake.says:
        assert fragment in err, f"{fragment!r} not in:\n{err}"
    for fragment in mistake.prints:
        assert fragment in done.stdout, f"{fragment!r} not in:\n{done.stdout}"
    for fragment in mistake.never_says:
        assert fragment not in err, f"{fragment!r} in:\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    if mistake.says:
        assert 1 <= len(lines) <= mistake.max_lines, err
        assert lines[0].startswith(("error:", "warning:")), err
    if mistake.after is not None:
        mistake.after(workspace)


def test_debug_shows_the_traceback(workspace: Workspace) -> None:
    done = chainwatch(
        ["--debug", "run", str(workspace.workload)],
        cwd=workspace.root,
        env={"CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS": "abc"},
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "SettingsInvalid" in done.stderr


def test_an_empty_file_among_others_is_skipped_with_a_warning(workspace: Workspace) -> None:
    empty = workspace.root / "empty.jsonl"
    empty.touch()
    db = workspace.root / "cw.duckdb"
    done = chainwatch(
        ["run", str(empty), str(workspace.workload), "--db", str(db), "--json"], cwd=workspace.root, env={}
    )
    assert done.returncode == 0, done.stderr
    assert "warning: " in done.stderr and "empty.jsonl is empty" in done.stderr
    assert "could not recognise" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["events"] > 0 and [i["origin"] for i in summary["inputs"]] == [
        "empty.jsonl",
        "workload.jsonl",
    ]


def test_piped_output_is_plain_and_never_wrapped(workspace: Workspace) -> None:
    """`chainwatch detectors list | grep ID` must find the whole row: id, title and severity on one line."""
    from detectors.registry import load_catalog

    done = chainwatch(["detectors", "list"], cwd=workspace.root, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not any(set("│┃━─╇┡") & set(line) for line in lines), "box lines in piped output"
    for detector in load_catalog().detectors:
        row = [line for line in lines if line.split()[:1] == [detector.id]]
        assert len(row) == 1 and detector.title in row[0] and str(detector.severity) in row[0], detector.id
    alerts = chainwatch(["alerts", "--db", str(workspace.demo_db)], cwd=workspace.root, env={"COLUMNS": "80"})
    assert any(
        KNOWN_ALERT[:12] in line and "privilege.escalation_chain" in line
        for line in alerts.stdout.splitlines()
    )
