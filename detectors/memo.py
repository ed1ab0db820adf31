"""Memoising work on a tool call's arguments: agents make the same calls again and again.

What a call can do (``detectors.capabilities``) and the values it carries (``detectors.provenance``) depend
only on the call's arguments and a few hashable facts (its tool, its target …), but an argument tree is a
dict, which ``functools.lru_cache`` cannot key on. :func:`by_arguments` keys on the tree's JSON text and
keeps the tree beside the result: two trees with the same text count as one only when they are also equal
(a tuple is not a list; ``NaN`` is not ``None``), so a memoised answer is always the one the function would
give. Large trees (a file's whole content) are not kept: they rarely recur and would hold memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

MAX_KEY = 4096  # bytes of an argument tree's JSON text beyond which a result is not kept
MAX_ENTRIES = 8192  # distinct argument trees kept per memoised function

R = TypeVar("R", covariant=True)

if TYPE_CHECKING:  # for the type checker only: the engine benchmark calls every ``cache_clear`` it finds

    class ArgumentsMemo(Protocol[R]):
        """A function memoised by :func:`by_arguments`; ``cache_clear`` empties its memo."""

        def __call__(self, arguments: dict[str, Any], *rest: Any) -> R: ...

        def cache_clear(self) -> None: ...


def by_arguments(function: Callable[..., R]) -> ArgumentsMemo[R]:
    """``function(arguments, *rest)`` computed once per distinct (arguments, *rest); ``rest`` must be
    hashable. Results are shared between callers: they must be treated as read-only."""

    @functools.lru_cache(maxsize=MAX_ENTRIES)
    def slot(key: bytes, *rest: Hashable) -> list[Any]:
        return []  # filled with [arguments, result] on the first call with this key

    @functools.wraps(function)
    def memoised(arguments: dict[str, Any], *rest: Any) -> Any:
        try:
            key = orjson.dumps(arguments)
        except TypeError:  # a value JSON cannot hold (events parsed from JSON never carry one)
            return function(arguments, *rest)
        if len(key) > MAX_KEY:
            return function(arguments, *rest)
        kept = slot(key, *rest)
        if kept and kept[0] == arguments:
            return kept[1]
        result = function(arguments, *rest)
        kept[:] = [arguments, result]
        return result

    memoised.cache_clear = slot.cache_clear  # type: ignore[attr-defined]
    return memoised  # type: ignore[return-value]
