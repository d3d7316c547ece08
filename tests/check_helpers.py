"""Shared by the tests of the exercise checks: a stub, a quiet runner, and a hint assertion."""

from nncourse.checks.framework import CheckResult


def stub(*args, **kwargs):
    raise NotImplementedError("your code here")


def run(check_fn, *answers) -> CheckResult:
    return check_fn(*answers, quiet=True)


def assert_hint(result: CheckResult, *needles: str) -> None:
    """The check failed, and its message or hint contains every needle."""
    assert not result, f"expected a failure, got: {result}"
    text = f"{result.message}\n{result.hint or ''}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{result}"
