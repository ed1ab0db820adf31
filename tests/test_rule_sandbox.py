"""The rule language is a sandbox (issue 15): a rule from a shared pack reads the event contract and
nothing else, cannot exhaust the stack or hang the engine, and every problem of a rule file is a
``RuleError`` naming the file — in ``chainwatch run``, ``detectors list``/``test`` and the worker's reload.

Each regression test below failed before the fix (the break it guards is named in its docstring); the
property tests at the end throw random expressions, references and title placeholders at the loader.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from detectors.cases import build_events
from detectors.engine import Engine, Runner
from detectors.expr import ExpressionError, compile_expression, read_path
from detectors.registry import RuleReloader
from detectors.rules import RuleDetector, RuleError, load_rule_file
from schemas.errors import ChainwatchError
from schemas.events import EVENT_TYPES
from streams.cli.main import app

SENTINEL = "cw-sandbox-sentinel-4f1c9a"
HEADER = """\
id: custom.leak
title: Sandbox test rule
description: A rule used by the sandbox tests.
severity: high
runbook: nothing to do
mappings: {owasp_agentic: [ASI02]}
"""
CONTRACT_FIELDS = frozenset(name for model in EVENT_TYPES for name in model.model_fields)
LEAKY_PATH = "__class__.__init__.__globals__.sys.modules.os.environ"
runner = CliRunner()


def write_rule(folder: Path, body: str, name: str = "leak.yml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def fire(rule: type[RuleDetector], events: list[dict[str, Any]]) -> list[Any]:
    engine_runner = Runner(Engine([rule()]))
    out = engine_runner.feed(build_events(events))
    out.extend(engine_runner.flush())
    return out.findings


# --------------------------------------------------------------------------- reading the contract only


def test_a_title_placeholder_cannot_read_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the title rendered every environment variable (integrity key, webhook secret …)."""
    monkeypatch.setenv("CHAINWATCH_TEST_SECRET", SENTINEL)
    path = write_rule(
        tmp_path, f'alert_title: "x {{a.{LEAKY_PATH}}}"\nsteps:\n  - name: a\n    where: action == "A"\n'
    )
    with pytest.raises(RuleError, match="cannot start with '_'") as info:
        load_rule_file(path)
    assert str(path) in str(info.value) and info.value.line == 7 and "fix:" in str(info.value)


def test_a_step_reference_cannot_read_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``$a.__class__…`` loaded, captured os.environ and stored it in the finding's details."""
    monkeypatch.setenv("CHAINWATCH_TEST_SECRET", SENTINEL)
    path = write_rule(
        tmp_path,
        "steps:\n  - name: a\n    where: action == 'A'\n"
        f"  - name: b\n    where: action == 'B' and target != $a.{LEAKY_PATH}\n",
    )
    with pytest.raises(RuleError, match="cannot start with '_'"):
        load_rule_file(path)


def test_reading_a_path_never_leaves_the_contract() -> None:
    """The run-time half of the sandbox: even a path that skipped the load-time check reads nothing."""
    event = build_events([{"action": "A", "arguments": {"k": [{"v": 1}]}}])[0]
    assert read_path(event, tuple(LEAKY_PATH.split("."))) is None
    assert read_path(event, ("model_fields",)) is None and read_path(event, ("copy",)) is None
    assert read_path(event, ("arguments", "k", "0", "v")) == 1
    assert read_path(event, ("arguments", "k", "__len__")) is None


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [
        ("{credentials}", "not a field the engine knows"),  # KeyContext internals, not a title field
        ("{now.__class__}", "names no step"),
        ("{a.nonexistent}", "unknown field 'nonexistent'"),
        ("{zz.target}", "'zz' names no step"),
    ],
)
def test_title_placeholders_are_checked_at_load_time(tmp_path: Path, placeholder: str, message: str) -> None:
    path = write_rule(
        tmp_path, f'alert_title: "t {placeholder}"\nsteps:\n  - name: a\n    where: action == "A"\n'
    )
    with pytest.raises(RuleError, match=message):
        load_rule_file(path)


def test_titles_render_contract_values_and_key_fields_only(tmp_path: Path) -> None:
    path = write_rule(
        tmp_path,
        'alert_title: "{agent_id} did {a.action} on {a.arguments.name}"\n'
        "steps:\n  - name: a\n    where: action == 'A'\n",
    )
    findings = fire(load_rule_file(path), [{"action": "A", "arguments": {"name": "x" * 5000}}])
    assert len(findings) == 1
    title = findings[0].title
    assert title.startswith("case-agent did A on xxx") and len(title) < 300  # each value is capped


# --------------------------------------------------------------------------- bounded work


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 5000 + "action == 'A'" + ")" * 5000,
        "not " * 3000 + "untrusted_content",
        "[" * 3000 + "1" + "]" * 3000 + " contains 1",
        "lower(" * 2000 + "action" + ")" * 2000 + " == 'a'",
    ],
    ids=["parentheses", "not", "lists", "functions"],
)
def test_deep_conditions_are_rule_errors_not_recursion_errors(tmp_path: Path, condition: str) -> None:
    """Before: a 5,000-deep ``where:`` ended in RecursionError (a traceback in run, a dead worker reload)."""
    path = write_rule(tmp_path, f'steps:\n  - name: a\n    where: "{condition}"\n')
    with pytest.raises(RuleError, match="nested more than"):
        load_rule_file(path)


def test_an_oversized_condition_is_refused() -> None:
    with pytest.raises(ExpressionError, match="character limit"):
        compile_expression(" or ".join(["action == 'A'"] * 5000))


@pytest.mark.timeout(30)
def test_a_catastrophic_regex_cannot_hang_the_engine(tmp_path: Path) -> None:
    """Before: ``(a+)+$`` against 'aaaa…b' backtracked for longer than the universe (Python re);
    RE2 matches in time linear in the text."""
    path = write_rule(tmp_path, "steps:\n  - name: a\n    where: \"target matches '^(a+)+$'\"\n")
    findings = fire(
        load_rule_file(path), [{"action": "A", "target": "a" * 64 + "b"}, {"action": "A", "target": "a" * 64}]
    )
    assert len(findings) == 1


@pytest.mark.parametrize("pattern", [r"(a)\\1", "a(?=b)", "(?<!x)a"])
def test_regex_features_without_a_linear_match_are_refused_at_load_time(tmp_path: Path, pattern: str) -> None:
    path = write_rule(tmp_path, f"steps:\n  - name: a\n    where: \"target matches '{pattern}'\"\n")
    with pytest.raises(RuleError, match="RE2") as info:
        load_rule_file(path)
    assert "fix" in str(info.value) or "rewrite" in str(info.value)


# --------------------------------------------------------------------------- one error, everywhere


def test_rule_errors_are_chainwatch_errors() -> None:
    assert issubclass(RuleError, ChainwatchError)


BROKEN_RULES = {
    "missing_key": "id: custom.missing_key\ntitle: no description\nseverity: high\n",
    "deep": HEADER.replace("custom.leak", "custom.deep")
    + 'steps:\n  - where: "'
    + "(" * 3000
    + "action == 'A'"
    + ")" * 3000
    + '"\n',
}


@pytest.mark.parametrize("kind", sorted(BROKEN_RULES))
def test_run_reports_a_broken_rule_file_in_one_line(tmp_path: Path, kind: str) -> None:
    """Before: a rule missing a required key (or nested too deeply) printed a traceback."""
    rules = tmp_path / "rules" / "custom"
    rules.mkdir(parents=True)
    (rules / f"{kind}.yml").write_text(BROKEN_RULES[kind], encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    env = {"CHAINWATCH_ENGINE__RULES_DIRS": f'["{tmp_path / "rules"}"]', "COLUMNS": "250"}
    result = runner.invoke(app, ["run", str(events), "--db", str(tmp_path / "x.duckdb")], env=env)
    assert result.exit_code != 0
    assert not isinstance(result.exception, RuleError | RecursionError), result.exception
    assert f"{kind}.yml" in result.output and "Traceback" not in result.output


def test_detectors_list_and_test_honour_rules_dirs(tmp_path: Path) -> None:
    """Before: ``detectors list`` ignored rules_dirs, so it could neither show a custom rule nor name a
    broken one."""
    rules = tmp_path / "rules"
    write_rule(rules, "steps:\n  - name: a\n    where: action == 'A'\n", name="custom/leak.yml")
    env = {"CHAINWATCH_ENGINE__RULES_DIRS": f'["{rules}"]', "COLUMNS": "250"}
    listed = runner.invoke(app, ["detectors", "list"], env=env)
    assert listed.exit_code == 0 and "custom.leak" in listed.output, listed.output
    (rules / "custom" / "broken.yml").write_text(BROKEN_RULES["missing_key"], encoding="utf-8")
    for command in (["detectors", "list"], ["detectors", "test", "custom.leak"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code != 0 and "broken.yml" in result.output, (command, result.output)
        assert "missing required key" in result.output and "Traceback" not in result.output


def test_hot_reload_keeps_the_running_set_on_any_rule_problem(tmp_path: Path) -> None:
    """Before: the reloader caught only RuleError/DetectorLoadError, so a RecursionError from a deep
    condition escaped into the worker."""
    rules = tmp_path / "rules"
    good = write_rule(rules, "steps:\n  - name: a\n    where: action == 'A'\n", name="custom/leak.yml")
    reloader = RuleReloader([rules])
    before = [d.id for d in reloader.catalog.detectors]
    assert "custom.leak" in before
    good.write_text(BROKEN_RULES["deep"].replace("custom.deep", "custom.leak"), encoding="utf-8")
    os.utime(good, (1, 1))  # a new mtime, whatever the clock's resolution
    assert reloader.poll() is False
    assert [d.id for d in reloader.catalog.detectors] == before
    assert len(reloader.last_errors) == 1 and "leak.yml" in reloader.last_errors[0]


# --------------------------------------------------------------------------- properties

FIELD_PARTS = st.sampled_from(
    [
        *sorted(CONTRACT_FIELDS),
        "__class__",
        "__init__",
        "__globals__",
        "__dict__",
        "_private",
        "model_fields",
        "model_config",
        "copy",
        "sys",
        "modules",
        "os",
        "environ",
        "0",
        "1",
        "name",
        "x-y",
    ]
)
PATHS = st.lists(FIELD_PARTS, min_size=1, max_size=7).map(".".join)
REFS = st.tuples(st.sampled_from(["a", "b", "zz"]), PATHS).map(lambda t: f"${t[0]}.{t[1]}")
LITERALS = st.one_of(
    st.integers(-10, 10).map(str),
    st.text(alphabet="abcAB .*", max_size=6).map(lambda t: f"'{t}'"),
    st.sampled_from(["true", "false", "null"]),
)
OPERATORS = st.sampled_from(
    ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "startswith", "endswith", "glob"]
)


def expressions() -> st.SearchStrategy[str]:
    operand = st.one_of(PATHS, REFS, LITERALS)
    compare = st.one_of(
        operand,
        st.tuples(operand, OPERATORS, operand).map(" ".join),
        st.tuples(operand, st.sampled_from(["'^a'", "'(a+)+$'", "'[z-a]'", r"'(\w)\1'"])).map(
            lambda t: f"{t[0]} matches {t[1]}"
        ),
    )
    return st.recursive(
        compare,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"({e})"),
            st.tuples(st.sampled_from(["lower", "upper", "len", "str", "exec", "__import__"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        ),
        max_leaves=12,
    )


def is_plain(value: Any, depth: int = 0) -> bool:
    """Contract data: what an event's fields hold, nothing that reaches Python's internals."""
    from datetime import datetime
    from enum import Enum

    if value is None or isinstance(value, str | int | float | bool | datetime | Enum):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return all(is_plain(v, depth + 1) for v in value)
    return False


EVENTS = build_events(
    [
        {"action": "A", "target": "aaa", "arguments": {"name": "x", "0": [1, {"os": "y"}]}},
        {"kind": "credential", "action": "issued", "credential_id": "c1", "scopes": ["s3:*"]},
    ]
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(path=PATHS)
def test_any_path_reads_contract_data_or_nothing(path: str) -> None:
    for event in EVENTS:
        assert is_plain(read_path(event, tuple(path.split("."))))


@FUZZ
@given(text=expressions(), captures=st.dictionaries(REFS.map(lambda r: r[1:]), st.integers() | st.text()))
def test_random_expressions_compile_or_fail_cleanly_and_evaluate_to_contract_data(
    text: str, captures: dict[str, Any]
) -> None:
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        assert "column" in str(exc)
        return
    for ref in expression.refs:  # references that compiled name a contract path under a step
        assert not any(part.startswith("_") for part in ref.split("."))
        assert ref.split(".")[1] in CONTRACT_FIELDS
    for event in EVENTS:
        assert isinstance(expression.evaluate(event, captures), bool)


@FUZZ
@given(
    title=st.lists(
        st.one_of(
            st.text(alphabet="ab -", max_size=4),
            PATHS.map(lambda p: "{" + p + "}"),
            REFS.map(lambda r: "{" + r[1:] + "}"),
        ),
        max_size=4,
    ).map("".join),
    where=expressions(),
)
def test_random_rules_load_as_rule_errors_or_fire_without_leaking(
    tmp_path_factory: pytest.TempPathFactory, title: str, where: str
) -> None:
    os.environ["CHAINWATCH_TEST_SECRET"] = SENTINEL
    folder = tmp_path_factory.mktemp("rules")
    body = (
        f"alert_title: {title!r}\n"
        + f"steps:\n  - name: a\n    where: {where!r}\n  - name: b\n    where: 'action == \"B\"'\n"
    )
    path = write_rule(folder, body)
    try:
        rule = load_rule_file(path)
    except RuleError as exc:
        assert str(path) in str(exc)
        return
    for finding in fire(rule, [{"action": "A", "target": "aaa"}, {"action": "B"}]):
        assert SENTINEL not in finding.model_dump_json()


def test_the_worker_stops_on_a_broken_rule_file_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: build_topology ran outside the worker's start-up guard, so a RuleError was a traceback."""
    from streams.kafka.worker import run_worker
    from streams.settings import Settings

    rules = tmp_path / "rules" / "custom"
    rules.mkdir(parents=True)
    (rules / "missing_key.yml").write_text(BROKEN_RULES["missing_key"], encoding="utf-8")
    settings = Settings()
    settings = settings.model_copy(
        update={
            "engine": settings.engine.model_copy(update={"rules_dirs": [tmp_path / "rules"]}),
            "worker": settings.worker.model_copy(update={"data_dir": tmp_path / "worker"}),
        }
    )
    with pytest.raises(SystemExit) as stopped:
        run_worker(settings)
    assert stopped.value.code == 2
    assert "missing_key.yml" in caplog.text and "missing required key" in caplog.text
