"""The machinery behind every exercise check: run the learner's code safely, compare, explain.

A check is an ordinary function decorated with :func:`check`. It receives a :class:`Tester` (called
``t`` by convention) followed by whatever the learner passed in, and uses the tester to

* call the learner's code (:meth:`Tester.call`): inputs are copied, NumPy warnings are silenced, a
  ``NotImplementedError`` means "not implemented yet" and any other exception is reported as an
  error *in the learner's code*, with the line of their cell that raised it;
* compare a result with the right one (:meth:`Tester.close`, :meth:`Tester.equal`), where a list of
  *plausible wrong answers* (``mistakes``) turns "your numbers are wrong" into a specific hint;
* stop with a message of its own (:meth:`Tester.fail`) when something else is wrong.

Three rules hold for every call of learner code through :meth:`Tester.call`, so that every check
(also a new chapter's) gets them without writing anything:

* **No in-place changes.** The learner's function receives copies of the arguments, and afterwards the
  copies are compared with the originals: a function that changed an input array (``w += ...``,
  ``v *= mu``, ``m[:] = ...``) fails with "``name`` changed its input ``w`` in place", because the
  exercises ask for new arrays. ``allow_mutation=True`` lifts the rule for one call (a function meant
  to work in place); ``copy_args=False`` hands over the very objects (and checks nothing).
* **A time limit.** Each call may take at most ``time_limit`` seconds (:data:`DEFAULT_TIME_LIMIT`;
  per check ``@check(name, time_limit=...)``, per call ``t.call(..., time_limit=...)``; the environment
  variable ``NNCOURSE_CHECKS_TIME_LIMIT`` overrides the default on a slow machine). An endless loop
  then ends with one line, "``name`` took longer than 10 s ...: look for an endless loop", and
  interrupting the kernel during a check prints one line too; neither shows the checker's traceback.
  (The limit uses ``SIGALRM``, so it works in the main thread on Linux and macOS; elsewhere there is
  none.)
* **Exceptions are the learner's.** See above: reported with the line of their cell.

Types are checked where the text asks for them: :meth:`Tester.ndarray` accepts only a NumPy array
(not a list of lists, not a torch tensor) of floating-point numbers (not ``int`` or ``bool``), with
a message that names what came instead and how to fix it; :meth:`Tester.expect_type` does the same
for any other type.

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

import contextlib
import copy
import functools
import json
import inspect
import linecache
import math
import os
import re
import signal
import sysconfig
import threading
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "read_only",
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
    "TIME_LIMIT_ENV",
    "DEFAULT_TIME_LIMIT",
]

PASSED = "passed"
FAILED = "failed"
ERROR = "error"  # the learner's code raised an exception
NOT_IMPLEMENTED = "not implemented"

RECORD_ENV = "NNCOURSE_CHECKS_RECORD"

#: Seconds one call of the learner's code may take (a correct answer takes milliseconds); the
#: environment variable named by TIME_LIMIT_ENV overrides it, ``@check(time_limit=...)`` and
#: ``t.call(..., time_limit=...)`` set it for one check or one call.
DEFAULT_TIME_LIMIT = 10.0
TIME_LIMIT_ENV = "NNCOURSE_CHECKS_TIME_LIMIT"

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
    # Where the learner's code raised: the cell's text as the kernel knew it, and how the message
    # names that cell ('the cell starting "def relu(z):"'); the command line turns this into
    # 'code cell 5 ("def relu(z):")'. None when no cell of the learner's was involved.
    cell_source: str | None = None
    cell_label: str | None = None

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
    def __init__(self, message: str, hint: str | None = None, cell_source: str | None = None,
                 cell_label: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cell_source = cell_source
        self.cell_label = cell_label


class _TimeUp(BaseException):
    """Raised by the alarm inside the learner's code. A BaseException, so that an ``except Exception``
    in the learner's loop cannot swallow it."""


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


def read_only(*arrays: Any, dtype: Any = None) -> list[np.ndarray]:
    """Read-only copies of ``arrays`` to hand to a learner's function.

    Writing into one raises ``ValueError: assignment destination is read-only``, which a check reports
    as an in-place change (the text asks for new arrays). With ``dtype`` the numbers are converted
    (boolean masks stay boolean).
    """
    copies = []
    for array in arrays:
        array = np.array(array, copy=True)
        if dtype is not None and array.dtype != bool:
            array = array.astype(dtype)
        array.setflags(write=False)
        copies.append(array)
    return copies


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


def _cell_source(frame: traceback.FrameSummary | None) -> str | None:
    """The whole text of the notebook cell the frame belongs to (IPython keeps it in linecache)."""
    if frame is None or not _CELL_FILE.search(frame.filename):
        return None
    lines = linecache.getlines(frame.filename)
    return "".join(lines) if lines else None


def _execution_count(filename: str) -> int | None:
    """The ``In [n]`` of the cell IPython compiled under ``filename`` (as its own tracebacks say), if known."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        number = shell.compile._filename_map.get(filename) if shell is not None else None
    except Exception:  # not in IPython, or an IPython without this map
        return None
    return number if isinstance(number, int) else None


def cell_label(source: str | None, execution_count: int | None = None) -> str:
    """How a message names a notebook cell: by the prompt Jupyter shows next to it, if known, and its
    first line of code, ``cell In[12] ("def relu(z):")``, else ``the cell starting "def relu(z):"``.
    The command line, which knows the cells' order, rewrites it as ``code cell 5 ("def relu(z):")``."""
    first = cell_first_line(source)
    if execution_count is not None:
        return f'cell In[{execution_count}] ("{first}")' if first else f"cell In[{execution_count}]"
    return f'the cell starting "{first}"' if first else "your cell"


def _frame_cell_label(frame: traceback.FrameSummary | None) -> str:
    return cell_label(_cell_source(frame), _execution_count(frame.filename) if frame is not None else None)


def cell_first_line(source: str | None) -> str:
    """The first line of a cell that is not blank, a comment or a magic, shortened to 40 characters."""
    for line in (source or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "%", "!")):
            return line if len(line) <= 40 else line[:37] + "..."
    return ""


def _where(frame: traceback.FrameSummary | None) -> str:
    if frame is None:
        return ""
    if _CELL_FILE.search(frame.filename):
        place = f"line {frame.lineno} of {_frame_cell_label(frame)}"
    else:
        place = f"line {frame.lineno} of {Path(frame.filename).name}"
    code = (frame.line or "").strip()
    if code:
        if len(code) > 60:
            code = code[:57] + "..."
        place += f": {code}"
    return f" ({place})"


# --------------------------------------------------------------------------------------------------
# The time limit (an alarm that interrupts the learner's code) and in-place changes
# --------------------------------------------------------------------------------------------------


def _time_limit_seconds(value: float | None) -> float | None:
    """The limit to use: ``value``, or the environment's override of the default."""
    if value is not None:
        return value if value > 0 else None
    override = os.environ.get(TIME_LIMIT_ENV, "").strip()
    if override:
        try:
            seconds = float(override)
        except ValueError:
            return DEFAULT_TIME_LIMIT
        return seconds if seconds > 0 else None  # 0 switches the limit off
    return DEFAULT_TIME_LIMIT


def _on_alarm(signum, frame):
    raise _TimeUp()


@contextlib.contextmanager
def _alarm(seconds: float | None):
    """Raise :class:`_TimeUp` in the code run inside after ``seconds`` seconds.

    Only where it can be done safely: a platform with ``SIGALRM``, the main thread (where the kernel
    runs a notebook's cells), and no other timer already running (a test runner's, say), which we
    must not disturb. Elsewhere the code runs without a limit.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """The arrays and tensors inside an argument (itself, or inside lists, tuples and dicts)."""
    if isinstance(value, np.ndarray) or _is_tensor(value):
        return [(path, value)]
    if isinstance(value, (list, tuple)):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{path}[{key!r}]")]
    return []


def _same(a: Any, b: Any) -> bool:
    a, b = _to_numpy(a), _to_numpy(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _changed_argument(fn: Callable[..., Any], before: tuple, after: tuple, before_kw: dict,
                      after_kw: dict) -> str | None:
    """The name of the first argument whose arrays ``fn`` changed (``"w"``, ``"weights[1]"``), or None."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    pairs = [(names[i] if i < len(names) and not names[i].startswith("*") else f"number {i + 1}", b, a)
             for i, (b, a) in enumerate(zip(before, after))]
    pairs += [(key, before_kw[key], after_kw[key]) for key in before_kw]
    for name, old, new in pairs:
        old_leaves, new_leaves = _leaves(old, name), _leaves(new, name)
        if len(old_leaves) != len(new_leaves):  # a list the function appended to or emptied
            return name
        for (path, a), (_, b) in zip(old_leaves, new_leaves):
            if not _same(a, b):
                return path
    return None


def _function_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", "")
    return name if name and name.isidentifier() else "your function"


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
        seconds = _time_limit_seconds(time_limit if time_limit is not None else self.time_limit)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings(), _alarm(seconds):
                warnings.simplefilter("ignore")
                result = fn(*args, **kwargs)
        except _TimeUp:
            raise _Failure(f"{_function_name(fn)} took longer than {seconds:g} s, so the check stopped it: "
                           "look for an endless loop (a while loop whose condition never becomes False?)") from None
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
            frame = _learner_frame(exc)
            message += _where(frame)
            hint = None
            for types, needle, candidate in errors:
                if isinstance(exc, types) and needle.lower() in str(exc).lower():
                    hint = candidate(exc) if callable(candidate) else candidate
                    if hint is not None:
                        break
            source = _cell_source(frame)
            raise _LearnerRaised(message, hint, source, _frame_cell_label(frame) if source else None) from None
        if copy_args and not allow_mutation:
            changed = _changed_argument(fn, pristine[0], args, pristine[1], kwargs)
            if changed is not None:
                self.fail(f"{_function_name(fn)} changed its input {changed} in place",
                          mutation_hint or f"the exercise asks for new arrays: leave {changed} as it was and "
                          f"return a new array ({changed} + ..., np.where(...)) instead of changing it with "
                          f"+=, -=, *= or {changed}[...] = ... (the caller may still need the old values).")
        return result

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

    def ndarray(self, value: Any, what: str, *, kind: str | None = "float", shape: tuple[int, ...] | None = None,
                shape_hint: str | None = None) -> np.ndarray:
        """Like :meth:`array`, but insist on what the text asks for: a NumPy array, of floats.

        A list (of lists), a tuple, a torch tensor or a NumPy scalar fails with a message naming
        what came instead and how to convert it; so does an array of the wrong kind of number.
        ``kind`` is ``"float"`` (floating point: not ``int``, not ``bool``), ``"int"``, ``"bool"``,
        or None (any numbers). Returns the array converted to float64, like :meth:`array`.
        """
        if value is None:
            self.fail(f"{what} returned None", "did you forget the return statement?")
        if not isinstance(value, np.ndarray):
            if _is_tensor(value):
                self.fail(f"{what} is a torch.Tensor, expected a NumPy array",
                          "convert the result at the end: .numpy() (after .detach(), or compute it inside "
                          "with torch.no_grad():).")
            if isinstance(value, (list, tuple)):
                self.fail(f"{what} is a {type(value).__name__}, expected a NumPy array",
                          "compute with NumPy on whole arrays (np.exp(z), z.sum(axis=1, keepdims=True), @): "
                          "they return arrays; loops that append to a list give a list.")
            self.fail(f"{what} is {_type_name(value)} {fmt(value)}, expected a NumPy array",
                      "return the array itself (np.ndarray), not a single number or another object.")
        kinds = {"float": "fc", "int": "iu", "bool": "b"}
        if kind is not None and value.dtype.kind not in kinds[kind]:
            names = {"f": "floats", "c": "complex numbers", "i": "integers", "u": "integers", "b": "booleans (True/False)"}
            got = names.get(value.dtype.kind, f"{value.dtype} values")
            want = {"float": "floating-point numbers", "int": "integers", "bool": "booleans"}[kind]
            hint = None
            if kind == "float" and value.dtype.kind == "b":
                hint = "turn the comparison into numbers: (z >= 0).astype(float), or np.where(condition, 1.0, 0.0)."
            elif kind == "float" and value.dtype.kind in "iu":
                hint = "write the constants as floats (1.0 and 0.0, not 1 and 0), or convert with .astype(float)."
            self.fail(f"{what} holds {got} ({value.dtype}), expected {want}", hint)
        return self.array(value, what, shape=shape, shape_hint=shape_hint)

    def expect_type(self, value: Any, what: str, types: type | tuple[type, ...], hint: str | None = None) -> Any:
        """Fail unless ``isinstance(value, types)``: "``what`` is list [...], expected dict"; return ``value``."""
        if not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            if value is None:
                self.fail(f"{what} returned None, expected {expected}", hint or "did you forget the return statement?")
            self.fail(f"{what} is {_type_name(value)} {fmt(value)}, expected {expected}", hint)
        return value

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
                _record(result)
                return result
            try:
                body(t, *answers, **options)
            except _NotImplemented as stop:
                message = "not implemented yet"
                if stop.detail:
                    message += f" ({stop.detail})"
                result = CheckResult(check_name, NOT_IMPLEMENTED, message, None, t.tests, module)
            except _Failure as stop:
                result = CheckResult(check_name, FAILED, stop.message, stop.hint, t.tests, module)
            except _LearnerRaised as stop:
                result = CheckResult(check_name, ERROR, stop.message, stop.hint, t.tests, module,
                                     stop.cell_source, stop.cell_label)
            except (KeyboardInterrupt, _TimeUp):  # the learner interrupted the kernel: one line, no traceback
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
            _record(result)
            return result

        run_check.check_name = check_name  # type: ignore[attr-defined]
        _REGISTRY.setdefault(module, {})[check_name] = run_check
        return run_check

    return decorate
