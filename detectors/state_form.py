"""Compact encodings of a key's saved state (issue 14: state per open session ≤ 2 KB), exact both ways.

``KeyState.to_dict()`` (version 3) writes detector slots through :func:`save_slot` and reads them back through
:func:`load_slot`. A slot stays the detector's own plain dict; a value of a shape the detectors share is
written in a shorter form, its name marked with ``~`` and a letter (``"window~T"``), and read back as the very
value it was. No detector takes part: the shape alone decides, and a value of any other shape (or one that a
form would not give back exactly) is written as it is. The shapes:

* ``T`` — entries that begin with an event time and an event id (threshold windows, reads kept for a later
  send): ``[n, values, time, id, v, v, …]``, flat, each later column's value by its place in ``values``.
* ``M`` — calls per signature (the runaway loop): ``[sig, [sig, time, id, time, id], …]`` in order, a
  signature without calls as its bare name.
* ``P`` — a sequence rule's partial matches: each ``[step, ids, captures, t0, t1, deadline]``.
* ``R`` — events remembered for ties (``[time, {fields}]``): the field names once, then each event's values.
* ``D`` — a map from names to event times: ``[name, time, name, time, …]``, each name front-coded.
* ``H`` — a map from names to lists of names: ``[name, [names], …]``.

Strings that detectors copy from events and the context holds already (targets, credential ids, the key's
agent and principal) are written by their place there (``Form.value``) in ``T``'s values, ``P``'s captures,
``R``'s fields and ``H``.

Times are written as their offset from the key's last event time (``Form.time``: shortest exact decimal, or
the time itself as a string when no offset gives it back exactly); event ids that are a common prefix and a
number are written as the number (``Form.event_id``; the prefix is saved once, as ``ip``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

MARK = "~"
_ID_NUMBER = re.compile(r"^(.*?)(0|[1-9][0-9]{0,14})$")  # a number JSON holds exactly, no leading zero
_PARTIAL_KEYS = ["s", "ids", "c", "t0", "t1", "dl"]


class Form:
    """What the saved form of one key's state is relative to: its last event time and an event-id prefix
    (the first id that ends in a number sets it when saving)."""

    def __init__(self, base: float | None, id_prefix: str | None = None, known: Sequence[str] = ()) -> None:
        self.base = base
        self.id_prefix = id_prefix
        self.known = known  # strings the key's context holds (targets, credential ids), in its order
        self._place: dict[str, int] = {}
        for place, text in enumerate(known):
            self._place.setdefault(text, place)

    def time(self, value: float, base: float | None = None) -> float | str:
        """``value`` as its offset from ``base`` (default: the key's last event time)."""
        base = self.base if base is None else base
        if base is None:
            return value
        offset = value - base
        for digits in range(3, 10):  # the shortest decimal that adds back to the very value
            if base + (short := round(offset, digits)) == value:
                return short
        return offset if base + offset == value else repr(value)

    def untime(self, saved: Any, base: float | None = None) -> Any:
        base = self.base if base is None else base
        if isinstance(saved, str):
            return float(saved)
        return saved if base is None or saved is None else base + saved

    def event_id(self, value: str) -> str | int:
        prefix = self.id_prefix
        if prefix is not None and value.startswith(prefix):  # the usual case, without the pattern
            number = value[len(prefix) :]
            if _is_number(number):
                return int(number)
        match = _ID_NUMBER.match(value)
        if match is None:
            return value
        if prefix is None:
            self.id_prefix = prefix = match.group(1)
        return int(match.group(2)) if match.group(1) == prefix else value

    def un_event_id(self, saved: str | int) -> str:
        return saved if isinstance(saved, str) else f"{self.id_prefix}{saved}"

    def value(self, value: Any) -> Any:
        """A value a detector copied from an event: a string the context holds as ``[its place]``, a list
        wrapped in one (so that the two cannot be confused), anything else as it is."""
        if isinstance(value, str):
            place = self._place.get(value)
            return value if place is None else [place]
        return [value] if isinstance(value, list) else value

    def unvalue(self, saved: Any) -> Any:
        if isinstance(saved, list):
            inner = saved[0]
            return inner if isinstance(inner, list) else self.known[inner]
        return saved


def _is_number(text: str) -> bool:
    """Digits that JSON holds as an integer and give the very text back: no leading zero, 15 at most."""
    return text.isdecimal() and text.isascii() and len(text) <= 15 and (text == "0" or text[0] != "0")


class Chain:
    """A run of (time, event id) written one after the other: each time as its offset from the time before
    (the first from the key's last event time), each id number as its difference from the number before."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.last_time: float | None = None
        self.last_number = 0

    def put(self, when: float, event_id: str) -> tuple[float | str, str | int]:
        saved_time = self.form.time(when, self.last_time)
        self.last_time = when
        saved_id = self.form.event_id(event_id)
        if isinstance(saved_id, int):
            saved_id, self.last_number = saved_id - self.last_number, saved_id
        return saved_time, saved_id

    def get(self, saved_time: Any, saved_id: str | int) -> tuple[float, str]:
        when = self.form.untime(saved_time, self.last_time)
        self.last_time = when
        if isinstance(saved_id, int):
            self.last_number += saved_id
            return when, self.form.un_event_id(self.last_number)
        return when, saved_id


# -- detector slots


def save_slot(state: dict[str, Any], form: Form) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in state.items():
        for letter, (fits, save, _) in _SHAPES.items():
            if fits(value):
                out[f"{name}{MARK}{letter}"] = save(value, form)
                break
        else:
            out[f"{name}{MARK}" if MARK in name else name] = value  # a raw name with the mark: marked as raw
    return out


def load_slot(saved: dict[str, Any], form: Form) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for key, value in saved.items():
        name, mark, letter = key.rpartition(MARK)
        if not mark:
            state[key] = value
        else:
            state[name] = _SHAPES[letter][2](value, form) if letter else value
    return state


# T: timed entries [time, event id, …] of one length


def _is_time(value: Any) -> bool:
    return isinstance(value, float)


def _each(value: Any, kind: type, test: Callable[[Any], bool]) -> bool:
    """Whether ``value`` is a non-empty list or dict (``kind``) whose every item (a dict's every value)
    passes ``test``."""
    if isinstance(value, dict):
        return kind is dict and bool(value) and all(map(test, value.values()))
    return kind is list and isinstance(value, list) and bool(value) and all(map(test, value))


def _fits_timed(value: Any) -> bool:
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return False
    width = len(value[0])
    return width >= 2 and all(
        isinstance(e, list) and len(e) == width and _is_time(e[0]) and isinstance(e[1], str) for e in value
    )


def _save_timed(entries: list[list[Any]], form: Form) -> list[Any]:
    width = len(entries[0])
    places: dict[bytes, int] = {}
    values: list[Any] = []
    flat: list[Any] = [width, values]
    chain = Chain(form)
    for entry in entries:
        flat += chain.put(entry[0], entry[1])
        for value in entry[2:]:
            place = places.setdefault(orjson.dumps(value), len(places))
            if place == len(values):
                values.append(form.value(value))
            flat.append(place)
    return flat


def _load_timed(flat: list[Any], form: Form) -> list[list[Any]]:
    width, values, rest = flat[0], flat[1], flat[2:]
    chain = Chain(form)
    return [
        [*chain.get(rest[i], rest[i + 1]), *(_copy(form.unvalue(values[p])) for p in rest[i + 2 : i + width])]
        for i in range(0, len(rest), width)
    ]


# M: calls per signature


def _fits_calls(value: Any) -> bool:
    return _each(value, dict, lambda calls: isinstance(calls, list) and all(map(_is_call, calls)))


def _is_call(call: Any) -> bool:
    return isinstance(call, list) and len(call) == 2 and _is_time(call[0]) and isinstance(call[1], str)


def _save_calls(value: dict[str, list[list[Any]]], form: Form) -> list[Any]:
    out: list[Any] = []
    chain = Chain(form)
    for signature, calls in value.items():
        if not calls:
            out.append(signature)
            continue
        entry: list[Any] = [signature]
        for when, event_id in calls:
            entry += chain.put(when, event_id)
        out.append(entry)
    return out


def _load_calls(saved: list[Any], form: Form) -> dict[str, list[list[Any]]]:
    calls: dict[str, list[list[Any]]] = {}
    chain = Chain(form)
    for entry in saved:
        if isinstance(entry, str):
            calls[entry] = []
        else:
            rest = entry[1:]
            calls[entry[0]] = [list(chain.get(rest[i], rest[i + 1])) for i in range(0, len(rest), 2)]
    return calls


# P: a sequence rule's partial matches


def _fits_partials(value: Any) -> bool:
    return _each(value, list, _is_partial)


def _is_partial(p: Any) -> bool:
    return (
        isinstance(p, dict)
        and list(p) == _PARTIAL_KEYS
        and isinstance(p["c"], dict)
        and isinstance(p["ids"], list)
        and all(isinstance(i, str) for i in p["ids"])
        and _is_time(p["t0"])
        and _is_time(p["t1"])
        and (p["dl"] is None or _is_time(p["dl"]))
    )


def _save_partials(partials: list[dict[str, Any]], form: Form) -> list[Any]:
    return [
        [
            p["s"],
            [form.event_id(i) for i in p["ids"]],
            {name: form.value(v) for name, v in p["c"].items()},
            form.time(p["t0"]),
            form.time(p["t1"]),
            None if p["dl"] is None else form.time(p["dl"]),
        ]
        for p in partials
    ]


def _load_partials(saved: list[Any], form: Form) -> list[dict[str, Any]]:
    return [
        {
            "s": s,
            "ids": [form.un_event_id(i) for i in ids],
            "c": {name: form.unvalue(v) for name, v in captures.items()},
            "t0": form.untime(t0),
            "t1": form.untime(t1),
            "dl": None if dl is None else form.untime(dl),
        }
        for s, ids, captures, t0, t1, dl in saved
    ]


# R: events remembered for ties, [time, {fields}] with the same field names in the same order


def _fits_remembered(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    if not (isinstance(first, list) and len(first) == 2 and isinstance(first[1], dict)):
        return False
    names = list(first[1])
    return all(
        isinstance(r, list)
        and len(r) == 2
        and _is_time(r[0])
        and isinstance(r[1], dict)
        and list(r[1]) == names
        for r in value
    ) and (names[:1] != ["event_id"] or all(isinstance(r[1]["event_id"], str) for r in value))


def _save_remembered(remembered: list[list[Any]], form: Form) -> list[Any]:
    names = list(remembered[0][1])
    ids = names[:1] == ["event_id"]  # the first field an event id: written as one
    rows = []
    for when, fields in remembered:
        values = [form.value(v) for v in fields.values()]
        if ids:
            values[0] = form.event_id(fields["event_id"])
        rows.append([form.time(when), *values])
    return [names, *rows]


def _load_remembered(saved: list[Any], form: Form) -> list[list[Any]]:
    names, rows = saved[0], saved[1:]
    ids = names[:1] == ["event_id"]
    remembered = []
    for row in rows:
        values = [form.unvalue(v) for v in row[1:]]
        if ids:
            values[0] = form.un_event_id(row[1])
        remembered.append([form.untime(row[0]), dict(zip(names, values, strict=True))])
    return remembered


# D: names -> event times


def _fits_timed_names(value: Any) -> bool:
    return _each(value, dict, _is_time)


def _save_timed_names(value: dict[str, float], form: Form) -> list[Any]:
    flat: list[Any] = []
    for name, when in zip(front_coded(list(value)), value.values(), strict=True):
        flat += (name, form.time(when))
    return flat


def _load_timed_names(flat: list[Any], form: Form) -> dict[str, float]:
    names = front_decoded(flat[0::2])
    return {n: form.untime(t) for n, t in zip(names, flat[1::2], strict=True)}


# H: names -> lists of names (what each agent held, what each refusal said)


def _fits_names_lists(value: Any) -> bool:
    return _each(value, dict, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))


def _save_names_lists(value: dict[str, list[str]], form: Form) -> list[Any]:
    flat: list[Any] = []
    for name, names in value.items():
        flat += (form.value(name), [form.value(x) for x in names])
    return flat


def _load_names_lists(flat: list[Any], form: Form) -> dict[str, list[str]]:
    return {form.unvalue(flat[i]): [form.unvalue(x) for x in flat[i + 1]] for i in range(0, len(flat), 2)}


_Shape = tuple[Callable[[Any], bool], Callable[[Any, Form], Any], Callable[[Any, Form], Any]]
_SHAPES: dict[str, _Shape] = {
    "T": (_fits_timed, _save_timed, _load_timed),
    "M": (_fits_calls, _save_calls, _load_calls),
    "P": (_fits_partials, _save_partials, _load_partials),
    "R": (_fits_remembered, _save_remembered, _load_remembered),
    "D": (_fits_timed_names, _save_timed_names, _load_timed_names),
    "H": (_fits_names_lists, _save_names_lists, _load_names_lists),
}


def _copy(value: Any) -> Any:
    """A value of the table given once per entry: entries share nothing, as they did before saving."""
    return orjson.loads(orjson.dumps(value)) if isinstance(value, list | dict) else value


# -- strings


def front_coded(strings: Sequence[str], reach: int = 8, start: int = 0) -> list[str]:
    """Each string from ``start`` on as ``"n|rest"``: its first ``n`` characters are the previous string's,
    or ``"j,n|rest"``: the string ``j`` places back's (the one of the last ``reach`` sharing the longest
    beginning; ``"|rest"``: none). Paths and names of one session share long beginnings, often with a string
    a few places back. A string's code depends on those before it only: a list that grows is coded anew from
    where it grew (``start``)."""
    out: list[str] = []
    for i in range(start, len(strings)):
        text = strings[i]
        shared, back = 0, 1
        for j in range(1, min(reach, i) + 1):
            if (n := _shared_length(strings[i - j], text)) > shared:
                shared, back = n, j
        if shared < 2:
            out.append(f"|{text}")
        else:
            out.append(f"{shared}|{text[shared:]}" if back == 1 else f"{back},{shared}|{text[shared:]}")
    return out


@functools.lru_cache(maxsize=1024)
def front_coded_tuple(strings: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`front_coded` of a tuple many keys share (a task scope), memoised."""
    return tuple(front_coded(strings))


def front_decoded(coded: Iterable[str]) -> list[str]:
    out: list[str] = []
    for entry in coded:
        head, _, rest = entry.partition("|")
        if not head:
            out.append(rest)
            continue
        back, _, shared = head.rpartition(",")
        out.append(out[-int(back or 1)][: int(shared)] + rest)
    return out


def _shared_length(a: str, b: str) -> int:
    """Length of the beginning two strings share: a binary search over slices (compared in C), not a walk."""
    if a[:1] != b[:1]:
        return 0
    low, high = 1, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
