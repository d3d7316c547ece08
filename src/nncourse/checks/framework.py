"""The machinery behind every exercise check: run the learner's code safely, compare, explain.

This module is the framework's public face; the work is done in small modules, one job each:
:mod:`.results` (what a check found), :mod:`.formatting` (numbers and arrays as text),
:mod:`.tracebacks` (the learner's line in a traceback), :mod:`.time_limit` (the alarm),
:mod:`.inputs` (copies, read-only arrays, in-place changes), :mod:`.answers` (placeholders, types
and shapes of what the learner returned), :mod:`.tester` (:class:`Tester`: running and comparing),
:mod:`.decorator` (:func:`check` and the registry) and :mod:`.recording` (results for the
command line).

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
  A bare ``except:`` in the learner's loop cannot swallow the limit: the alarm is re-armed (an
  interval) and, once it has rung, the learner's code is stopped at its next line. (The limit uses
  ``SIGALRM``, so it works in the main thread on Linux and macOS; elsewhere there is none.)
* **Exceptions are the learner's.** See above: reported with the line of their cell.

Types are checked where the text asks for them: :meth:`Tester.ndarray` accepts only a NumPy array
(not a list of lists, not a torch tensor) of floating-point numbers (not ``int`` or ``bool``), with
a message that names what came instead and how to fix it; :meth:`Tester.number` accepts only a plain
number (not a tensor, not a list); :meth:`Tester.expect_type` does the same for any other type.

Two rules help a learner read a failed comparison (:meth:`Tester.close`): a float32 answer that
agrees with the float64 reference to float32 precision is told that its dtype is the problem, and
when long arrays are abbreviated the message adds the first index where they differ and the largest
difference. A failure that matched none of the plausible wrong answers is marked ``generic`` in its
:class:`CheckResult` (``tests/count_check_hints.py`` counts how many wrong answers get a specific hint).

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

from .decorator import check, registry
from .formatting import fmt, is_placeholder
from .inputs import read_only
from .recording import RECORD_ENV
from .results import ERROR, FAILED, NOT_IMPLEMENTED, PASSED, CheckResult
from .tester import Mistake, Tester
from .time_limit import DEFAULT_TIME_LIMIT, TIME_LIMIT_ENV
from .tracebacks import cell_first_line, cell_label

__all__ = [
    "read_only",
    "PASSED",
    "FAILED",
    "ERROR",
    "NOT_IMPLEMENTED",
    "CheckResult",
    "Mistake",
    "Tester",
    "check",
    "registry",
    "is_placeholder",
    "fmt",
    "cell_first_line",
    "cell_label",
    "RECORD_ENV",
    "TIME_LIMIT_ENV",
    "DEFAULT_TIME_LIMIT",
]
