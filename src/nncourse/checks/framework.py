"""The machinery behind every exercise check: run the learner's code safely, compare, explain.

A check is an ordinary function decorated with :func:`check`. It receives a :class:`Tester` (called
``t`` by convention) followed by whatever the learner passed in, and uses the tester to

* call the learner's code (:meth:`Tester.call`): inputs are copied, NumPy warnings are silenced, a
  ``NotImplementedError`` means "not implemented yet" and any other exception is reported as an
  error *in the learner's code*, with the line of their cell that raised it;
* compare a result with the right one (:meth:`Tester.close`, :meth:`Tester.equal`), where a list of
  *plausible wrong answers* (``mistakes``) turns "your numbers are wrong" into a specific hint;
* stop with a message of its own (:meth:`Tester.fail`) when something else is wrong.

Every comparison that succeeds counts as one test. The decorated function prints one or two lines
and returns a :class:`CheckResult`, which is truthy when the check passed::

    ✓ sigmoid: passed (6 tests)
    ✗ sigmoid_derivative: sigmoid_derivative(0) should be 0.25, yours returns 0.5
      Hint: that is σ(0) itself: the derivative is σ(z)·(1 − σ(z)).

Whatever goes wrong, the learner never sees a traceback from inside the checker.

When the environment variable ``NNCOURSE_CHECKS_RECORD`` names a file, every check also appends
one JSON line describing its result to that file; the command line (``python -m nncourse.checks``)
uses this to summarise a notebook it has executed.
"""

from __future__ import annotations

import copy
import functools
import json
import inspect
import math
import os
import re
import sysconfig
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "PASSED",
    "FAILED",
    "ERROR",
    "NOT_IMPLEMENTED",
    "CheckResult",
    "Tester",
    "check",
    "registry",
    "is_placeholder",
    "fmt",
    "RECORD_ENV",
]

PASSED = "passed"
FAILED = "failed"
ERROR = "error"  # the learner's code raised an exception
NOT_IMPLEMENTED = "not implemented"

RECORD_ENV = "NNCOURSE_CHECKS_RECORD"

_SYMBOL = {PASSED: "✓", FAILED: "✗", ERROR: "✗", NOT_IMPLEMENTED: "…"}

# module name ("nncourse.checks.ch02") -> {check name -> check function}, filled by @check.
_REGISTRY: dict[str, dict[str, Callable[..., "CheckResult"]]] = {}


def registry() -> dict[str, dict[str, Callable[..., "CheckResult"]]]:
    """Every registered check, as ``{module name: {check name: check function}}``."""
    return {module: dict(checks) for module, checks in _REGISTRY.items()}


# --------------------------------------------------------------------------------------------------
# The result object
# --------------------------------------------------------------------------------------------------


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
        }


# --------------------------------------------------------------------------------------------------
# Internal signals: raised inside a check body, turned into a CheckResult by @check
# --------------------------------------------------------------------------------------------------


class _Stop(Exception):
    """Base class of the signals that end a check early."""


class _Failure(_Stop):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class _NotImplemented(_Stop):
    def __init__(self, detail: str = ""):
        super().__init__(detail)
        self.detail = detail


class _LearnerRaised(_Stop):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


# --------------------------------------------------------------------------------------------------
# Formatting numbers the same way everywhere (stored notebook outputs must be reproducible)
# --------------------------------------------------------------------------------------------------


def _scalar(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x)}.0" if abs(x) < 1e6 else f"{x:.6g}"
        return f"{x:.4g}"
    return repr(x)


def _element(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"  # also for -0.0
    return f"{x:.4g}"


def _array_text(arr: np.ndarray) -> str:
    """Nested brackets on one line, 4 significant digits; long arrays are abbreviated."""
    if arr.dtype == bool:
        arr = arr.astype(int)
    if arr.size > 12:
        flat = arr.astype(np.float64).ravel()
        head = ", ".join(_element(float(v)) for v in flat[:3])
        tail = ", ".join(_element(float(v)) for v in flat[-3:])
        return f"an array of shape {arr.shape}: [{head}, ..., {tail}]"

    def nested(a: np.ndarray) -> str:
        if a.ndim == 0:
            return _element(float(a))
        return "[" + ", ".join(nested(sub) for sub in a) + "]"

    return nested(arr.astype(np.float64))


def fmt(value: Any) -> str:
    """A short, deterministic one-line text for a number, an array, or anything a learner returns."""
    if isinstance(value, np.ndarray) or _is_tensor(value):
        arr = _to_numpy(value)
        if arr.ndim == 0:
            return _scalar(arr.item())
        try:
            return _array_text(arr)
        except (TypeError, ValueError):
            return repr(value)[:80]
    if isinstance(value, (bool, int, float, np.generic)):
        return _scalar(value)
    if value is None:
        return "None"
    if value is Ellipsis:
        return "..."
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _to_numpy(x: Any) -> np.ndarray:
    if _is_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _type_name(x: Any) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def is_placeholder(value: Any) -> bool:
    """True for the placeholders an exercise notebook starts with (``...`` or ``None``)."""
    return value is Ellipsis or value is None


# --------------------------------------------------------------------------------------------------
# Finding the learner's line in a traceback
# --------------------------------------------------------------------------------------------------

_LIBRARY_DIRS = tuple(
    {str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib")
     if (p := sysconfig.get_paths().get(key))}
    | {str(Path(__file__).resolve().parents[1])}  # the nncourse package itself
)
_CELL_FILE = re.compile(r"(ipykernel_\d+|<ipython-input-|<cell)")


def _is_learner_file(filename: str) -> bool:
    if _CELL_FILE.search(filename):
        return True
    if filename.startswith("<"):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return True
    return not resolved.startswith(_LIBRARY_DIRS)


def _learner_frame(exc: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that belongs to the learner's own code."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if _is_learner_file(frame.filename):
            return frame
    return None


def _where(frame: traceback.FrameSummary | None) -> str:
    if frame is None:
        return ""
    if _CELL_FILE.search(frame.filename):
        place = f"line {frame.lineno} of your cell"
    else:
        place = f"line {frame.lineno} of {Path(frame.filename).name}"
    code = (frame.line or "").strip()
    if code:
        if len(code) > 60:
            code = code[:57] + "..."
        place += f": {code}"
    return f" ({place})"


# --------------------------------------------------------------------------------------------------
# The tester handed to every check body
# --------------------------------------------------------------------------------------------------

# A plausible wrong answer: (what it would return, the hint to give when the learner's result
# matches it). The value may be a zero-argument callable, evaluated only when needed; a mistake whose
# value cannot be computed (the callable raises) is skipped.
Mistake = tuple[Any, str]


@dataclass
class Tester:
    """Runs the learner's code and compares results for one check; see the module docstring."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    tests: int = 0

    # -- running learner code ---------------------------------------------------------------------

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        errors: Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...], str, str]] = (),
        copy_args: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Call ``fn(*args, **kwargs)`` on copies of the arguments and return what it returns.

        NumPy's floating-point warnings are silenced (a check looks at the values instead).
        ``errors`` lists ``(exception type, text in its message, hint)`` for exceptions that point
        to a typical mistake; the first match adds its hint to the report. With
        ``copy_args=False`` the learner's function gets the very objects passed in, so a check can
        find out whether it changed its inputs in place.
        """
        if copy_args:
            args = copy.deepcopy(args)
            kwargs = copy.deepcopy(kwargs)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn(*args, **kwargs)
        except NotImplementedError as exc:
            frame = _learner_frame(exc)
            own_name = getattr(fn, "__name__", None)
            detail = ""
            if frame is not None and own_name and frame.name not in (own_name, "<module>"):
                detail = f"it calls {frame.name}, which is not implemented yet"
            raise _NotImplemented(detail) from None
        except _Stop:
            raise
        except Exception as exc:  # the learner's code raised: report it, never a traceback
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if len(text) > 160:
                text = text[:157] + "..."
            message = f"your function raised {type(exc).__name__}"
            message += f": {text}" if text else ""
            message += _where(_learner_frame(exc))
            hint = None
            for types, needle, candidate in errors:
                if isinstance(exc, types) and needle.lower() in str(exc).lower():
                    hint = candidate
                    break
            raise _LearnerRaised(message, hint) from None

    # -- ending the check -------------------------------------------------------------------------

    def fail(self, message: str, hint: str | None = None) -> None:
        """Stop the check: the learner's answer is wrong (``message``), with an optional hint."""
        raise _Failure(message, hint)

    def not_implemented(self, detail: str = "") -> None:
        """Stop the check: the learner has not written this part yet."""
        raise _NotImplemented(detail)

    def ok(self, count: int = 1) -> None:
        """Count ``count`` successful tests (comparisons count themselves)."""
        self.tests += count

    # -- looking at what the learner returned -----------------------------------------------------

    def require(self, value: Any, what: str) -> Any:
        """Treat a placeholder (``...`` or ``None``) as "not implemented yet"; return ``value``."""
        if is_placeholder(value):
            raise _NotImplemented(f"{what} is still {fmt(value)}" if what else "")
        return value

    def callable(self, fn: Any, what: str) -> Callable[..., Any]:
        """Make sure the learner passed a function (a placeholder means "not implemented yet")."""
        self.require(fn, what)
        if not callable(fn):
            self.fail(
                f"expected a function for {what}, got {_type_name(fn)} {fmt(fn)}",
                f"pass the function itself, without calling it: {what}, not {what}(...).",
            )
        return fn

    def array(self, value: Any, what: str, *, shape: tuple[int, ...] | None = None,
              shape_hint: str | None = None) -> np.ndarray:
        """Convert what the learner returned into a float array (failing helpfully if it can't be)."""
        if value is None:
            self.fail(f"{what} returned None", "did you forget the return statement?")
        if isinstance(value, tuple) and len(value) > 1 and shape != ():
            self.fail(f"{what} returned a tuple of {len(value)} values, expected one array",
                      "return a single array.")
        try:
            arr = _to_numpy(value)
            if arr.dtype == object:
                raise TypeError
            arr = arr.astype(np.float64)
        except Exception:
            self.fail(f"{what} returned {_type_name(value)} {fmt(value)}, expected a NumPy array")
        if shape is not None and arr.shape != tuple(shape):
            self.fail(f"{what} should have shape {tuple(shape)}, yours has shape {arr.shape}", shape_hint)
        return arr

    def scalar(self, value: Any, what: str) -> float:
        """Convert what the learner returned into a float; arrays of one element are accepted."""
        if value is None:
            self.fail(f"{what} returned None", "did you forget the return statement?")
        try:
            arr = _to_numpy(value).astype(np.float64)
        except Exception:
            self.fail(f"{what} returned {_type_name(value)} {fmt(value)}, expected a number")
        if arr.size != 1:
            self.fail(
                f"{what} should be a single number, yours returns an array of shape {arr.shape}",
                "reduce it to one number (np.mean or np.sum over all elements).",
            )
        return float(arr.reshape(()))

    # -- comparing --------------------------------------------------------------------------------

    def close(
        self,
        got: Any,
        want: Any,
        what: str,
        *,
        mistakes: Iterable[Mistake] = (),
        rtol: float = 1e-5,
        atol: float = 1e-7,
        shape_hint: str | None = None,
        nonfinite_hint: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Pass if ``got`` is numerically close to ``want`` (same shape); otherwise explain.

        The order of the explanations: a plausible wrong answer from ``mistakes`` that ``got``
        matches (its hint), a wrong shape (``shape_hint``), NaN or infinity where ``want`` is finite
        (``nonfinite_hint``), and otherwise "``what`` should be ``want``, yours returns ``got``"
        (with ``hint``, if given).
        """
        want_arr = np.asarray(want, dtype=np.float64)
        got_arr = self.array(got, what) if want_arr.ndim else np.asarray(self.scalar(got, what))
        if got_arr.shape == want_arr.shape and np.allclose(got_arr, want_arr, rtol=rtol, atol=atol,
                                                           equal_nan=True):
            self.tests += 1
            return
        for wrong, mistake_hint in mistakes:
            try:
                with np.errstate(all="ignore"):   # a wrong answer may well divide by zero
                    wrong_value = wrong() if callable(wrong) else wrong
                    wrong_arr = np.asarray(_to_numpy(wrong_value), dtype=np.float64)
            except Exception:
                continue
            if wrong_arr.shape == got_arr.shape and np.allclose(got_arr, wrong_arr, rtol=rtol,
                                                                atol=atol, equal_nan=True):
                self.fail(f"{what} should be {fmt(want_arr)}, yours returns {fmt(got_arr)}", mistake_hint)
        if got_arr.shape != want_arr.shape:
            self.fail(f"{what} should have shape {want_arr.shape}, yours has shape {got_arr.shape}",
                      shape_hint or hint)
        if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(want_arr)):
            bad = "NaN" if np.any(np.isnan(got_arr)) else "infinity"
            self.fail(f"{what} contains {bad}: it should be {fmt(want_arr)}, yours returns {fmt(got_arr)}",
                      nonfinite_hint or hint)
        self.fail(f"{what} should be {fmt(want_arr)}, yours returns {fmt(got_arr)}", hint)

    def equal(self, got: Any, want: Any, what: str, *, mistakes: Iterable[Mistake] = (),
              hint: str | None = None) -> None:
        """Pass if ``got == want`` (for plain values: booleans, integers, strings)."""
        if isinstance(got, np.generic):
            got = got.item()
        if type(got) is type(want) or (isinstance(got, (int, float)) and isinstance(want, (int, float))
                                       and not isinstance(got, bool) and not isinstance(want, bool)):
            if got == want:
                self.tests += 1
                return
        for wrong, mistake_hint in mistakes:
            try:
                wrong_value = wrong() if callable(wrong) else wrong
            except Exception:
                continue
            if type(got) is type(wrong_value) and got == wrong_value:
                self.fail(f"{what} should be {fmt(want)}, yours returns {fmt(got)}", mistake_hint)
        self.fail(f"{what} should be {fmt(want)}, yours returns {fmt(got)}", hint)


# --------------------------------------------------------------------------------------------------
# The decorator
# --------------------------------------------------------------------------------------------------


def _record(result: CheckResult) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    except OSError:  # recording is a convenience for the command line; never break a check for it
        pass


def check(name: str | None = None) -> Callable[[Callable[..., None]], Callable[..., CheckResult]]:
    """Turn ``body(t, *answers)`` into the check ``name(*answers, quiet=False) -> CheckResult``.

    The body uses the :class:`Tester` ``t`` and returns nothing; it passes when it gets to its end.
    The check prints its result (unless ``quiet=True``), records it for the command line, and
    returns it. The check is registered under the module it is defined in.
    """

    def decorate(body: Callable[..., None]) -> Callable[..., CheckResult]:
        check_name = name or body.__name__
        module = body.__module__
        signature = inspect.signature(body)
        usage = "(" + ", ".join(list(signature.parameters)[1:]) + ")"

        @functools.wraps(body)
        def run_check(*answers: Any, quiet: bool = False, **options: Any) -> CheckResult:
            t = Tester(check_name)
            try:
                signature.bind(t, *answers, **options)
            except TypeError as exc:
                result = CheckResult(
                    check_name, FAILED, f"this check was called the wrong way ({exc})",
                    f"call it exactly as the exercise shows: {check_name}{usage}.", 0, module,
                )
                if not quiet:
                    print(result, flush=True)
                _record(result)
                return result
            try:
                body(t, *answers, **options)
            except _NotImplemented as signal:
                message = "not implemented yet"
                if signal.detail:
                    message += f" ({signal.detail})"
                result = CheckResult(check_name, NOT_IMPLEMENTED, message, None, t.tests, module)
            except _Failure as signal:
                result = CheckResult(check_name, FAILED, signal.message, signal.hint, t.tests, module)
            except _LearnerRaised as signal:
                result = CheckResult(check_name, ERROR, signal.message, signal.hint, t.tests, module)
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
            _record(result)
            return result

        run_check.check_name = check_name  # type: ignore[attr-defined]
        _REGISTRY.setdefault(module, {})[check_name] = run_check
        return run_check

    return decorate
