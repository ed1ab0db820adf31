"""A Sigma rule's condition compiled to a Python predicate over chainwatch events (no query language).

pySigma parses the rule and applies the field mapping (``detectors.sigma_rules.pipeline``); this module walks
the resulting condition tree once and builds closures. Semantics: strings match case-insensitively unless the
rule says ``|cased``; ``*``/``?`` are wildcards; a list-valued field matches when any element does; an object
compared with a string is compared as its compact JSON (so ``requestParameters|contains: 'Suspended'`` works);
``null`` means the field is absent; ``|re`` searches (unanchored) with the rule's flags; ``|cidr``,
``|exists``, ``|fieldref``, ``|gt`` … and ``|expand``-free modifier expansions are supported. Anything else
raises ``Untranslatable`` with the reason.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
)

from detectors.sigma_rules.fields import chainwatch_path, read_field
from schemas.events import AnyEvent

Predicate = Callable[[AnyEvent], bool]
# Three-valued prefilter on the action alone: True / False / None (cannot tell without the event).
Prefilter = Callable[[str], bool | None]


class Untranslatable(ValueError):
    """A rule (or part of one) chainwatch cannot evaluate; the message says why."""


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return str(value)


def _candidates(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _string_matcher(value: SigmaString) -> Callable[[Any], bool]:
    cased = isinstance(value, SigmaCasedString)
    if not value.contains_special():
        plain = value.to_plain()
        if cased:
            return lambda v: _as_text(v) == plain
        lowered = plain.lower()
        return lambda v: _as_text(v).lower() == lowered
    pattern = re.compile(
        "^" + str(value.to_regex().regexp) + "$", re.DOTALL | (0 if cased else re.IGNORECASE)
    )
    return lambda v: pattern.match(_as_text(v)) is not None


def _regex_matcher(value: SigmaRegularExpression) -> Callable[[Any], bool]:
    flags = 0
    for flag in value.flags:
        flags |= {
            SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
            SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
            SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
        }[flag]
    try:
        pattern = re.compile(str(value.regexp), flags)
    except re.error as exc:
        raise Untranslatable(f"regular expression {value.regexp} does not compile in Python: {exc}") from None
    return lambda v: pattern.search(_as_text(v)) is not None


def _cidr_matcher(value: SigmaCIDRExpression) -> Callable[[Any], bool]:
    network = value.network

    def match(v: Any) -> bool:
        try:
            return ipaddress.ip_address(_as_text(v)) in network
        except ValueError:
            return False

    return match


_COMPARE: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _number(v: Any) -> float | None:
    try:
        return float(v) if not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def _value_matcher(value: SigmaType) -> Callable[[Any], bool]:
    """A test on one present, non-null field value."""
    if isinstance(value, SigmaString):
        return _string_matcher(value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_matcher(value)
    if isinstance(value, SigmaBool):
        expected = "true" if value.boolean else "false"
        return lambda v: _as_text(v).lower() == expected
    if isinstance(value, SigmaNumber):
        number = float(value.number)
        return lambda v: _number(v) == number
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_matcher(value)
    if isinstance(value, SigmaCompareExpression):
        compare, bound = _COMPARE[value.op], float(value.number.number)
        return lambda v: (n := _number(v)) is not None and compare(n, bound)
    raise Untranslatable(f"value type {type(value).__name__} ({value}) is not supported")


def _field_predicate(field: str, value: SigmaType) -> Predicate:
    if isinstance(value, SigmaExpansion):
        parts = [_field_predicate(field, v) for v in value.values]
        return lambda e: any(p(e) for p in parts)
    if isinstance(value, SigmaNull):
        return lambda e: not read_field(e, field)[0]
    if isinstance(value, SigmaExists):
        wanted = value.exists
        return lambda e: read_field(e, field)[0] is wanted
    if isinstance(value, SigmaFieldReference):
        other = chainwatch_path(value.field) or value.field
        if value.starts_with or value.ends_with:
            raise Untranslatable("|fieldref with |startswith or |endswith is not supported")

        def same(e: AnyEvent) -> bool:
            (here, a), (there, b) = read_field(e, field), read_field(e, other)
            return here and there and _as_text(a).lower() == _as_text(b).lower()

        return same
    test = _value_matcher(value)

    def predicate(e: AnyEvent) -> bool:
        present, found = read_field(e, field)
        return present and any(test(v) for v in _candidates(found))

    return predicate


Node = Any  # a pySigma condition tree node (ConditionAND/OR/NOT, field or value expressions)


def compile_condition(node: Node) -> Predicate:
    """The predicate of a (field-mapped) pySigma condition tree."""
    if isinstance(node, ConditionAND):
        parts = [compile_condition(a) for a in node.args]
        return lambda e: all(p(e) for p in parts)
    if isinstance(node, ConditionOR):
        parts = [compile_condition(a) for a in node.args]
        return lambda e: any(p(e) for p in parts)
    if isinstance(node, ConditionNOT):
        inner = compile_condition(node.args[0])
        return lambda e: not inner(e)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_predicate(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        raise Untranslatable("keyword (field-less) detections are not supported: name the field")
    raise Untranslatable(f"condition element {type(node).__name__} is not supported")


def action_prefilter(node: Node) -> Prefilter:
    """Whether an event with this action can match: the tree evaluated with only ``action`` known (Kleene
    logic); the engine asks once per distinct action, so rules skip the events they can never match."""
    if isinstance(node, ConditionAND | ConditionOR):
        parts = [action_prefilter(a) for a in node.args]
        is_and = isinstance(node, ConditionAND)

        def combine(action: str) -> bool | None:
            results = [p(action) for p in parts]
            if is_and:
                return False if False in results else (None if None in results else True)
            return True if True in results else (None if None in results else False)

        return combine
    if isinstance(node, ConditionNOT):
        inner = action_prefilter(node.args[0])
        return lambda action: None if (r := inner(action)) is None else not r
    if isinstance(node, ConditionFieldEqualsValueExpression) and node.field == "action":
        value = node.value
        if isinstance(value, SigmaString):
            test = _string_matcher(value)
            return lambda action: test(action)
    return lambda action: None
