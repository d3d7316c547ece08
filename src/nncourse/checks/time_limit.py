"""The time limit: an alarm that interrupts the learner's code after a number of seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from .tracebacks import is_learner_file

#: Seconds one call of the learner's code may take (a correct answer takes milliseconds); the
#: environment variable named by TIME_LIMIT_ENV overrides it, ``@check(time_limit=...)`` and
#: ``t.call(..., time_limit=...)`` set it for one check or one call.
DEFAULT_TIME_LIMIT = 10.0
TIME_LIMIT_ENV = "NNCOURSE_CHECKS_TIME_LIMIT"


class TimeUp(BaseException):
    """Raised by the alarm inside the learner's code. A BaseException, so that an ``except Exception``
    in the learner's loop cannot swallow it."""



def limit_seconds(value: float | None) -> float | None:
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


#: Once the limit is reached, the alarm rings again every REPEAT seconds until the call has ended.
REPEAT = 0.05

_CHECKS_DIR = str(Path(__file__).resolve().parent)


def _stop_everywhere(frame, event, arg):
    """A trace function, active once the time is up: stop at the next line of the learner's code.

    The learner's own frames only (notebook cells, their files): the checker's code, the standard
    library and NumPy go on, so that they can tidy up. A bare ``except:`` around the learner's loop
    catches the first :class:`TimeUp`, but not this one, raised at the next line the loop runs.
    """
    if event == "line" and _may_stop(frame.f_code.co_filename):
        raise TimeUp()
    return _stop_everywhere


def _may_stop(filename: str) -> bool:
    """Code of the learner's: a notebook cell, a file of theirs, or code compiled from a string."""
    return is_learner_file(filename) or (filename.startswith("<") and not filename.startswith("<frozen"))


def _on_alarm(signum, frame):
    # Trace the learner's frames from here up to the checker's own call, and any frame they start.
    while frame is not None and not frame.f_code.co_filename.startswith(_CHECKS_DIR):
        if _may_stop(frame.f_code.co_filename):
            frame.f_trace = _stop_everywhere
        frame = frame.f_back
    sys.settrace(_stop_everywhere)
    raise TimeUp()


def _disarm() -> None:
    """Stop the alarm, even if it rings once more while we do it."""
    while True:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except TimeUp:
            continue


@contextlib.contextmanager
def alarm(seconds: float | None):
    """Raise :class:`TimeUp` in the code run inside after ``seconds`` seconds, and keep raising it.

    The timer is re-armed (an interval of :data:`REPEAT` seconds) and, from the first ring on, the
    learner's code is stopped at its next line, so a loop whose ``except:`` (or ``except
    BaseException:``) swallows the first :class:`TimeUp` still ends.

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
    previous_trace = sys.gettrace()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        _disarm()
        signal.signal(signal.SIGALRM, previous)
        sys.settrace(previous_trace)
