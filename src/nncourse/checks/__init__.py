"""Feedback for the exercises: one module of checks per chapter.

In an exercise notebook
-----------------------
Each coding exercise ends with a check cell::

    from nncourse.checks import ch02 as check   # once, near the top
    ...
    check.sigmoid(sigmoid)

A check runs hidden test cases on what you pass it (values, shapes, edge cases such as huge inputs,
gradients compared with PyTorch) and prints one line, plus a hint when something is wrong::

    ✓ sigmoid: passed (3 tests)
    … softmax: not implemented yet
    ✗ sigmoid_derivative: sigmoid_derivative([-3, ...]) should be [...], yours returns [...]
      Hint: that is σ(z) itself: the derivative is σ(z)·(1 − σ(z)).
    ✗ relu: your function raised NameError: name 'nq' is not defined (line 3 of cell In[7] ("def relu(z):"): return nq.maximum(z, 0))

It recognises typical mistakes (a transposed weight matrix, a forgotten bias, a sum instead of a
mean, an unstable softmax, a missing learning rate, ...) and names them. It never shows a traceback
from inside the checker, and a stub that still raises ``NotImplementedError`` is reported as "not
implemented yet", so a half-finished notebook still runs from top to bottom. Every check also returns
a :class:`CheckResult` that is truthy when the check passed.

From the command line
---------------------
``python -m nncourse.checks exercises/02_forward_pass.ipynb`` runs the whole notebook in a fresh
kernel and prints a summary per check; the exit status is 0 when every check passed.

Writing the checks of a new chapter (e.g. ``ch04.py``)
------------------------------------------------------
1. Create ``src/nncourse/checks/chNN.py`` and decorate one function per check with
   :func:`~nncourse.checks.framework.check`. The body receives a :class:`~.framework.Tester` ``t``
   first, then exactly what the learner passes to the check::

       from .framework import Tester, check

       @check("tanh")
       def tanh(t: Tester, tanh) -> None:
           t.callable(tanh, "tanh")                    # "not implemented yet" for ... / None
           z = np.array([-1.0, 0.0, 2.0])
           got = t.call(tanh, z)                       # learner code: copies, errors reported
           t.close(got, np.tanh(z), "tanh([-1, 0, 2])", mistakes=[
               (np.tanh(-z), "wrong sign ..."),          # plausible wrong answers with their hint
           ])

   The check passes when the body returns; each successful comparison (``t.close``, ``t.equal``)
   or ``t.ok()`` counts one test. ``t.fail(message, hint)`` stops with a message of your own,
   ``t.require(value, name)`` turns the placeholder ``...`` of an exercise notebook into "not
   implemented yet", ``t.array`` / ``t.scalar`` convert what the learner returned (failing helpfully
   on ``None``, tuples, wrong shapes). Keep references in plain NumPy (or PyTorch, imported inside
   the check) so the checks never depend on code the learner writes.
2. Nothing needs registering: ``from nncourse.checks import ch04 as check`` imports the module
   (chapter modules are also loaded on first attribute access, ``nncourse.checks.ch04``), and the
   command line finds the checks a notebook uses by reading its
   ``from nncourse.checks import chNN as check`` import and its ``check.name(...)`` calls.
3. In ``tests/test_checks.py`` show that each check accepts the reference solution, reports the
   untouched stub as "not implemented yet", and recognises at least two plausible wrong answers
   (assert the hint text).

Rules every check gets from the framework
-----------------------------------------
* **New arrays, not in-place changes.** ``t.call`` hands the learner's function copies and compares
  them with the originals afterwards: ``w += ...``, ``v *= mu`` or ``m[:] = ...`` on an input fails
  with "perceptron_update changed its input w in place" (``mutation_hint=`` gives a check's own hint;
  ``allow_mutation=True`` permits it for a function meant to work in place; ``copy_args=False``
  passes the objects themselves and checks nothing).
* **A time limit.** Each call of learner code may take :data:`~.framework.DEFAULT_TIME_LIMIT` seconds
  (10; ``@check("name", time_limit=...)``, ``t.call(..., time_limit=...)``, or the environment
  variable ``NNCOURSE_CHECKS_TIME_LIMIT``). An endless loop ends with one line, "relu took longer
  than 10 s, so the check stopped it: look for an endless loop", and Kernel → Interrupt during a check
  prints one line too; the hidden tests never appear in a traceback.
* **The types the text asks for.** ``t.ndarray(value, what, kind="float", shape=None)`` accepts only a
  NumPy array of floats: a list of lists, a torch tensor, integers or booleans fail with a message
  saying what came and how to convert it. ``t.number(value, what)`` accepts only a plain number (no
  tensor, no list), ``t.expect_type(value, what, types, hint)`` checks any other type. (``t.array``
  and ``t.scalar`` still accept anything array-like, for checks where the type is free.) A check
  does not write these rules again: no read-only copies, no ``copy_args=False`` probes, no own
  ``isinstance`` tests of results.
* **Readable failures.** A float32 answer right to float32 precision is told its dtype is the
  problem; long arrays that print alike get the first index where they differ.
* A hint in ``errors=[(ExceptionType, "text in the message", hint)]`` may be a function of the
  exception returning the hint or None (to read, say, the shapes in NumPy's broadcast message).

The framework lives in small modules, each with one job, behind :mod:`~nncourse.checks.framework`
(which re-exports their public names): ``results`` (``CheckResult``), ``formatting`` (``fmt``),
``tracebacks``, ``time_limit``, ``inputs`` (copies, ``read_only``, in-place changes), ``answers``
(types and shapes of what came back), ``tester`` (``Tester``), ``decorator`` (``check``, ``registry``) and ``recording``.

The command line numbers code cells as the learner sees them, leaving out the hidden Colab cell, and
quotes their first line: ``code cell 5 ("def relu(z):")``; in the notebook a learner's error names
its cell by the prompt Jupyter shows beside it and that first line, ``cell In[7] ("def relu(z):")``.

Printed numbers go through :func:`~nncourse.checks.framework.fmt`, which rounds, so the stored
outputs of the notebooks stay reproducible.
"""

import importlib
import re
from types import ModuleType

from .framework import DEFAULT_TIME_LIMIT, CheckResult, Tester, check, fmt, registry

__all__ = ["CheckResult", "Tester", "check", "fmt", "registry", "DEFAULT_TIME_LIMIT"]


def __getattr__(name: str) -> ModuleType:
    """Load a chapter module (``ch01``, ``ch02``, ...) the first time it is used."""
    if re.fullmatch(r"ch\d\d", name):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                raise AttributeError(f"there are no checks for chapter {name[2:]} (yet)") from None
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
