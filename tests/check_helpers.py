"""Shared by the tests of the exercise checks: a stub, a quiet runner, and a hint assertion.

Every result handed to :func:`assert_hint` is a wrong answer; it is also kept in :data:`WRONG_ANSWERS`
(before the assertion, so that a wrong answer the check lets through is kept too), which
``tests/count_check_hints.py`` reads to count how many wrong answers get a hint that names the mistake.
"""

import functools
from pathlib import Path

import nbformat

from nncourse.checks.framework import CheckResult

ROOT = Path(__file__).resolve().parents[1]

#: Every (test id, result) given to assert_hint in this process, caught or not.
WRONG_ANSWERS: list[tuple[str, CheckResult]] = []


@functools.lru_cache(maxsize=None)
def solution_namespace(notebook: str) -> dict:
    """Run ``solutions/<notebook>.ipynb``'s code cells except the check cells and the Colab cell; return
    the namespace, where the learner's functions are."""
    nb = nbformat.read(ROOT / "solutions" / f"{notebook}.ipynb", as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith("check.") \
                or "google.colab" in cell.source:
            continue
        exec(compile(cell.source, "<solution>", "exec"), namespace)
    return namespace


def stub(*args, **kwargs):
    raise NotImplementedError("your code here")


def run(check_fn, *answers) -> CheckResult:
    return check_fn(*answers, quiet=True)


def _current_test() -> str:
    import os

    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" (")[0]


def assert_hint(result: CheckResult, *needles: str) -> None:
    """The check failed, and its message or hint contains every needle."""
    WRONG_ANSWERS.append((_current_test(), result))
    assert not result, f"expected a failure, got: {result}"
    text = f"{result.message}\n{result.hint or ''}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{result}"
