"""A thread read at once, split into its messages: each starts at a ``From:`` line (``[2] From:`` in a
numbered export) or after a separator line (``---``, ``===``). Read by the readers that ask which message
of a thread brought a value (``detectors/provenance/payees.py``, ``detectors/provenance/lookalikes.py``)."""

from __future__ import annotations

import re

# (``^[ \t]*``, not ``^\s*``: a run of blank lines is not rescanned from each of its lines)
_MESSAGE_START = re.compile(r"(?im)^[ \t]*(?:\[\d+\][ \t]*)?from:\s|^[ \t]*-{3,}|^[ \t]*={3,}")


def message_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each message of a thread, in order; the whole text when it holds one message."""
    starts = [m.start() for m in _MESSAGE_START.finditer(text)]
    return list(zip([0, *starts], [*starts, len(text)], strict=True))
