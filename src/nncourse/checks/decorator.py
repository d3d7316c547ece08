"""The :func:`check` decorator, which turns a check body into a check, and the registry of checks."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from .recording import record
from .results import ERROR, FAILED, NOT_IMPLEMENTED, PASSED, CheckResult, Failure, LearnerRaised, NotImplementedYet
from .tester import Tester
from .time_limit import TimeUp

# module name ("nncourse.checks.ch02") -> {check name -> check function}, filled by @check.
_REGISTRY: dict[str, dict[str, Callable[..., "CheckResult"]]] = {}


def registry() -> dict[str, dict[str, Callable[..., "CheckResult"]]]:
    """Every registered check, as ``{module name: {check name: check function}}``."""
    return {module: dict(checks) for module, checks in _REGISTRY.items()}



def check(name: str | None = None, *, time_limit: float | None = None
          ) -> Callable[[Callable[..., None]], Callable[..., CheckResult]]:
    """Turn ``body(t, *answers)`` into the check ``name(*answers, quiet=False) -> CheckResult``.

    The body uses the :class:`Tester` ``t`` and returns nothing; it passes when it gets to its end.
    The check prints its result (unless ``quiet=True``), records it for the command line, and
    returns it. The check is registered under the module it is defined in. ``time_limit`` is the
    number of seconds each call of the learner's code may take in this check (default
    :data:`DEFAULT_TIME_LIMIT`); an interrupted kernel (Kernel → Interrupt) also ends the check with
    one line instead of a traceback.
    """

    def decorate(body: Callable[..., None]) -> Callable[..., CheckResult]:
        check_name = name or body.__name__
        module = body.__module__
        signature = inspect.signature(body)
        usage = "(" + ", ".join(list(signature.parameters)[1:]) + ")"

        @functools.wraps(body)
        def run_check(*answers: Any, quiet: bool = False, **options: Any) -> CheckResult:
            t = Tester(check_name, time_limit=time_limit)
            try:
                signature.bind(t, *answers, **options)
            except TypeError as exc:
                result = CheckResult(
                    check_name, FAILED, f"this check was called the wrong way ({exc})",
                    f"call it exactly as the exercise shows: {check_name}{usage}.", 0, module,
                )
                if not quiet:
                    print(result, flush=True)
                record(result)
                return result
            try:
                body(t, *answers, **options)
            except NotImplementedYet as stop:
                message = "not implemented yet"
                if stop.detail:
                    message += f" ({stop.detail})"
                result = CheckResult(check_name, NOT_IMPLEMENTED, message, None, t.tests, module)
            except Failure as stop:
                result = CheckResult(check_name, FAILED, stop.message, stop.hint, t.tests, module,
                                     generic=stop.generic)
            except LearnerRaised as stop:
                result = CheckResult(check_name, ERROR, stop.message, stop.hint, t.tests, module,
                                     stop.cell_source, stop.cell_label)
            except (KeyboardInterrupt, TimeUp):  # the learner interrupted the kernel: one line, no traceback
                result = CheckResult(check_name, FAILED, "interrupted before the check finished: if your code "
                                     "never finishes, look for an endless loop", None, t.tests, module)
            except Exception as exc:  # a weakness of the checker: say so, but do not dump a traceback
                result = CheckResult(
                    check_name, FAILED,
                    f"could not check your answer ({type(exc).__name__}: {exc})",
                    "look at what your code returns (type and shape) and compare with the exercise.",
                    t.tests, module,
                )
            else:
                tests = "1 test" if t.tests == 1 else f"{t.tests} tests"
                result = CheckResult(check_name, PASSED, f"passed ({tests})", None, t.tests, module)
            if not quiet:
                print(result, flush=True)
            record(result)
            return result

        run_check.check_name = check_name  # type: ignore[attr-defined]
        _REGISTRY.setdefault(module, {})[check_name] = run_check
        return run_check

    return decorate
