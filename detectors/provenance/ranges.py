"""Numbered ranges a task names ("delete /volume1/raw/season01 through season03", "lots L07 thru L12"): the
items between the ends, spelled out, so that the task names each one and not only the two ends."""

from __future__ import annotations

import functools
import re

MAX_SPELLED = 31  # a month of days; a longer range is left as the user wrote it
# the first end: a name or path ending in a number; the second: the number, with the name again or a part
# of it ("season01 through season03", "room 101 thru 112" needs a name: bare numbers are counts, not items)
# (from a word's start only: tried at each letter of a long word, the head would be read again and again)
_RANGE = re.compile(
    r"(?<![\w./~-])"
    # (the word between the ends in the languages tasks most often come in besides: "2023-01 a 2023-10")
    r"(?P<head>[\w./~-]*?[A-Za-z_/-])(?P<low>\d+)\s*"
    r"(?:\s(?:through|thru|until|till|to|a|à|al|bis|tot|hasta|até)\s|[\u2013\u2014])\s*"
    r"(?P<tail>[\w./~-]*?[A-Za-z_/-])?(?P<high>\d+)\b"
)


@functools.lru_cache(maxsize=1024)  # asked on every call of a session with the same task
def spelled_ranges(text: str) -> str:
    """``text`` with the items after the first end of each numbered range written out, in brackets in the
    same sentence ("season01 through season03 (/volume1/raw/season02 /volume1/raw/season03)"); the numbers
    keep the first end's width.
    The text itself when it names no range."""
    pieces: list[str] = []
    done = 0
    for match in _RANGE.finditer(text):
        head, tail, low, high = match["head"], match["tail"] or "", match["low"], match["high"]
        if tail and not head.endswith(tail):
            continue  # "job7 through step9": two different things
        first, last = int(low), int(high)
        if not 1 < last - first <= MAX_SPELLED:
            continue
        width = len(low) if low.startswith("0") else 0
        # (the last end too, in full: "season03" stands for /volume1/raw/season03)
        inside = " ".join(f"{head}{str(n).zfill(width)}" for n in range(first + 1, last + 1))
        pieces += [text[done : match.end()], f" ({inside})"]
        done = match.end()
    return "".join(pieces) + text[done:] if pieces else text
