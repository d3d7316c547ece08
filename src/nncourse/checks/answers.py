"""What the learner returned: the rules for placeholders, types and shapes, and ending a check.

:class:`AnswerRules` is the part of the :class:`~.tester.Tester` that looks at a returned value
(a placeholder is "not implemented yet", a list is not an array, a tensor is not a number, ...) and
stops the check with a message that names what came instead.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .formatting import fmt, is_placeholder, is_tensor, to_numpy, type_name
from .results import Failure, NotImplementedYet

_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


class AnswerRules:
    """The checks on what the learner returned, shared by every check (see :class:`~.tester.Tester`)."""

    tests: int

    # -- ending the check -------------------------------------------------------------------------

    def fail(self, message: str, hint: str | None = None) -> None:
        """Stop the check: the learner's answer is wrong (``message``), with an optional hint."""
        raise Failure(message, hint)

    def not_implemented(self, detail: str = "") -> None:
        """Stop the check: the learner has not written this part yet."""
        raise NotImplementedYet(detail)

    def ok(self, count: int = 1) -> None:
        """Count ``count`` successful tests (comparisons count themselves)."""
        self.tests += count

    # -- looking at what the learner returned -----------------------------------------------------

    def require(self, value: Any, what: str) -> Any:
        """Treat a placeholder (``...`` or ``None``) as "not implemented yet"; return ``value``."""
        if is_placeholder(value):
            raise NotImplementedYet(f"{what} is still {fmt(value)}" if what else "")
        return value

    def callable(self, fn: Any, what: str) -> Callable[..., Any]:
        """Make sure the learner passed a function (a placeholder means "not implemented yet")."""
        self.require(fn, what)
        if not callable(fn):
            self.fail(
                f"expected a function for {what}, got {type_name(fn)} {fmt(fn)}",
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
            arr = to_numpy(value)
            if arr.dtype == object:
                raise TypeError
            arr = arr.astype(np.float64)
        except Exception:
            self.fail(f"{what} returned {type_name(value)} {fmt(value)}, expected a NumPy array")
        if shape is not None and arr.shape != tuple(shape):
            self.fail(f"{what} should have shape {tuple(shape)}, yours has shape {arr.shape}", shape_hint)
        return arr

    def ndarray(self, value: Any, what: str, *, kind: str | None = "float", shape: tuple[int, ...] | None = None,
                shape_hint: str | None = None) -> np.ndarray:
        """Like :meth:`array`, but insist on what the text asks for: a NumPy array, of floats.

        A list (of lists), a tuple, a torch tensor or a NumPy scalar fails with a message naming
        what came instead and how to convert it; so does an array of the wrong kind of number.
        ``kind`` is ``"float"`` (floating point: not ``int``, not ``bool``), ``"int"``, ``"bool"``,
        or None (any numbers). Returns the array itself when it holds floats (so that :meth:`close`
        can still tell a float32 answer by its dtype), else converted to float64 like :meth:`array`.
        """
        if value is None:
            self.fail(f"{what} returned None", "did you forget the return statement?")
        if not isinstance(value, np.ndarray):
            if is_tensor(value):
                self.fail(f"{what} is a torch.Tensor, expected a NumPy array",
                          "return a NumPy array, not a tensor: compute with NumPy, or convert the result at the "
                          "end with .numpy() (after .detach(), or compute it inside with torch.no_grad():).")
            if isinstance(value, (list, tuple)):
                self.fail(f"{what} is a {type(value).__name__}, expected a NumPy array",
                          f"return the array itself, not a {type(value).__name__}: compute with NumPy on whole "
                          "arrays (np.exp(z), z.sum(axis=1, keepdims=True), @, np.zeros(...) filled in place); "
                          "they return arrays, while loops that append to a list give a list.")
            self.fail(f"{what} is {type_name(value)} {fmt(value)}, expected a NumPy array",
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
                hint = ("write the constants as floats (1.0 and 0.0, not 1 and 0), create arrays with a float "
                        "dtype (np.zeros(shape), not np.zeros(shape, dtype=int)), or convert with .astype(float).")
            elif kind == "bool":
                hint = ("make it boolean: a comparison (i >= j) gives booleans, or create it with dtype=bool "
                        "(np.ones((n, n), dtype=bool)), or convert with .astype(bool).")
            self.fail(f"{what} holds {got} ({value.dtype}), expected {want}", hint)
        converted = self.array(value, what, shape=shape, shape_hint=shape_hint)
        return value if value.dtype.kind == "f" else converted

    def expect_type(self, value: Any, what: str, types: type | tuple[type, ...], hint: str | None = None) -> Any:
        """Fail unless ``isinstance(value, types)``: "``what`` is list [...], expected dict"; return ``value``."""
        if not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            if value is None:
                self.fail(f"{what} returned None, expected {expected}", hint or "did you forget the return statement?")
            self.fail(f"{what} is {type_name(value)} {fmt(value)}, expected {expected}", hint)
        return value

    def values(self, result: Any, what: str, names: str, kind: str = "arrays") -> tuple:
        """Insist that the learner's function returned ``len(names)`` values, as a tuple (or list):
        "``what`` should return three arrays (grad_x, grad_W, grad_b), yours returns ndarray [...]",
        with the hint "end with: return grad_x, grad_W, grad_b". Returns them as a tuple."""
        n = len([name for name in names.split(",") if name.strip()])
        if not isinstance(result, (tuple, list)) or len(result) != n:
            count = _NUMBER_WORDS.get(n, str(n))
            got = f"{type_name(result)} {fmt(result)}" if not isinstance(result, (tuple, list)) else \
                f"{type(result).__name__} of {len(result)} values"
            self.fail(f"{what} should return {count} {kind} ({names}), yours returns {got}", f"end with: return {names}")
        return tuple(result)

    def number(self, value: Any, what: str) -> float:
        """Like :meth:`scalar`, but insist on a plain number: a Python or NumPy number (or a NumPy array
        of one element), not a torch tensor and not a list. Returns it as a float."""
        if is_tensor(value):
            self.fail(f"{what} returned a torch.Tensor, expected a number",
                      "compute with NumPy on the arrays you receive (or end with .item() to get a Python float).")
        if isinstance(value, (list, tuple)):
            self.fail(f"{what} returned a {type(value).__name__}, expected a number",
                      "reduce the values to one number (np.mean or np.sum) instead of collecting them in a list.")
        return self.scalar(value, what)

    def scalar(self, value: Any, what: str) -> float:
        """Convert what the learner returned into a float; arrays of one element are accepted."""
        if value is None:
            self.fail(f"{what} returned None", "did you forget the return statement?")
        try:
            arr = to_numpy(value).astype(np.float64)
        except Exception:
            self.fail(f"{what} returned {type_name(value)} {fmt(value)}, expected a number")
        if arr.size != 1:
            self.fail(
                f"{what} should be a single number, yours returns an array of shape {arr.shape}",
                "reduce it to one number (np.mean or np.sum over all elements).",
            )
        return float(arr.reshape(()))
