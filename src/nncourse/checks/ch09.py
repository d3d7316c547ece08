"""Checks for the chapter 9 exercises: attention.

Use them at the end of each exercise::

    from nncourse.checks import ch09 as check
    check.attention(attention)

``kernel_weights`` (Nadaraya–Watson attention pooling), ``attention`` (scaled dot-product attention,
with an optional boolean mask), ``causal_mask``, ``softmax_backward`` (one row at a time, vectorised),
``split_merge_heads`` and ``mha_parameters`` (the parameter count of a multi-head attention layer).
Expected values come from plain float64 NumPy written here (the attention check also against
``torch.nn.functional.scaled_dot_product_attention``); the wrong answers the checks recognise are
written out next to their hints.

A function that changes its inputs in place is told so, and results must be NumPy arrays (not lists
or tensors) of the right dtype: both are the framework's rules (``Tester.call``, ``Tester.ndarray``).
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check
from .reference import softmax as _softmax

__all__ = ["kernel_weights", "attention", "causal_mask", "softmax_backward", "split_merge_heads",
           "mha_parameters"]

def _ndarray(t: Tester, value, what: str, *, kind: str = "float"):
    """The learner must return a NumPy array of the right kind (the framework's rule); returned
    unconverted, so that ``t.close`` sees its dtype."""
    t.ndarray(value, what, kind=kind)
    return value


# --------------------------------------------------------------------------------------------------
# Exercise 1: attention pooling without training (Nadaraya–Watson)
# --------------------------------------------------------------------------------------------------

def _gaussian_weights(x_query, x_train, bandwidth):
    d = x_query[:, None] - x_train[None, :]                    # (Q, N)
    return _softmax(-d ** 2 / (2 * bandwidth ** 2), axis=1)


@check("kernel_weights")
def kernel_weights(t: Tester, kernel_weights) -> None:
    """``kernel_weights(x_query, x_train, bandwidth)`` -> (Q, N): softmax over j of −(x_q − x_j)² / (2 h²)."""
    t.callable(kernel_weights, "kernel_weights")
    rng = np.random.default_rng(90)
    cases = [
        ("3 queries, 4 training points, bandwidth 0.5", np.array([0.0, 1.0, 2.5]), np.array([0.0, 0.5, 2.0, 3.0]), 0.5),
        ("5 queries, 6 training points, bandwidth 2.0", rng.normal(size=5), rng.normal(size=6) * 3, 2.0),
        ("queries far from the data, bandwidth 0.1", np.array([-30.0, 40.0]), np.array([-1.0, 0.0, 1.0]), 0.1),
    ]
    for description, xq, xt, h in cases:
        want = _gaussian_weights(xq, xt, h)
        got = t.call(kernel_weights, xq, xt, h)
        got = _ndarray(t, got, f"kernel_weights for {description}")
        d = xq[:, None] - xt[None, :]
        t.close(got, want, f"kernel_weights for {description}", mistakes=[
            (lambda: np.exp(-d ** 2 / (2 * h ** 2)), "normalise each row so that it sums to 1: divide by the row's sum "
                                                     "(a softmax over the training points)."),
            (lambda: _softmax(-d ** 2 / (2 * h ** 2), axis=0), "normalise over the training points (axis=1, each row), "
                                                               "not over the queries (axis=0)."),
            (lambda: _softmax(-np.abs(d) / (2 * h ** 2), axis=1), "the Gaussian kernel uses the squared distance "
                                                                  "(x_q − x_j)², not |x_q − x_j|."),
            (lambda: _softmax(-d ** 2 / (2 * h), axis=1), "divide by 2·h², the bandwidth squared, not 2·h."),
            (lambda: _softmax(-d ** 2 / h ** 2, axis=1), "the exponent is −(x_q − x_j)² / (2 h²): you lost the 2."),
            (lambda: _softmax(d ** 2 / (2 * h ** 2), axis=1), "mind the sign: nearer points must get MORE weight, so "
                                                              "the exponent is minus the squared distance."),
            (lambda: _gaussian_weights(xq, xt, h).T, "one row per query and one column per training point: shape (Q, N)."),
        ], nonfinite_hint="far from every training point all exp(...) underflow to 0 and 0/0 = NaN: subtract each "
                          "row's maximum score before np.exp (the stable softmax).",
            shape_hint=f"the weights have one row per query and one column per training point: ({len(xq)}, {len(xt)}).")


# --------------------------------------------------------------------------------------------------
# Exercise 2: scaled dot-product attention
# --------------------------------------------------------------------------------------------------

def _attention(Q, K, V, mask=None, *, scale=None, axis=-1, invert=False):
    scale = 1 / np.sqrt(Q.shape[-1]) if scale is None else scale
    scores = Q @ K.T * scale
    if mask is not None:
        scores = np.where(~mask if invert else mask, scores, -np.inf)
    return _softmax(scores, axis=axis) @ V


@check("attention")
def attention(t: Tester, attention) -> None:
    """``attention(Q, K, V, mask=None)`` = softmax(Q Kᵀ / √d, masked where ``mask`` is False) V."""
    import torch

    t.callable(attention, "attention")
    rng = np.random.default_rng(91)
    mask_34 = np.array([[True, False, False, False], [True, True, False, True], [False, True, True, True]])
    cases = [
        ("3 queries, 4 keys, d = 4, values of width 2", (3, 4), (4, 4), (4, 2), None),
        ("5 queries, 5 keys, d = 2, values of width 3", (5, 2), (5, 2), (5, 3), None),
        ("3 queries, 4 keys, d = 4, with a mask", (3, 4), (4, 4), (4, 2), mask_34),
        ("a single query and key, d = 9", (1, 9), (1, 9), (1, 1), None),
    ]
    for description, sq, sk, sv, mask in cases:
        Q, K, V = (rng.normal(size=s) * 2 for s in (sq, sk, sv))
        tq, tk, tv = (torch.tensor(a) for a in (Q, K, V))
        want = torch.nn.functional.scaled_dot_product_attention(
            tq, tk, tv, attn_mask=None if mask is None else torch.tensor(mask)).numpy()
        args = (Q, K, V) + (() if mask is None else (mask,))
        got = t.call(attention, *args, errors=[
            (ValueError, "matmul", "check the shapes: Q is (L, d) and K is (S, d), so the scores are Q @ K.T, (L, S)."),
            (TypeError, "missing", "give mask a default: def attention(Q, K, V, mask=None)."),
            (TypeError, "positional argument", "accept the mask as a fourth argument: def attention(Q, K, V, mask=None)."),
        ])
        what = f"attention for {description}"
        got = _ndarray(t, got, what)
        d = Q.shape[1]
        t.close(got, want, what, mistakes=[
            (lambda: _attention(Q, K, V, mask, scale=1.0), "divide the scores by √d (d = Q.shape[-1]) before the softmax."),
            (lambda: _attention(Q, K, V, mask, scale=1 / np.sqrt(V.shape[1])) if V.shape[1] != d else None,
             "scale by √d_k, the width of the queries and keys (Q.shape[-1]), not by √d_v, the width of the values."),
            (lambda: (np.where(mask, _softmax(Q @ K.T / np.sqrt(d)), 0.0) if mask is not None else None) @ V,
             "mask the scores before the softmax (-inf where the mask is False): zeroing weights after it leaves "
             "rows that no longer sum to 1."),
            (lambda: _attention(Q, K, V, mask, scale=1 / d), "divide by the square root of d, np.sqrt(d), not by d."),
            (lambda: _attention(Q, K, V, mask, axis=0), "take the softmax over the keys (axis=-1: each query's row sums "
                                                        "to 1), not over the queries."),
            (lambda: _attention(Q, K.T, V, mask), "compare each query with each key (the rows of K): the scores are "
                                                  "Q @ K.T, not Q @ K."),
            (lambda: _softmax(Q @ K.T / np.sqrt(d)), "return the weighted average of the values: weights @ V."),
            (lambda: _attention(Q, K, V, None), "apply the mask: where mask is False, set the score to -np.inf before "
                                                "the softmax (np.where(mask, scores, -np.inf))."),
            (lambda: _attention(Q, K, V, mask, invert=True), "the mask is True where a query MAY attend: keep those "
                                                             "scores and block the others (you did the opposite)."),
            (lambda: _softmax(np.where(mask, Q @ K.T / np.sqrt(d), 0.0)) @ V,
             "a blocked score must become -inf (weight exactly 0 after the softmax), not 0 (which still gets weight)."),
        ], shape_hint=f"the output has one row per query and the values' width: ({sq[0]}, {sv[1]}).")
    # a second call without the mask argument must still work (mask=None by default)
    Q, K, V = (rng.normal(size=(2, 3)) for _ in range(3))
    got = t.call(attention, Q, K, V, errors=[
        (TypeError, "missing", "give mask a default: def attention(Q, K, V, mask=None).")])
    t.close(_ndarray(t, got, "attention without a mask"), _attention(Q, K, V), "attention(Q, K, V) without a mask")


# --------------------------------------------------------------------------------------------------
# Exercise 3: a causal mask
# --------------------------------------------------------------------------------------------------

@check("causal_mask")
def causal_mask(t: Tester, causal_mask) -> None:
    """``causal_mask(n)`` -> boolean (n, n), True where query i may attend key j, i.e. j <= i."""
    t.callable(causal_mask, "causal_mask")
    for n in (3, 6, 1):
        got = _ndarray(t, t.call(causal_mask, n), f"causal_mask({n})", kind="bool")
        want = np.tril(np.ones((n, n), dtype=bool))
        t.close(got, want, f"causal_mask({n})", mistakes=[
            (np.triu(np.ones((n, n), dtype=bool)), "rows are queries and columns are keys: query i may see keys "
                                                   "0..i, the lower triangle (np.tril), not the upper one."),
            (np.tril(np.ones((n, n), dtype=bool), k=-1), "a position may attend to itself: keep the diagonal "
                                                         "(np.tril with k=0)."),
            (np.tril(np.ones((n, n), dtype=bool), k=1), "np.tril(..., k=1) keeps one diagonal above the main one too: "
                                                        "query i would see key i + 1, the next position. Use k=0."),
            (~np.tril(np.ones((n, n), dtype=bool)), "True means 'may attend': the allowed entries are j <= i "
                                                     "(you marked the blocked ones)."),
            (np.ones((n, n), dtype=bool), "block the future: query i must not see keys j > i."),
        ], shape_hint=f"the mask has one row per query and one column per key: ({n}, {n}).")


# --------------------------------------------------------------------------------------------------
# Exercise 4: the softmax backward pass, row by row
# --------------------------------------------------------------------------------------------------

def _softmax_backward(y, g):
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


@check("softmax_backward")
def softmax_backward(t: Tester, softmax_backward) -> None:
    """``softmax_backward(y, grad_y)`` -> d loss / d scores for y = softmax(scores) along the last axis."""
    import torch

    t.callable(softmax_backward, "softmax_backward")
    rng = np.random.default_rng(92)
    cases = [("3 rows of 5", (3, 5)), ("one row of 4", (1, 4)), ("a (2, 3, 4) stack of rows", (2, 3, 4)),
             ("a square (4, 4) array", (4, 4))]
    for description, shape in cases:
        z = rng.normal(size=shape) * 2
        g = rng.normal(size=shape)
        tz = torch.tensor(z, requires_grad=True)
        torch.softmax(tz, dim=-1).backward(torch.tensor(g))
        want = tz.grad.numpy()
        y = _softmax(z)
        got = t.call(softmax_backward, y, g, errors=[
            (ValueError, "broadcast", "keep the summed axis: (g * y).sum(axis=-1, keepdims=True) is (..., 1), so it "
                                      "broadcasts against y; without keepdims it is (...,) and does not."),
        ])
        what = f"softmax_backward for {description}"
        got = _ndarray(t, got, what)
        t.close(got, want, what, mistakes=[
            (lambda: g * y * (1 - y), "that is only the diagonal of the Jacobian: every output of a softmax depends on "
                                      "every score, so subtract the row's sum(g * y): y * (g - sum(g * y))."),
            (lambda: y * (g - (g * y).sum(axis=0, keepdims=True)), "sum over each row (axis=-1, keepdims=True): one "
                                                                  "softmax per row."),
            (lambda: g - (g * y).sum(axis=-1, keepdims=True), "multiply by y at the end: y * (g - sum(g * y))."),
            (lambda: y * (g - g.sum(axis=-1, keepdims=True)), "the sum is weighted by the probabilities: sum(g * y), "
                                                              "not sum(g)."),
            (lambda: -want, "mind the sign: y * (g - sum(g * y))."),
            (lambda: g * y, "the softmax's Jacobian is diag(y) - y yᵀ: besides g * y, subtract y * sum(g * y)."),
        ], shape_hint="the gradient has the shape of y: use keepdims=True in the row sum so that it broadcasts.")


# --------------------------------------------------------------------------------------------------
# Exercise 5: splitting into heads and merging them back
# --------------------------------------------------------------------------------------------------

@check("split_merge_heads")
def split_merge_heads(t: Tester, split_heads, merge_heads) -> None:
    """``split_heads(x, num_heads)``: (N, L, E) -> (N, H, L, E/H); ``merge_heads(x)``: the inverse."""
    t.callable(split_heads, "split_heads")
    t.callable(merge_heads, "merge_heads")
    for N, L, E, H in ((2, 3, 8, 2), (1, 5, 6, 3), (3, 4, 4, 4), (2, 4, 4, 2)):
        D = E // H
        x = np.arange(N * L * E, dtype=np.float64).reshape(N, L, E)
        want = x.reshape(N, L, H, D).transpose(0, 2, 1, 3)
        got = _ndarray(t, t.call(split_heads, x, H),
                       f"split_heads on ({N}, {L}, {E}) with {H} heads")
        what = f"split_heads of an (N, L, E) = ({N}, {L}, {E}) array into {H} heads"
        t.close(got, want, what, mistakes=[
            (lambda: x.reshape(N, H, L, D), "a reshape alone mixes positions and heads: first reshape to (N, L, H, D) "
                                            "(head h owns features h·D..(h+1)·D-1), then swap axes 1 and 2."),
            (lambda: x.reshape(N, L, D, H).transpose(0, 3, 1, 2), "head h owns a contiguous block of D features: "
                                                                 "reshape to (N, L, H, D), not (N, L, D, H)."),
            (lambda: x.reshape(N, L, H, D).transpose(0, 2, 3, 1), "the result is (N, H, L, D): transpose(0, 2, 1, 3)."),
            (lambda: x.reshape(N, L, H, D), "move the head axis in front of the positions: (N, H, L, D), "
                                            "transpose(0, 2, 1, 3)."),
        ], shape_hint=f"split_heads returns (N, H, L, D) = ({N}, {H}, {L}, {D}).")
        got = _ndarray(t, t.call(merge_heads, want.copy()),
                       f"merge_heads on ({N}, {H}, {L}, {D})")
        t.close(got, x, f"merge_heads of an (N, H, L, D) = ({N}, {H}, {L}, {D}) array", mistakes=[
            (lambda: want.reshape(N, L, E), "undo the transpose first: x.transpose(0, 2, 1, 3) gives (N, L, H, D), then "
                                            "reshape to (N, L, E)."),
            (lambda: want.transpose(0, 2, 3, 1).reshape(N, L, E), "merge_heads is the inverse of split_heads: "
                                                                  "transpose(0, 2, 1, 3), then reshape."),
        ], shape_hint=f"merge_heads returns (N, L, E) = ({N}, {L}, {E}).")


# --------------------------------------------------------------------------------------------------
# Exercise 6: counting the parameters of multi-head attention
# --------------------------------------------------------------------------------------------------

@check("mha_parameters")
def mha_parameters(t: Tester, n_params) -> None:
    """The number of parameters of ``MultiheadAttention(embed_dim=64, num_heads=8)`` (with biases): 16,640."""
    t.require(n_params, "n_params")
    E, H = 64, 8
    want = 4 * E * E + 4 * E
    got = t.scalar(n_params, "n_params")
    t.close(got, want, "the parameter count of MultiheadAttention(64, 8)", mistakes=[
        (4 * E * E, "count the biases too: in_proj_bias has 3E entries and out_proj.bias E."),
        (3 * E * E + 3 * E, "do not forget the output projection out_proj, an E x E Linear with a bias."),
        (4 * E * E // H + 4 * E, "the heads do not divide the parameters: each head has E/H columns of the SAME "
                                 "E x E matrices, so the count does not depend on num_heads."),
        (H * (4 * E * E + 4 * E), "the heads share the projections (each uses E/H of their rows): the count does not "
                                  "grow with num_heads."),
        (4 * E * E + E, "in_proj_bias has 3E entries (query, key and value), out_proj.bias E: 4E biases in all."),
    ], rtol=0, atol=0.5, hint="in_proj_weight (3E, E), in_proj_bias (3E,), out_proj.weight (E, E), out_proj.bias (E,).")
