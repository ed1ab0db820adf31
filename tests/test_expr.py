"""The condition language: operators, missing fields, references, and errors that point at the problem."""

from __future__ import annotations

import pytest

from detectors.cases import build_events
from detectors.expr import ExpressionError, compile_expression

EVENT = build_events(
    [
        {
            "tool": "iam",
            "action": "AttachUserPolicy",
            "environment": "prod",
            "target": "arn:aws:iam::1:user/bob",
            "arguments": {
                "userName": "bob",
                "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                "n": 3,
                "tags": ["a", "b"],
            },
        }
    ]
)[0]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('action == "AttachUserPolicy"', True),
        ('action != "AttachUserPolicy"', False),
        ('action in ["CreateUser", "AttachUserPolicy"]', True),
        ('action not in ["CreateUser"]', True),
        ('arguments.policyArn contains "Administrator"', True),
        ('arguments.tags contains "b"', True),
        ('target startswith "arn:aws:iam"', True),
        ('target endswith "/bob"', True),
        ('target glob "arn:aws:iam::*:user/*"', True),
        ('lower(action) matches "^attach(user|role)policy$"', True),
        ("arguments.n > 2 and arguments.n <= 3", True),
        ("arguments.n < 1 or arguments.n >= 3", True),
        ('not (environment == "dev")', True),
        ("arguments.missing == null", True),
        ("arguments.missing > 1", False),
        ('arguments.missing contains "x"', False),
        ("len(arguments.tags) == 2", True),
        ("untrusted_content", False),
        ('environment == "prod" and (tool == "s3" or tool == "iam")', True),
    ],
)
def test_operators(condition: str, expected: bool) -> None:
    assert compile_expression(condition).evaluate(EVENT, {}) is expected


def test_references_read_captured_values_and_never_match_missing_ones() -> None:
    expression = compile_expression("arguments.userName == $create.arguments.userName")
    assert expression.refs == {"create.arguments.userName"}
    assert expression.evaluate(EVENT, {"create.arguments.userName": "bob"}) is True
    assert expression.evaluate(EVENT, {"create.arguments.userName": "alice"}) is False
    assert expression.evaluate(EVENT, {}) is False  # missing capture is not "equal to missing field"


def test_index_constraints_come_from_top_level_equalities() -> None:
    expression = compile_expression('kind == "tool_call" and action in ["A", "B"] and arguments.x == 1')
    assert expression.constraints["action"] == frozenset({"A", "B"})
    assert expression.constraints["kind"] == frozenset({"tool_call"})
    assert compile_expression('action == "A" or action == "B"').constraints == {}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("action ==", "expected a value"),
        ('action = "x"', "unexpected character"),
        ("(action", r"expected '\)'"),
        ("action matches foo", "needs a quoted regular expression"),
        ('action matches "("', "bad regular expression"),
        ("$step == 1", "needs a field"),
        ("", "empty condition"),
        ('action == "a" "b"', "expected 'and', 'or'"),
    ],
)
def test_errors_point_at_the_problem(condition: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message) as info:
        compile_expression(condition)
    assert "column" in str(info.value)


def test_no_eval_paths_cannot_reach_python_internals() -> None:
    with pytest.raises(ExpressionError, match="cannot start with '_'"):
        compile_expression("__class__.__name__ == 'ToolCall'")
    with pytest.raises(ExpressionError):
        compile_expression("__import__('os').system('true')")
    with pytest.raises(ExpressionError):
        compile_expression("exec('1')")  # not a known function: a field followed by '(' is an error
