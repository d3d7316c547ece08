"""The time limit: an alarm that interrupts the learner's code after a number of seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import threading

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


def _on_alarm(signum, frame):  # noqa: ARG001 - the signal module's signature
    raise TimeUp()


@contextlib.contextmanager
def alarm(seconds: float | None):
    """Raise :class:`TimeUp` in the code run inside after ``seconds`` seconds.

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

