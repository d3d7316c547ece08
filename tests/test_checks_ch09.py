"""The exercise checks of chapter 9 (attention).

Each check accepts the solution notebook's own code, reports the stub (or ``...``) as "not implemented
yet", and recognises plausible wrong answers with the hint meant for each. Inputs are read-only, so a
function that changes them in place is told so; lists, tensors and wrong dtypes are rejected.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
from pathlib import Path

import numpy as np
import pytest
import torch

from nncourse.checks import ch09
from check_helpers import assert_hint, run, stub

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def solution() -> dict:
    """Run the solution notebook's code cells (not its check cells); return the namespace."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions" / "09_attention.ipynb"), as_version=4)
    namespace: dict = {"__name__": "solution_09_attention"}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            lines = [line for line in cell.source.splitlines() if line.strip()]
            if cell.cell_type != "code" or (lines and all(line.startswith("check.") for line in lines)):
                continue
            exec(compile(ast.parse(cell.source), f"<solutions/09 cell {index}>", "exec"), namespace)
    return namespace


FUNCTION_CHECKS = [(ch09.kernel_weights, ["kernel_weights"]), (ch09.attention, ["attention"]),
                   (ch09.causal_mask, ["causal_mask"]), (ch09.softmax_backward, ["softmax_backward"]),
                   (ch09.split_merge_heads, ["split_heads", "merge_heads"])]
ALL = FUNCTION_CHECKS + [(ch09.mha_parameters, ["n_params"])]


@pytest.mark.parametrize("case", ALL, ids=lambda c: c[0].check_name)
def test_check_accepts_the_solution(case):
    check_fn, names = case
    result = run(check_fn, *(solution()[n] for n in names))
    assert result and result.tests >= 1, str(result)


@pytest.mark.parametrize("case", FUNCTION_CHECKS, ids=lambda c: c[0].check_name)
def test_check_reports_the_stub(case):
    check_fn, names = case
    result = run(check_fn, *([stub] * len(names)))
    assert result.status == "not implemented", str(result)


def test_value_check_reports_the_placeholder():
    result = run(ch09.mha_parameters, ...)
    assert result.status == "not implemented" and "n_params is still ..." in result.message


def test_registry_lists_exactly_the_exported_checks():
    from nncourse.checks import framework

    assert set(framework.registry()[ch09.__name__]) == set(ch09.__all__)


# ------------------------------------------------------------------------------------ kernel weights
def _softmax(s, axis=1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _d(xq, xt):
    return xq[:, None] - xt[None, :]


@pytest.mark.parametrize("wrong,needle", [
    (lambda xq, xt, h: np.exp(-_d(xq, xt) ** 2 / (2 * h ** 2)), "normalise each row"),
    (lambda xq, xt, h: _softmax(-_d(xq, xt) ** 2 / (2 * h ** 2), axis=0), "not over the queries"),
    (lambda xq, xt, h: _softmax(-np.abs(_d(xq, xt)) / (2 * h ** 2)), "squared distance"),
    (lambda xq, xt, h: _softmax(-_d(xq, xt) ** 2 / (2 * h)), "bandwidth squared"),
    (lambda xq, xt, h: _softmax(-_d(xq, xt) ** 2 / h ** 2), "you lost the 2"),
    (lambda xq, xt, h: _softmax(_d(xq, xt) ** 2 / (2 * h ** 2)), "mind the sign"),
    (lambda xq, xt, h: _softmax(-_d(xt, xq) ** 2 / (2 * h ** 2), axis=0), "shape (Q, N)"),
])
def test_kernel_weights_mistakes(wrong, needle):
    assert_hint(run(ch09.kernel_weights, wrong), needle)


def test_kernel_weights_unstable_gives_nan_hint():
    def unstable(xq, xt, h):
        e = np.exp(-_d(xq, xt) ** 2 / (2 * h ** 2))
        return e / e.sum(axis=1, keepdims=True)
    assert_hint(run(ch09.kernel_weights, unstable), "NaN", "row's maximum")


def test_kernel_weights_rejects_lists_and_in_place_changes():
    sol = solution()["kernel_weights"]
    assert_hint(run(ch09.kernel_weights, lambda *a: sol(*a).tolist()), "expected a NumPy array")

    def in_place(xq, xt, h):
        xq -= 1.0                      # the caller's queries change ...
        return sol(xq + 1.0, xt, h)    # ... although the result is right
    assert_hint(run(ch09.kernel_weights, in_place), "changed its input")


# ------------------------------------------------------------------------------------------ attention
def _att(Q, K, V, mask=None, scale=None, axis=-1):
    s = Q @ K.T * (1 / np.sqrt(Q.shape[-1]) if scale is None else scale)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    return _softmax(s, axis=axis) @ V


@pytest.mark.parametrize("wrong,needle", [
    (lambda Q, K, V, mask=None: _att(Q, K, V, mask, scale=1.0), "divide the scores by √d"),
    (lambda Q, K, V, mask=None: _att(Q, K, V, mask, scale=1 / Q.shape[-1]), "np.sqrt(d)"),
    (lambda Q, K, V, mask=None: _att(Q, K, V, mask, axis=0), "softmax over the keys"),
    (lambda Q, K, V, mask=None: _softmax(Q @ K.T / np.sqrt(Q.shape[-1]), axis=-1), "weights @ V"),
    (lambda Q, K, V, mask=None: _att(Q, K, V), "apply the mask"),
    (lambda Q, K, V, mask=None: _att(Q, K, V, None if mask is None else ~mask), "you did the opposite"),
    (lambda Q, K, V, mask=None: _softmax(Q @ K.T / np.sqrt(Q.shape[-1]) if mask is None else
                                         np.where(mask, Q @ K.T / np.sqrt(Q.shape[-1]), 0.0), axis=-1) @ V,
     "not 0"),
    (lambda Q, K, V, mask=None: _att(Q, K, V, mask, scale=1 / np.sqrt(V.shape[-1])), "not by √d_v"),
    (lambda Q, K, V, mask=None: (_softmax(Q @ K.T / np.sqrt(Q.shape[-1]), axis=-1) if mask is None else
                                 np.where(mask, _softmax(Q @ K.T / np.sqrt(Q.shape[-1]), axis=-1), 0.0)) @ V,
     "mask the scores before the softmax"),
])
def test_attention_mistakes(wrong, needle):
    assert_hint(run(ch09.attention, wrong), needle)


def test_attention_type_errors_and_signature():
    sol = solution()["attention"]
    assert_hint(run(ch09.attention, lambda *a: torch.tensor(sol(*a))), "expected a NumPy array")
    assert_hint(run(ch09.attention, lambda *a: sol(*a).astype(np.int64)), "holds integers (int64)")
    assert_hint(run(ch09.attention, lambda Q, K, V: sol(Q, K, V)), "fourth argument")
    result = run(ch09.attention, lambda Q, K, V, mask: sol(Q, K, V, mask))
    assert_hint(result, "mask=None")

    def in_place(Q, K, V, mask=None):
        Q *= 2.0
        return sol(Q / 2.0, K, V, mask)
    assert_hint(run(ch09.attention, in_place), "changed its input")
    assert_hint(run(ch09.attention, lambda Q, K, V, mask=None: sol(Q, K.T, V, mask)), "Q @ K.T")


# ---------------------------------------------------------------------------------------- causal mask
@pytest.mark.parametrize("wrong,needle", [
    (lambda n: np.triu(np.ones((n, n), dtype=bool)), "lower triangle"),
    (lambda n: np.tril(np.ones((n, n), dtype=bool), k=-1), "attend to itself"),
    (lambda n: ~np.tril(np.ones((n, n), dtype=bool)), "marked the blocked ones"),
    (lambda n: np.ones((n, n), dtype=bool), "block the future"),
    (lambda n: np.tril(np.ones((n, n), dtype=bool), k=1), "Use k=0"),
    (lambda n: np.tril(np.ones((n, n), dtype=int)), "dtype=bool"),
    (lambda n: np.tril(np.ones((n, n))), "dtype=bool"),
    (lambda n: np.tril(np.ones((n, n), dtype=bool)).tolist(), "expected a NumPy array"),
])
def test_causal_mask_mistakes(wrong, needle):
    assert_hint(run(ch09.causal_mask, wrong), needle)


# ----------------------------------------------------------------------------------- softmax backward
@pytest.mark.parametrize("wrong,needle", [
    (lambda y, g: g * y * (1 - y), "only the diagonal"),
    (lambda y, g: y * (g - (g * y).sum(axis=0, keepdims=True)), "sum over each row"),
    (lambda y, g: g - (g * y).sum(axis=-1, keepdims=True), "multiply by y at the end"),
    (lambda y, g: y * (g - g.sum(axis=-1, keepdims=True)), "weighted by the probabilities"),
    (lambda y, g: -y * (g - (g * y).sum(axis=-1, keepdims=True)), "mind the sign"),
    (lambda y, g: g * y, "diag(y) - y yᵀ"),
    (lambda y, g: y * (g - (g * y).sum(axis=-1)), "keepdims"),
])
def test_softmax_backward_mistakes(wrong, needle):
    assert_hint(run(ch09.softmax_backward, wrong), needle)


def test_softmax_backward_in_place_is_reported():
    def in_place(y, g):
        g -= (g * y).sum(axis=-1, keepdims=True)
        return y * g
    assert_hint(run(ch09.softmax_backward, in_place), "changed its input")


# ------------------------------------------------------------------------------------ heads
def _merge(x):
    N, H, L, D = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, L, H * D)


@pytest.mark.parametrize("split,merge,needle", [
    (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), _merge, "a reshape alone"),
    (lambda x, h: x.reshape(*x.shape[:2], -1, h).transpose(0, 3, 1, 2), _merge, "not (N, L, D, H)"),
    (lambda x, h: x.reshape(*x.shape[:2], h, -1).transpose(0, 2, 3, 1), _merge, "transpose(0, 2, 1, 3)"),
    (lambda x, h: x.reshape(*x.shape[:2], h, -1), _merge, "in front of the positions"),
    (lambda x, h: x.reshape(*x.shape[:2], h, -1).transpose(0, 2, 1, 3),
     lambda x: x.reshape(x.shape[0], x.shape[2], -1), "undo the transpose first"),
    (lambda x, h: x.reshape(*x.shape[:2], h, -1).transpose(0, 2, 1, 3),
     lambda x: x.transpose(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1), "inverse of split_heads"),
])
def test_split_merge_mistakes(split, merge, needle):
    assert_hint(run(ch09.split_merge_heads, split, merge), needle)


# ---------------------------------------------------------------------------------- parameter count
@pytest.mark.parametrize("wrong,needle", [
    (4 * 64 * 64, "count the biases"),
    (3 * 64 * 64 + 3 * 64, "output projection"),
    (4 * 64 * 64 // 8 + 4 * 64, "does not depend on num_heads"),
    (8 * (4 * 64 * 64 + 4 * 64), "does not grow with num_heads"),
    (4 * 64 * 64 + 64, "4E biases"),
    (12345, "in_proj_weight (3E, E)"),
])
def test_mha_parameters_mistakes(wrong, needle):
    assert_hint(run(ch09.mha_parameters, wrong), needle)


def test_mha_parameters_matches_the_layer():
    import nncourse.numpy_nn as nn
    layer = nn.MultiheadAttention(64, 8)
    assert run(ch09.mha_parameters, sum(p.numel() for p in layer.parameters()))
