"""Checks for the chapter 16 exercises: the modern decoder block.

Use them at the end of each exercise::

    from nncourse.checks import ch16 as check
    check.rms_norm(rms_norm)

``rms_norm`` (RMSNorm's forward pass), ``rotate`` (rotate one query at a position, in halves),
``interleaved_to_halves`` (reorder a projection's rows from one RoPE convention to the other, head by head),
``kv_cache_bytes`` (the memory of a model's KV cache) and ``cached_attention_step`` (one new token's
grouped-query attention against a cache). The references are written out here in NumPy; the wrong answers
the checks recognise are written out next to their hints.
"""

from __future__ import annotations

import numbers

import numpy as np

from .framework import Tester, check

__all__ = ["rms_norm", "rotate", "interleaved_to_halves", "kv_cache_bytes", "cached_attention_step"]


# --------------------------------------------------------------------------------------------------
# Exercise 1: RMSNorm forward
# --------------------------------------------------------------------------------------------------


def _rms(x, weight, eps, *, centre=False, eps_outside=False, axis=-1, use_sum=False, weight_on=True):
    x = np.asarray(x, dtype=np.float64)
    if centre:
        x = x - x.mean(axis=axis, keepdims=True)
    ms = (x * x).sum(axis=axis, keepdims=True) if use_sum else (x * x).mean(axis=axis, keepdims=True)
    rms = np.sqrt(ms) + eps if eps_outside else np.sqrt(ms + eps)
    y = x / rms
    return y * weight if weight_on else y


@check("rms_norm")
def rms_norm(t: Tester, rms_norm) -> None:
    """``rms_norm(x, weight, eps) -> y``: normalise the last axis of x by its root mean square, times weight."""
    t.callable(rms_norm, "rms_norm")
    rng = np.random.default_rng(160)
    # small vectors and a large eps first: there every mistake gives a different number
    cases = [("x of shape (3, 4), eps = 0.5", rng.normal(1.0, 0.3, size=(3, 4)), 0.5),
             ("x of shape (2, 5, 6), eps = 1e-5", rng.normal(size=(2, 5, 6)) * 3, 1e-5),
             ("one vector of 8 features", rng.normal(size=(1, 8)), 1e-6)]
    for description, x, eps in cases:
        weight = rng.uniform(0.5, 2.0, size=x.shape[-1])
        got = t.call(rms_norm, x, weight, eps)
        t.close(got, _rms(x, weight, eps), f"rms_norm for {description}", rtol=1e-9, atol=1e-12, mistakes=[
            (lambda: _rms(x, weight, eps, centre=True),
             "that is LayerNorm: RMSNorm does not subtract the mean, it divides x itself by sqrt(mean(x²) + eps)."),
            (lambda: _rms(x, weight, eps, eps_outside=True),
             "eps goes inside the square root: x / sqrt(mean(x²) + eps), as torch.nn.RMSNorm computes it."),
            (lambda: _rms(x, weight, 0.0),
             "eps is missing: add it to the mean of the squares before the square root."),
            (lambda: _rms(x, weight, eps, axis=0),
             "normalise each vector over its features, the last axis: mean(x * x, axis=-1, keepdims=True)."),
            (lambda: _rms(x, weight, eps, use_sum=True),
             "that divides by the root of the *sum* of squares (the length of x): RMSNorm uses the mean, "
             "so that the result does not shrink as the vector gets longer."),
            (lambda: _rms(x, weight, eps, weight_on=False),
             "multiply the normalised vector by weight (the learned scale, one per feature)."),
            (lambda: _rms(x, weight, eps, weight_on=False) + weight,
             "weight scales the normalised vector (multiply); RMSNorm has no bias to add."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 2: rotate a query at a position
# --------------------------------------------------------------------------------------------------


def _rotate(q, m, theta, *, interleaved=False, exponent=2.0, sign=1.0, frequencies=None):
    q = np.asarray(q, dtype=np.float64)
    D = q.shape[-1]
    w = theta ** (-exponent * np.arange(D // 2) / D) if frequencies is None else frequencies
    cos, sin = np.cos(m * w), sign * np.sin(m * w)
    out = np.empty_like(q)
    if interleaved:
        a, b = q[0::2], q[1::2]
        out[0::2], out[1::2] = a * cos - b * sin, b * cos + a * sin
    else:
        a, b = q[:D // 2], q[D // 2:]
        out[:D // 2], out[D // 2:] = a * cos - b * sin, b * cos + a * sin
    return out


@check("rotate")
def rotate(t: Tester, rotate) -> None:
    """``rotate(q, m, theta) -> rotated q``: pair i = (q[i], q[i + D/2]) turns by m · theta^(-2i/D)."""
    t.callable(rotate, "rotate")
    rng = np.random.default_rng(161)
    for description, D, m, theta in [("D = 8 at position 3, theta = 100", 8, 3, 100.0),
                                      ("D = 6 at position 7, theta = 10000", 6, 7, 10000.0),
                                      ("D = 4 at position 0", 4, 0, 10000.0)]:
        q = rng.normal(size=D)
        got = t.call(rotate, q, m, theta)
        D2 = D // 2
        t.close(got, _rotate(q, m, theta), f"rotate for {description}", rtol=1e-9, atol=1e-12, mistakes=[
            (lambda: _rotate(q, m, theta, interleaved=True),
             "that pairs neighbours (q[2i], q[2i+1]), the interleaved convention; here pair i is "
             "(q[i], q[i + D/2]), the two halves."),
            (lambda: _rotate(q, m, theta, exponent=1.0),
             "the frequency of pair i is theta^(-2i/D): the exponent counts features two at a time."),
            (lambda: _rotate(q, m, theta, sign=-1.0),
             "that turns the other way: the first half becomes a·cos − b·sin and the second b·cos + a·sin."),
            (lambda: _rotate(q, m, theta, exponent=-2.0),
             "the frequencies go down from 1: w_i = theta^(-2i/D) = 1 / theta^(2i/D), not theta^(2i/D)."),
            (lambda: _rotate(q, m + 1, theta),
             "positions count from 0: the token at position m turns by m · w_i (position 0 is not rotated)."),
            (lambda: _rotate(q, m, theta, frequencies=np.ones(D2)),
             "every pair turns at its own frequency w_i = theta^(-2i/D), not all by m radians."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: the two conventions
# --------------------------------------------------------------------------------------------------


def _permutation(D):
    return np.concatenate([np.arange(0, D, 2), np.arange(1, D, 2)])


@check("interleaved_to_halves")
def interleaved_to_halves(t: Tester, interleaved_to_halves) -> None:
    """``interleaved_to_halves(w, n_heads) -> w``: reorder the rows of each head's block of a projection."""
    t.callable(interleaved_to_halves, "interleaved_to_halves")
    rng = np.random.default_rng(162)
    for description, n_heads, D, C in [("3 heads of 4 features, d_model 5", 3, 4, 5),
                                        ("2 heads of 8 features, d_model 3", 2, 8, 3),
                                        ("1 head of 6 features, d_model 2", 1, 6, 2)]:
        w = rng.normal(size=(n_heads * D, C))
        got = t.call(interleaved_to_halves, w, n_heads)
        p = _permutation(D)
        want = w.reshape(n_heads, D, C)[:, p, :].reshape(-1, C)
        inverse = np.argsort(p)
        t.close(got, want, f"interleaved_to_halves for {description}", rtol=0, atol=0, mistakes=[
            (lambda: w.reshape(n_heads, D, C)[:, inverse, :].reshape(-1, C),
             "that is the inverse reordering (halves to interleaved): new row i of a head is old row "
             "p[i] with p = [0, 2, 4, ..., 1, 3, 5, ...], i.e. w_head[p]."),
            (lambda: w[_permutation(n_heads * D)],
             "the reordering applies inside each head's block of D rows, not to the whole matrix at once: "
             "reshape to (n_heads, D, d_model) first."),
            (w,
             "the rows must be reordered: the interleaved layout keeps a pair in neighbouring rows, halves "
             "keeps it D/2 rows apart."),
            (lambda: np.concatenate([w.reshape(n_heads, D, C)[:, 1::2], w.reshape(n_heads, D, C)[:, 0::2]],
                                    axis=1).reshape(-1, C),
             "the first half of a head takes the first member of every pair (rows 0, 2, 4, ...), the second "
             "half the second members (1, 3, 5, ...)."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: the KV cache's memory
# --------------------------------------------------------------------------------------------------


@check("kv_cache_bytes")
def kv_cache_bytes(t: Tester, kv_cache_bytes) -> None:
    """``kv_cache_bytes(config, context_length, batch_size, bytes_per_number) -> int``."""
    t.callable(kv_cache_bytes, "kv_cache_bytes")
    # SmolLM2 first: there every mistake is off by a different factor (2, 30, 5, 4, 8, 3, 9)
    cases = [("SmolLM2-135M (30 layers, 9 heads, 3 KV heads, d_model 576), 8192 positions, batch 5, float32",
              dict(n_layers=30, d_model=576, n_heads=9, n_kv_heads=3), 8192, 5, 4),
             ("a 7B-sized Llama (32 layers, 32 heads, 8 KV heads, d_model 4096), 4096 positions, batch 1, bfloat16",
              dict(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8), 4096, 1, 2),
             ("a multi-head model (2 layers, 4 heads, 4 KV heads, d_model 64), 256 positions, batch 3, float32",
              dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4), 256, 3, 4)]
    for description, config, T, B, nbytes in cases:
        got = t.call(kv_cache_bytes, dict(config), T, B, nbytes)
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            if isinstance(got, numbers.Real) and float(got).is_integer():
                t.fail(f"kv_cache_bytes for {description} returned a float, {got!r}",
                       "a number of bytes is a whole number: use // for the head size (d_model // n_heads), "
                       "or return int(...).")
            t.fail(f"kv_cache_bytes for {description} returned {type(got).__name__}, expected an int",
                   "return the number of bytes as a Python int.")
        L, C, H, K = config["n_layers"], config["d_model"], config["n_heads"], config["n_kv_heads"]
        D = C // H
        want = 2 * L * B * K * T * D * nbytes
        t.equal(int(got), want, f"kv_cache_bytes for {description}", mistakes=[
            (2 * L * B * H * T * D * nbytes, "that counts a key and a value for every *query* head: with "
                                             "grouped-query attention only n_kv_heads heads are stored."),
            (L * B * K * T * D * nbytes, "half of it: the cache stores keys *and* values (the factor 2)."),
            (2 * B * K * T * D * nbytes, "that is one layer's cache: every layer keeps its own keys and values."),
            (2 * L * K * T * D * nbytes, "that is one sequence's cache: each of the batch_size sequences has its own."),
            (2 * L * B * K * T * D, "that counts numbers, not bytes: multiply by bytes_per_number."),
            (8 * want, "that counts bits: a byte is 8 bits, bytes_per_number is already in bytes."),
            (2 * L * B * K * T * C * nbytes, "each KV head has head_dim = d_model // n_heads features, not d_model."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 5: one cached attention step
# --------------------------------------------------------------------------------------------------


def _step(q, k_new, v_new, k_cache, v_cache, *, append=True, scale=True, pairing="group", sqrt=True):
    H, D = q.shape
    K = k_new.shape[0]
    keys = np.concatenate([k_cache, k_new[:, None]], axis=1) if append else k_cache      # (K, S, D)
    values = np.concatenate([v_cache, v_new[:, None]], axis=1) if append else v_cache
    out = np.empty((H, D))
    for h in range(H):
        kv = h // (H // K) if pairing == "group" else h % K
        s = keys[kv] @ q[h]
        if scale:
            s = s / (np.sqrt(D) if sqrt else D)
        w = np.exp(s - s.max())
        w /= w.sum()
        out[h] = w @ values[kv]
    return out, keys, values


@check("cached_attention_step")
def cached_attention_step(t: Tester, cached_attention_step) -> None:
    """``cached_attention_step(q, k_new, v_new, k_cache, v_cache) -> (out, k_cache, v_cache)``."""
    t.callable(cached_attention_step, "cached_attention_step")
    rng = np.random.default_rng(163)
    for description, H, K, S, D in [("4 query heads, 2 KV heads, 3 stored positions, D = 4", 4, 2, 3, 4),
                                     ("6 query heads, 3 KV heads, 5 stored positions, D = 2", 6, 3, 5, 2),
                                     ("2 heads, 2 KV heads (multi-head), 1 stored position, D = 8", 2, 2, 1, 8)]:
        q, k_new, v_new = rng.normal(size=(H, D)) * 2, rng.normal(size=(K, D)), rng.normal(size=(K, D))
        k_cache, v_cache = rng.normal(size=(K, S, D)) * 2, rng.normal(size=(K, S, D))
        got = t.call(cached_attention_step, q, k_new, v_new, k_cache, v_cache)
        if not isinstance(got, tuple) or len(got) != 3:
            t.fail(f"cached_attention_step for {description} should return a tuple (out, k_cache, v_cache), "
                   f"yours returns {type(got).__name__}",
                   "return out, new_k_cache, new_v_cache: the caller needs the grown cache for the next token.")
        out, keys, values = got
        want_out, want_keys, want_values = _step(q, k_new, v_new, k_cache, v_cache)
        t.close(keys, want_keys, f"the new k_cache for {description}", rtol=0, atol=0, mistakes=[
            (k_cache, "the new key must be stored: append k_new after the S cached positions "
                      "(np.concatenate([k_cache, k_new[:, None]], axis=1))."),
            (lambda: np.concatenate([k_new[:, None], k_cache], axis=1),
             "the new key goes *after* the stored ones: position S is the newest."),
        ], shape_hint="the cache grows by one position: (n_kv_heads, S + 1, head_dim).")
        t.close(values, want_values, f"the new v_cache for {description}", rtol=0, atol=0, mistakes=[
            (v_cache, "the new value must be stored too: append v_new after the cached ones."),
        ], shape_hint="the cache grows by one position: (n_kv_heads, S + 1, head_dim).")
        t.close(out, want_out, f"the attention output for {description}", rtol=1e-9, atol=1e-12, mistakes=[
            (lambda: _step(q, k_new, v_new, k_cache, v_cache, append=False)[0],
             "the new token attends to itself too: append its key and value first, then attend over all "
             "S + 1 positions."),
            (lambda: _step(q, k_new, v_new, k_cache, v_cache, scale=False)[0],
             "divide the scores by sqrt(head_dim) before the softmax."),
            (lambda: _step(q, k_new, v_new, k_cache, v_cache, sqrt=False)[0],
             "the scale is 1 / sqrt(head_dim), not 1 / head_dim."),
            (lambda: _step(q, k_new, v_new, k_cache, v_cache, pairing="modulo")[0],
             "query head h reads KV head h // G with G = n_heads // n_kv_heads (consecutive query heads "
             "share one KV head, as repeat_kv / repeat_interleave do), not h % n_kv_heads."),
        ])
