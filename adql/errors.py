"""The one exception the translator raises.

Every failure a user can cause (syntax, unknown names, bad geometry, limits)
surfaces as :class:`AdqlError` with a position, so the TAP layer can report
it verbatim and never has to guess what went wrong.
"""

from __future__ import annotations


class AdqlError(ValueError):
    """A query that is not valid ADQL 2.1 or cannot be run on this service.

    ``line`` and ``column`` are 1-based positions in the query text (None when
    the error concerns the query as a whole); ``suggestion`` is a known name
    close to an unknown one.
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.suggestion = suggestion
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        if self.line is not None:
            text += f" [line {self.line}, column {self.column}]"
        return text

    def __str__(self) -> str:
        return self._render()
