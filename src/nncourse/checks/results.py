"""What a check found (:class:`CheckResult`), and the signals that end a check body early.

A check body stops by raising one of the signals below (through the :class:`~.tester.Tester`'s
methods); the :func:`~.decorator.check` decorator turns each into a :class:`CheckResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASSED = "passed"
FAILED = "failed"
ERROR = "error"  # the learner's code raised an exception
NOT_IMPLEMENTED = "not implemented"

_SYMBOL = {PASSED: "✓", FAILED: "✗", ERROR: "✗", NOT_IMPLEMENTED: "…"}

@dataclass
class CheckResult:
    """What a check found. Truthy when the check passed.

    ``status`` is one of ``"passed"``, ``"failed"``, ``"error"`` (the learner's code raised an
    exception) and ``"not implemented"``; ``message`` is the first printed line without its symbol,
    ``hint`` the second (or ``None``); ``tests`` counts the comparisons that succeeded.
    """

    name: str
    status: str
    message: str
    hint: str | None = None
    tests: int = 0
    module: str = ""
    # Where the learner's code raised: the cell's text as the kernel knew it, and how the message
    # names that cell ('the cell starting "def relu(z):"'); the command line turns this into
    # 'code cell 5 ("def relu(z):")'. None when no cell of the learner's was involved.
    cell_source: str | None = None
    cell_label: str | None = None
    #: True when the failure names no mistake: a comparison matched none of the check's plausible
    #: wrong answers ("should be X, yours returns Y", at most with the check's general hint).
    generic: bool = False

    def __bool__(self) -> bool:
        return self.status == PASSED

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def lines(self) -> list[str]:
        """The lines the check prints."""
        lines = [f"{_SYMBOL[self.status]} {self.name}: {self.message}"]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        return f"CheckResult(name={self.name!r}, status={self.status!r}, tests={self.tests})"

    def _ipython_display_(self) -> None:
        # The check has already printed its lines; showing the object again in a notebook's
        # Out[...] would only repeat them.
        pass

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "hint": self.hint,
            "tests": self.tests,
            "lines": self.lines,
            "cell_source": self.cell_source,
            "cell_label": self.cell_label,
            "generic": self.generic,
        }


class Stop(Exception):
    """Base class of the signals that end a check early."""


class Failure(Stop):
    def __init__(self, message: str, hint: str | None = None, *, generic: bool = False):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.generic = generic


class NotImplementedYet(Stop):
    def __init__(self, detail: str = ""):
        super().__init__(detail)
        self.detail = detail


class LearnerRaised(Stop):
    def __init__(self, message: str, hint: str | None = None, cell_source: str | None = None,
                 cell_label: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cell_source = cell_source
        self.cell_label = cell_label

