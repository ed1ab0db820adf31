"""The condition language of rule files: parsed once, compiled to Python closures, never ``eval``.

Grammar (informal)::

    expr    := or
    or      := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := operand [OP operand]
    OP      := == != < <= > >= in "not in" contains startswith endswith glob matches
    operand := literal | path | $step.path | [list] | (expr) | func(expr, ...)
    func    := lower upper len str

A path reads event fields (``arguments.userName``, ``environment``); a missing field is ``null``.
``$name.path`` reads a value captured from the event that matched step ``name`` of the same rule.
``matches`` takes a regular expression literal, compiled at load time; ``glob`` is shell-style.

The language is a sandbox (docs/security.md): rule files come from shared packs, so a path may only
name a field of the event contract and then keys or list positions inside it (never a Python attribute,
so ``__class__.__init__.__globals__`` cannot reach the process environment); nesting and size are bounded
(no ``RecursionError`` on a 5,000-deep condition); ``matches`` runs in RE2, whose time is linear in the
text, so no pattern can hang the engine (backreferences and look-arounds are refused at load time).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2
from pydantic import BaseModel

from schemas.events import EVENT_TYPES

Captures = Mapping[str, Any]
Compiled = Callable[[Any, Captures], Any]

# The first part of every path: the public fields of the event contract, nothing else.
CONTRACT_FIELDS = frozenset(name for model in EVENT_TYPES for name in model.model_fields)
MAX_CONDITION_CHARS = 20_000  # far above any real rule; bounds tokenizing and compiling
MAX_NESTING = 32  # parentheses, lists, function calls and 'not' around one value
MAX_PATH_PARTS = 16
MAX_REGEX_CHARS = 2_000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20  # a pattern whose automaton needs more is refused at load time

KEYWORDS = {
    "and",
    "or",
    "not",
    "in",
    "contains",
    "startswith",
    "endswith",
    "glob",
    "matches",
    "true",
    "false",
    "null",
}
WORD_OPERATORS = frozenset({"in", "contains", "startswith", "endswith", "glob", "matches"})
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "lower": lambda v: v.lower() if isinstance(v, str) else v,
    "upper": lambda v: v.upper() if isinstance(v, str) else v,
    "len": lambda v: len(v) if isinstance(v, str | list | tuple | dict | set | frozenset) else 0,
    "str": lambda v: "" if v is None else str(v),
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
      | (?P<ref>\$[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_0-9][A-Za-z0-9_\-]*)*)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_0-9][A-Za-z0-9_\-]*)*)
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A condition that cannot be parsed; the message says where and what was expected."""

    def __init__(self, message: str, text: str, position: int) -> None:
        pointer = f"{text}\n{' ' * position}^"
        super().__init__(f"{message} at column {position + 1}:\n{pointer}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, str, op, ref, name, end
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_CONDITION_CHARS:
        raise ExpressionError(
            f"condition of {len(text)} characters is over the {MAX_CONDITION_CHARS}-character limit; "
            "split it into steps or simpler conditions",
            text[:60],
            0,
        )
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError("unexpected character", text, pos)
        kind = match.lastgroup or ""
        start = match.start(kind)
        tokens.append(Token(kind, match.group(kind), start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass
class Expression:
    """A compiled condition: call ``evaluate(event, captures)``; ``refs`` lists ``$step.path`` uses."""

    source: str
    evaluate: Compiled
    refs: set[str] = field(default_factory=set)
    # Top-level equality constraints (field -> allowed values), used to index rules.
    constraints: dict[str, frozenset[str]] = field(default_factory=dict)
    # A necessary condition that reads only kind/tool/action: false means the expression cannot be
    # true for any event with those three values. The engine evaluates it once per distinct triple.
    prefilter: Compiled | None = None
    paths: frozenset[str] = frozenset()  # every event field the expression reads


# Fields whose values the engine knows before it looks at an event's other fields.
STATIC_FIELDS = frozenset({"kind", "tool", "action"})


def compile_expression(text: str, roots: frozenset[str] = CONTRACT_FIELDS) -> Expression:
    """``roots``: the names a path may start with (the event contract's fields; a caller that evaluates on
    a view of its own, such as the sensitive-API table's ``facts``, names its extra roots)."""
    parser = _Parser(text, roots)
    evaluate, constraints = parser.parse()
    terms = parser.term_statics[-len(parser._top_terms) :] if parser._top_terms else []
    prefilter: Compiled | None = None
    if terms and any(terms):
        # Each OR term implies the AND of its static conjuncts; a term without any allows everything.
        prefilter = _any([_all(t) if t else _constant(True) for t in terms])
    return Expression(text, evaluate, parser.refs, constraints, prefilter, frozenset(parser.paths))


def read_path(obj: Any, parts: tuple[str, ...]) -> Any:
    """Walk declared fields of contract models, keys of mappings (dicts, and the read-only views detectors
    build for their own conditions) and positions of lists; anything else (a missing step, a Python
    attribute, a private name) yields None."""
    for part in parts:
        if obj is None:
            return None
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, list | tuple):
            if not part.isdigit():
                return None
            index = int(part)
            obj = obj[index] if index < len(obj) else None
        elif isinstance(obj, BaseModel) and part in type(obj).model_fields:
            obj = getattr(obj, part)
        else:
            return None
    return obj


def check_path(path: str, roots: frozenset[str] = CONTRACT_FIELDS) -> str | None:
    """Why ``path`` may not be read by a rule (None: it may): a contract field, then keys/positions."""
    parts = path.split(".")
    if len(parts) > MAX_PATH_PARTS:
        return f"field path '{path}' has more than {MAX_PATH_PARTS} parts"
    if any(not part or part.startswith("_") for part in parts):
        return f"field names cannot start with '_' ('{path}'): rules read only the event contract"
    if parts[0] not in roots:
        return (
            f"unknown field '{parts[0]}' in '{path}'; a path starts with an event field: "
            f"{', '.join(sorted(roots))}"
        )
    return None


def _safe_compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        try:
            return op(a, b)
        except TypeError:
            return False

    return compare


def _contains(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, str):
        return isinstance(b, str) and b in a
    if isinstance(a, list | tuple | set | frozenset | dict):
        return b in a
    return False


def _in(a: Any, b: Any) -> bool:
    return _contains(b, a)


def _str_op(op: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def apply(a: Any, b: Any) -> bool:
        return isinstance(a, str) and isinstance(b, str) and op(a, b)

    return apply


def _glob(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and fnmatch.fnmatchcase(a, b)


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


def _not_equal(a: Any, b: Any) -> bool:
    return bool(a != b)


def _ref_equal(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a == b)


def _ref_not_equal(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a != b)


BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": _not_equal,
    "<": _safe_compare(lambda a, b: a < b),
    "<=": _safe_compare(lambda a, b: a <= b),
    ">": _safe_compare(lambda a, b: a > b),
    ">=": _safe_compare(lambda a, b: a >= b),
    "in": _in,
    "not in": lambda a, b: not _in(a, b),
    "contains": _contains,
    "startswith": _str_op(str.startswith),
    "endswith": _str_op(str.endswith),
    "glob": _glob,
}


class _Parser:
    def __init__(self, text: str, roots: frozenset[str] = CONTRACT_FIELDS) -> None:
        self.text = text
        self.roots = roots
        self.tokens = tokenize(text)
        self.index = 0
        self.refs: set[str] = set()
        self.paths: list[str] = []  # every field path read, in parse order
        self.term_statics: list[list[Compiled]] = []  # per OR term: its static conjuncts
        self._last_static: list[bool] = []
        self._top_terms: list[Any] = []
        self.depth = 0

    def deeper(self, token: Token) -> None:
        """One more level of nesting; too many is an error, never a RecursionError."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"nested more than {MAX_NESTING} levels deep; flatten the condition", self.text, token.pos
            )

    # -- token helpers
    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.value == word

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.value != op:
            raise ExpressionError(f"expected '{op}'", self.text, token.pos)

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(message, self.text, self.peek().pos)

    # -- grammar
    def parse(self) -> tuple[Compiled, dict[str, frozenset[str]]]:
        if self.peek().kind == "end":
            raise self.fail("empty condition")
        terms = self.parse_or_terms()
        self._top_terms = terms
        if self.peek().kind != "end":
            raise self.fail("expected 'and', 'or' or the end of the condition")
        if len(terms) == 1:
            conjuncts = terms[0]
            constraints: dict[str, frozenset[str]] = {}
            for _, constraint in conjuncts:
                if constraint:
                    name, values = constraint
                    previous = constraints.get(name)
                    constraints[name] = values if previous is None else previous & values
            return _all([fn for fn, _ in conjuncts]), constraints
        return _any([_all([fn for fn, _ in conj]) for conj in terms]), {}

    Constraint = tuple[str, frozenset[str]] | None

    def parse_or_terms(self) -> list[list[tuple[Compiled, Constraint]]]:
        terms = [self.parse_and_terms()]
        while self.is_word("or"):
            self.take()
            terms.append(self.parse_and_terms())
        return terms

    def parse_expr(self) -> Compiled:
        terms = self.parse_or_terms()
        return _any([_all([fn for fn, _ in conj]) for conj in terms])

    def parse_and_terms(self) -> list[tuple[Compiled, Constraint]]:
        conjuncts = [self._tracked_unary()]
        while self.is_word("and"):
            self.take()
            conjuncts.append(self._tracked_unary())
        self.term_statics.append(
            [fn for (fn, _), static in zip(conjuncts, self._last_static, strict=True) if static]
        )
        self._last_static = []
        return conjuncts

    def _tracked_unary(self) -> tuple[Compiled, Constraint]:
        """Parse one conjunct and note whether it reads only fields known before the event arrives."""
        paths_before, refs_before = len(self.paths), set(self.refs)
        saved_static = self._last_static
        self._last_static = []
        result = self.parse_unary()
        self._last_static = saved_static
        paths = self.paths[paths_before:]
        self._last_static.append(self.refs == refs_before and set(paths) <= STATIC_FIELDS)
        return result

    def parse_unary(self) -> tuple[Compiled, Constraint]:
        if self.is_word("not"):
            self.deeper(self.take())
            inner, _ = self.parse_unary()
            self.depth -= 1
            return (lambda e, c: not inner(e, c)), None
        return self.parse_compare()

    def parse_compare(self) -> tuple[Compiled, Constraint]:
        refs_at_start = set(self.refs)
        left, left_path = self.parse_operand()
        left_ref = self.refs != refs_at_start
        token = self.peek()
        op: str | None = None
        if (token.kind == "op" and token.value in BINARY) or (
            token.kind == "name" and token.value in WORD_OPERATORS
        ):
            op = self.take().value
        elif token.kind == "name" and token.value == "not" and self.tokens[self.index + 1].value == "in":
            self.take()
            self.take()
            op = "not in"
        if op is None:
            return (lambda e, c: bool(left(e, c))), None
        if op == "matches":
            pattern_token = self.take()
            if pattern_token.kind != "str":
                raise ExpressionError(
                    "'matches' needs a quoted regular expression", self.text, pattern_token.pos
                )
            regex = _compile_regex(_unquote_regex(pattern_token.value), self.text, pattern_token.pos)
            return (lambda e, c: isinstance(v := left(e, c), str) and regex.search(v) is not None), None
        right_start = self.peek()
        refs_before = set(self.refs)
        right, _ = self.parse_operand()
        function = BINARY[op]
        if op in ("==", "!=") and (left_ref or self.refs != refs_before):
            # Comparing with a captured value: a missing value on either side never matches,
            # so two events that both lack userName are not "the same user".
            function = _ref_equal if op == "==" else _ref_not_equal
        constraint: _Parser.Constraint = None
        literal = _literal_values(self.tokens, right_start, self.index)
        if left_path is not None and literal is not None and op in {"==", "in"}:
            constraint = (left_path, frozenset(str(v) for v in literal))
        return (lambda e, c: function(left(e, c), right(e, c))), constraint

    def parse_operand(self) -> tuple[Compiled, str | None]:
        token = self.take()
        if token.kind == "num":
            try:
                number: float | int = float(token.value) if "." in token.value else int(token.value)
            except ValueError:  # Python refuses to convert integers of more than 4,300 digits
                raise ExpressionError("number too long", self.text, token.pos) from None
            return (lambda e, c: number), None
        if token.kind == "str":
            text = _unquote(token.value)
            return (lambda e, c: text), None
        if token.kind == "ref":
            name = token.value[1:]
            if "." not in name:
                raise ExpressionError("a step reference needs a field: $step.field", self.text, token.pos)
            problem = check_path(name.partition(".")[2])
            if problem:
                raise ExpressionError(problem, self.text, token.pos)
            self.refs.add(name)
            return (lambda e, c: c.get(name)), None
        if (token.kind == "op" and token.value in ("[", "(")) or (
            token.kind == "name" and token.value in FUNCTIONS and self.peek().value == "("
        ):
            self.deeper(token)
            try:
                return self._parse_nested(token)
            finally:
                self.depth -= 1
        if token.kind == "name":
            if token.value in ("true", "false"):
                return _constant(token.value == "true"), None
            if token.value == "null":
                return _constant(None), None
            if token.value in KEYWORDS:
                raise ExpressionError(f"'{token.value}' cannot start a value", self.text, token.pos)
            problem = check_path(token.value, self.roots)
            if problem:
                raise ExpressionError(problem, self.text, token.pos)
            self.paths.append(token.value)
            return _path_reader(tuple(token.value.split("."))), token.value
        raise ExpressionError("expected a value, a field or '('", self.text, token.pos)

    def _parse_nested(self, token: Token) -> tuple[Compiled, str | None]:
        """A list, a parenthesised condition or a function call (one nesting level)."""
        if token.value == "[":
            items: list[Compiled] = []
            if not (self.peek().kind == "op" and self.peek().value == "]"):
                items.append(self.parse_operand()[0])
                while self.peek().kind == "op" and self.peek().value == ",":
                    self.take()
                    items.append(self.parse_operand()[0])
            self.expect_op("]")
            if all(getattr(i, "_constant", False) for i in items):
                values = frozenset(i(None, {}) for i in items)
                return _constant(values), None
            return (lambda e, c: [i(e, c) for i in items]), None
        if token.value == "(":
            inner = self.parse_expr()
            self.expect_op(")")
            return inner, None
        self.take()  # the '(' after a function name
        argument, _ = self.parse_operand()
        self.expect_op(")")
        function = FUNCTIONS[token.value]
        return (lambda e, c: function(argument(e, c))), None


def compile_regex(pattern: str) -> Any:
    """A pattern from a rule file in RE2 (linear time whatever the input), or an ExpressionError."""
    return _compile_regex(pattern, pattern, 0)


def _compile_regex(pattern: str, text: str, position: int) -> Any:
    """A ``matches`` pattern in RE2: matching time linear in the text, whatever the pattern."""
    if len(pattern) > MAX_REGEX_CHARS:
        raise ExpressionError(f"regular expression over {MAX_REGEX_CHARS} characters", text, position)
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        raise ExpressionError(
            f"bad regular expression ({exc}); RE2 syntax is Python's without backreferences and "
            "look-arounds: rewrite the pattern without them",
            text,
            position,
        ) from None


def _constant(value: Any) -> Compiled:
    def constant(e: Any, c: Captures) -> Any:
        return value

    constant._constant = True  # type: ignore[attr-defined]
    return constant


def _literal_values(tokens: list[Token], start: Token, end_index: int) -> list[Any] | None:
    """The literal value(s) of the operand just parsed, if it was a string/number or a list of them."""
    span = [t for t in tokens[:end_index] if t.pos >= start.pos]
    if len(span) == 1 and span[0].kind in ("str", "num"):
        return [_unquote(span[0].value) if span[0].kind == "str" else span[0].value]
    if span and span[0].value == "[" and all(t.kind in ("str", "num", "op") for t in span):
        return [_unquote(t.value) if t.kind == "str" else t.value for t in span if t.kind in ("str", "num")]
    return None


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _unquote_regex(text: str) -> str:
    """A ``matches`` pattern: only an escaped quote loses its backslash, so ``\\s``, ``\\d``, ``\\.`` keep
    their regular-expression meaning (``_unquote`` would turn ``\\s+`` into ``s+``)."""
    quote, body = text[0], text[1:-1]
    return body.replace("\\" + quote, quote)


def _path_reader(parts: tuple[str, ...]) -> Compiled:
    """A reader specialised for the common shapes (``action``, ``arguments.userName``): rules run
    these on every candidate event, so they avoid the generic loop where they can."""
    if len(parts) == 1:
        (name,) = parts

        def read_one(e: Any, c: Captures) -> Any:
            if isinstance(e, dict):
                return e.get(name)
            return getattr(e, name, None)

        return read_one
    if len(parts) == 2:
        first, second = parts

        def read_two(e: Any, c: Captures) -> Any:
            outer = e.get(first) if isinstance(e, dict) else getattr(e, first, None)
            if isinstance(outer, dict):
                return outer.get(second)
            return read_path(outer, (second,)) if outer is not None else None

        return read_two
    return lambda e, c: read_path(e, parts)


def _all(parts: list[Compiled]) -> Compiled:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda e, c: bool(a(e, c)) and bool(b(e, c))
    if len(parts) == 3:
        a, b, d = parts
        return lambda e, c: bool(a(e, c)) and bool(b(e, c)) and bool(d(e, c))

    def all_of(e: Any, c: Captures) -> bool:
        for part in parts:  # noqa: SIM110 (an explicit loop: this runs per event, generators cost more)
            if not part(e, c):
                return False
        return True

    return all_of


def _any(parts: list[Compiled]) -> Compiled:
    if len(parts) == 1:
        return parts[0]

    def any_of(e: Any, c: Captures) -> bool:
        for part in parts:  # noqa: SIM110 (an explicit loop: this runs per event, generators cost more)
            if part(e, c):
                return True
        return False

    return any_of
