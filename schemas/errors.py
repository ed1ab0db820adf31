"""Errors that say what to do: the input, the record, the field and the fix."""

from __future__ import annotations


class ChainwatchError(Exception):
    """Base of every error chainwatch raises on purpose."""

    terminal: bool = True  # True: retrying will not help (dead-letter it); False: transient, retry.


class InvalidRecord(ChainwatchError):
    """A source record that cannot become an event. Terminal: it goes to the dead letters."""

    def __init__(
        self,
        reason: str,
        *,
        origin: str = "",
        record_no: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.reason = reason
        self.origin = origin
        self.record_no = record_no
        self.field = field
        self.fix = fix
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.origin or "input"
        if self.record_no is not None:
            where += f" record {self.record_no}"
        text = f"{where}: {self.reason}"
        if self.field:
            text += f" (field '{self.field}')"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


class UnknownFormat(ChainwatchError):
    """The input's format was not given and could not be recognised."""


class UnreadableInput(ChainwatchError):
    """An input path that is not a readable file: missing, or a folder."""
