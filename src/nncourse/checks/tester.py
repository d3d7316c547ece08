"""The :class:`Tester` handed to every check body: it runs the learner's code and compares results.

See :mod:`nncourse.checks.framework` for the rules every call of learner code follows.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .answers import AnswerRules
from .formatting import difference, fmt, is_tensor, to_numpy, typed
from .inputs import changed_argument, function_name
from .results import Failure, LearnerRaised, NotImplementedYet, Stop
from .time_limit import TimeUp, alarm, limit_seconds
from .tracebacks import cell_source_of, frame_cell_label, learner_frame, where

# A plausible wrong answer: (what it would return, the hint to give when the learner's result
# matches it). The value may be a zero-argument callable, evaluated only when needed; a mistake whose
# value cannot be computed (the callable raises) is skipped.
Mistake = tuple[Any, str]


@dataclass
class Tester(AnswerRules):
    """Runs the learner's code and compares results for one check; see the module docstring."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    tests: int = 0
    #: Seconds each call of learner code may take (None: the default, see DEFAULT_TIME_LIMIT).
    time_limit: float | None = None

    # -- running learner code ---------------------------------------------------------------------

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        errors: Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...], str,
                               str | Callable[[BaseException], str | None]]] = (),
        copy_args: bool = True,
        allow_mutation: bool = False,
        mutation_hint: str | None = None,
        time_limit: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``fn(*args, **kwargs)`` on copies of the arguments and return what it returns.

        NumPy's floating-point warnings are silenced (a check looks at the values instead).
        ``errors`` lists ``(exception type, text in its message, hint)`` for exceptions that point
        to a typical mistake; the first match adds its hint to the report. The hint may also be a
        function of the exception that returns the hint, or None when it does not apply (to read
        the shapes in NumPy's message, say).

        The rules of the module docstring apply: if ``fn`` changes an array it was given (in place),
        the check fails (``mutation_hint`` replaces the standard hint; ``allow_mutation=True``
        permits it), and a call that takes longer than ``time_limit`` seconds (default: the
        check's limit, else :data:`DEFAULT_TIME_LIMIT`) is stopped. With ``copy_args=False`` the
        learner's function gets the very objects passed in, so a check can look at them itself.
        """
        if copy_args:
            pristine = (copy.deepcopy(args), copy.deepcopy(kwargs))
            args = copy.deepcopy(args)
            kwargs = copy.deepcopy(kwargs)
        seconds = limit_seconds(time_limit if time_limit is not None else self.time_limit)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings(), alarm(seconds):
                warnings.simplefilter("ignore")
                result = fn(*args, **kwargs)
        except TimeUp:
            raise Failure(f"{function_name(fn)} took longer than {seconds:g} s, so the check stopped it: "
                           "look for an endless loop (a while loop whose condition never becomes False?)") from None
        except NotImplementedError as exc:
            frame = learner_frame(exc)
            own_name = getattr(fn, "__name__", None)
            detail = ""
            if frame is not None and own_name and frame.name not in (own_name, "<module>"):
                detail = f"it calls {frame.name}, which is not implemented yet"
            raise NotImplementedYet(detail) from None
        except Stop:
            raise
        except Exception as exc:  # the learner's code raised: report it, never a traceback
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if len(text) > 160:
                text = text[:157] + "..."
            message = f"your function raised {type(exc).__name__}"
            message += f": {text}" if text else ""
            frame = learner_frame(exc)
            message += where(frame)
            hint = None
            for types, needle, candidate in errors:
                if isinstance(exc, types) and needle.lower() in str(exc).lower():
                    hint = candidate(exc) if callable(candidate) else candidate
                    if hint is not None:
                        break
            source = cell_source_of(frame)
            raise LearnerRaised(message, hint, source, frame_cell_label(frame) if source else None) from None
        if copy_args and not allow_mutation:
            changed = changed_argument(fn, pristine[0], args, pristine[1], kwargs)
            if changed is not None:
                self.fail(f"{function_name(fn)} changed its input {changed} in place",
                          mutation_hint or f"the exercise asks for new arrays: leave {changed} as it was and "
                          f"return a new array ({changed} + ..., np.where(...)) instead of changing it with "
                          f"+=, -=, *= or {changed}[...] = ... (the caller may still need the old values).")
        return result

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
        (with ``hint``, if given). That last failure is marked *generic*: it names no mistake.

        Two rules help every check read the numbers: an answer in float32 (or float16) that agrees
        with the float64 reference to that precision, but not to the check's tolerance, is told that
        its dtype is the problem; and when long arrays are abbreviated (their first and last values),
        the message adds where they first differ and the largest difference.
        """
        want_arr = np.asarray(want, dtype=np.float64)
        low_precision = _low_precision(got)
        got_arr = self.array(got, what) if want_arr.ndim else np.asarray(self.scalar(got, what))
        if got_arr.shape == want_arr.shape and np.allclose(got_arr, want_arr, rtol=rtol, atol=atol,
                                                           equal_nan=True):
            self.tests += 1
            return
        if low_precision and got_arr.shape == want_arr.shape and _agree_to(low_precision, got_arr, want_arr):
            self.fail(f"{what} is {low_precision}: it agrees with the answer to {low_precision} precision only, "
                      f"and this check compares in float64",
                      "the dtype is the problem, not the maths: compute in float64, NumPy's default (no "
                      ".astype(np.float32), no np.float32(...); a torch tensor is float32 unless you ask for "
                      "dtype=torch.float64).")
        for wrong, mistake_hint in mistakes:
            try:
                with np.errstate(all="ignore"):   # a wrong answer may well divide by zero
                    wrong_value = wrong() if callable(wrong) else wrong
                    wrong_arr = np.asarray(to_numpy(wrong_value), dtype=np.float64)
            except Exception:
                continue
            if wrong_arr.shape == got_arr.shape and np.allclose(got_arr, wrong_arr, rtol=rtol,
                                                                atol=atol, equal_nan=True):
                self.fail(f"{what} should be {fmt(want_arr)}, yours returns {fmt(got_arr)}"
                          f"{difference(got_arr, want_arr)}", mistake_hint)
        if got_arr.shape != want_arr.shape:
            if shape_hint:
                self.fail(f"{what} should have shape {want_arr.shape}, yours has shape {got_arr.shape}", shape_hint)
            raise Failure(f"{what} should have shape {want_arr.shape}, yours has shape {got_arr.shape}", hint,
                          generic=True)
        if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(want_arr)):
            bad = "NaN" if np.any(np.isnan(got_arr)) else "infinity"
            message = f"{what} contains {bad}: it should be {fmt(want_arr)}, yours returns {fmt(got_arr)}"
            if nonfinite_hint:
                self.fail(message, nonfinite_hint)
            raise Failure(message, hint, generic=True)
        raise Failure(f"{what} should be {fmt(want_arr)}, yours returns {fmt(got_arr)}"
                      f"{difference(got_arr, want_arr)}", hint, generic=True)

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
        # the right value in another type (a 0-d tensor or a one-element array for an int), or another value
        # that prints alike: show the types, since "should be 3, yours returns 3" explains nothing
        if _same_value(got, want):
            self.fail(f"{what} should be {typed(want)}, yours returns {typed(got)}",
                      f"the value is right, its type is not: return a plain {type(want).__name__}"
                      + (", e.g. int(x) or x.item() for a one-element tensor or array."
                         if is_tensor(got) or isinstance(got, np.ndarray) else "."))
        if fmt(got) == fmt(want):
            raise Failure(f"{what} should be {typed(want)}, yours returns {typed(got)}", hint, generic=True)
        raise Failure(f"{what} should be {fmt(want)}, yours returns {fmt(got)}", hint, generic=True)

    def in_order(self, gots: Sequence[Any], wants: Sequence[Any], what: str, names: str, *,
                 rtol: float = 1e-5, atol: float = 1e-7) -> None:
        """Fail when the learner's results are the right values in another order (``return b, a`` for
        ``return a, b``): "``what`` returns new_var, new_mean: the right values in the wrong order"."""
        got_arrs, want_arrs = [], []
        for value in (*gots, *wants):
            try:
                (got_arrs if len(got_arrs) < len(gots) else want_arrs).append(
                    np.asarray(to_numpy(value), dtype=np.float64))
            except Exception:
                return
        labels = [name.strip() for name in names.split(",")]

        def same(a: np.ndarray, b: np.ndarray) -> bool:
            return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))

        if all(same(g, w) for g, w in zip(got_arrs, want_arrs)):
            return
        for perm in itertools.permutations(range(len(want_arrs))):
            if list(perm) != sorted(perm) and all(same(g, want_arrs[k]) for g, k in zip(got_arrs, perm)):
                self.fail(f"{what} returns {', '.join(labels[k] for k in perm)}: the right values in the wrong "
                          f"order", f"return them in the order the exercise asks for: return {names}")


# The precision of float16 and float32 (machine epsilon): an answer in one of them that is this close to the
# float64 reference, relative to the reference's size, is right but for its dtype.
_EPSILON = {"float16": float(np.finfo(np.float16).eps), "float32": float(np.finfo(np.float32).eps)}


def _same_value(got: Any, want: Any) -> bool:
    """Whether ``got``, of another type than ``want``, holds its value: ``tensor(3)`` or ``[3]`` for ``3``."""
    if type(got) is type(want) or not isinstance(want, (int, float)) or isinstance(want, bool):
        return False
    try:
        arr = to_numpy(got)
        return arr.size == 1 and bool(arr.reshape(()).item() == want)
    except Exception:
        return False


def _low_precision(value: Any) -> str | None:
    """``"float32"`` or ``"float16"`` when the learner's answer is an array, number or tensor of that dtype."""
    try:
        name = str(to_numpy(value).dtype) if (isinstance(value, (np.ndarray, np.generic)) or is_tensor(value)) else ""
    except Exception:  # a tensor NumPy cannot take (bfloat16, say)
        name = str(getattr(value, "dtype", "")).replace("torch.", "")
    return name if name in _EPSILON else None


def _agree_to(dtype: str, got: np.ndarray, want: np.ndarray) -> bool:
    """Whether ``got`` is ``want`` rounded (and computed) in ``dtype``: within a few hundred of its epsilons."""
    eps = _EPSILON[dtype]
    scale = max(float(np.max(np.abs(want))), 1e-30) if want.size and np.all(np.isfinite(want)) else 1.0
    return bool(np.allclose(got, want, rtol=200 * eps, atol=200 * eps * scale, equal_nan=True))
