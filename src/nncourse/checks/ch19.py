"""Checks for the chapter 19 exercises: quantization.

Use them at the end of each exercise::

    from nncourse.checks import ch19 as check
    check.quantize_int8(quantize_int8)

``quantize_int8``, ``q8_0_block``, ``q4_1_block``, ``relative_error`` and ``bytes_per_parameter``. The
expected bytes come from ``nncourse.quantization.quantize``, which the tests compare with ``gguf.quants``
bit for bit.
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check

__all__ = ["quantize_int8", "q8_0_block", "q4_1_block", "relative_error", "bytes_per_parameter"]


def _blocks():
    rng = np.random.default_rng(19)
    cases = [("a block of 32 normal weights (std 0.05)", (rng.standard_normal(32) * 0.05).astype(np.float32)),
             ("a block with one outlier of 2.0", np.concatenate([[2.0], rng.standard_normal(31) * 0.1]).astype(np.float32)),
             ("a block of negative values", -np.abs(rng.standard_normal(32)).astype(np.float32)),
             ("a block whose largest magnitude is negative", np.linspace(-3, 1, 32, dtype=np.float32))]
    return cases


# --------------------------------------------------------------------------------------------------
# Exercise 1: symmetric int8
# --------------------------------------------------------------------------------------------------


@check("quantize_int8")
def quantize_int8(t: Tester, quantize_int8) -> None:
    """``quantize_int8(w) -> (q, scale)``: symmetric, one scale for the array, q in -127..127."""
    t.callable(quantize_int8, "quantize_int8")
    rng = np.random.default_rng(0)
    cases = [("w = [0.5, -1.0, 0.25, 0.0]", np.array([0.5, -1.0, 0.25, 0.0])),
             ("a (4, 8) random weight", rng.standard_normal((4, 8))),
             ("w whose largest magnitude is negative", np.array([0.3, -2.0, 1.1, 0.7]))]
    for description, w in cases:
        got = t.call(quantize_int8, w.copy())
        if not (isinstance(got, tuple) and len(got) == 2):
            t.fail(f"quantize_int8({description}) should return a pair (q, scale), yours returns "
                   f"{type(got).__name__}", "return q, scale (q: the integers, scale: one float).")
        q, scale = got
        amax = np.abs(w).max()
        want_scale = amax / 127
        t.close(scale, want_scale, f"the scale of quantize_int8({description})", mistakes=[
            (amax / 128, "the integers go from -127 to 127 (symmetric), so the scale is max|w| / 127."),
            (amax / 255, "a symmetric scale maps max|w| to 127, not the whole range to 255: max|w| / 127."),
            (w.max() / 127, "use the largest magnitude, np.abs(w).max(): a negative value can be the largest."),
            (127 / amax, "the scale turns integers back into values: scale = max|w| / 127 (not its inverse)."),
        ], hint="scale = np.abs(w).max() / 127.")
        want_q = np.round(w / want_scale)
        t.close(np.asarray(q, dtype=np.float64), want_q, f"q of quantize_int8({description})", mistakes=[
            (np.trunc(w / want_scale), "round to the nearest integer (np.round) before converting: astype(np.int8) "
                                       "alone truncates toward zero."),
            (np.round(w * want_scale), "divide by the scale: q = round(w / scale)."),
            (np.round(w / want_scale) + 127, "symmetric int8 has no zero point: q = round(w / scale), in -127..127."),
        ], shape_hint="q has one integer per weight: the shape of w.", hint="q = np.round(w / scale).astype(np.int8).")
        if not np.issubdtype(np.asarray(q).dtype, np.integer):
            t.fail(f"q of quantize_int8({description}) has dtype {np.asarray(q).dtype}",
                   "store the integers as integers: np.round(w / scale).astype(np.int8).")


# --------------------------------------------------------------------------------------------------
# Exercise 2: a Q8_0 block
# --------------------------------------------------------------------------------------------------


def _roundf(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _q8_0(x, divisor=127, use_abs=True, rounding=_roundf, scale_first=True, scale_dtype=np.float16):
    amax = np.abs(x).max() if use_abs else x.max()
    d = np.float32(amax) / np.float32(divisor)
    q = rounding(x * (1 / d if d else 0)).astype(np.int8).view(np.uint8)
    scale = np.array([d], scale_dtype).view(np.uint8)
    return np.concatenate([scale, q] if scale_first else [q, scale])


@check("q8_0_block")
def q8_0_block(t: Tester, q8_0_block) -> None:
    """``q8_0_block(x) -> 34 bytes``: a float16 scale max|x|/127, then 32 int8 values round(x / d)."""
    from ..quantization import quantize

    t.callable(q8_0_block, "q8_0_block")
    for description, x in _blocks():
        got = t.call(q8_0_block, x.copy())
        want = quantize(x, "q8_0").raw
        got_arr = t.array(got, f"q8_0_block({description})")
        raw_dtype = getattr(got, "dtype", None)
        if raw_dtype is not None and raw_dtype != np.uint8 and got_arr.shape == want.shape:
            t.fail(f"q8_0_block({description}) has dtype {raw_dtype}", "return raw bytes: concatenate "
                   "the scale's and the values' bytes, each viewed as np.uint8.")
        t.close(got_arr.astype(np.float64), want, f"q8_0_block({description})", mistakes=[
            (lambda: _q8_0(x, divisor=128), "Q8_0 uses -127..127: d = max|x| / 127."),
            (lambda: _q8_0(x, use_abs=False), "use the largest magnitude, np.abs(x).max(), not x.max()."),
            (lambda: _q8_0(x, rounding=np.trunc), "round to the nearest integer before converting (away from zero "
                                                  "at halves): astype(np.int8) alone truncates."),
            (lambda: _q8_0(x, scale_first=False), "the scale comes first: 2 bytes of float16 d, then the 32 values."),
        ], shape_hint="a Q8_0 block is 34 bytes: d as float16 (2 bytes, np.array([d], np.float16).view(np.uint8)) "
                      "then 32 int8 values; a float32 scale would make 36.",
            hint="d = np.abs(x).max() / 127; q = round(x / d) as int8; "
                 "np.concatenate([np.array([d], np.float16).view(np.uint8), q.view(np.uint8)]).")


# --------------------------------------------------------------------------------------------------
# Exercise 3: a Q4_1 block
# --------------------------------------------------------------------------------------------------


def _q4_1(x, levels=15, pack="halves", minimum=True, order="dm"):
    lo, hi = x.min(), x.max()
    d = np.float32(hi - lo) / np.float32(levels)
    base = lo if minimum else np.float32(0)
    with np.errstate(all="ignore"):
        q = np.clip(np.trunc((x - base) * (1 / d) + np.float32(0.5)), 0, 15).astype(np.uint8)
    if pack == "halves":
        packed = q[:16] | (q[16:] << 4)
    elif pack == "pairs":
        packed = q[0::2] | (q[1::2] << 4)
    else:                                            # high nibble first
        packed = (q[:16] << 4) | q[16:]
    head = [d, lo] if order == "dm" else [lo, d]
    return np.concatenate([np.array(head, np.float16).view(np.uint8), packed.astype(np.uint8)])


@check("q4_1_block")
def q4_1_block(t: Tester, q4_1_block) -> None:
    """``q4_1_block(x) -> 20 bytes``: float16 d = (max-min)/15 and m = min, then 16 bytes of nibbles."""
    from ..quantization import quantize

    t.callable(q4_1_block, "q4_1_block")
    for description, x in _blocks():
        got = t.call(q4_1_block, x.copy())
        want = quantize(x, "q4_1").raw
        got_arr = t.array(got, f"q4_1_block({description})")
        t.close(got_arr.astype(np.float64), want, f"q4_1_block({description})", mistakes=[
            (lambda: _q4_1(x, levels=16), "4 bits give 16 levels, 0..15, so 15 steps: d = (max - min) / 15."),
            (lambda: _q4_1(x, pack="pairs"), "values j and j + 16 share byte j (low nibble, high nibble), not "
                                             "neighbours 2j and 2j + 1."),
            (lambda: _q4_1(x, pack="high"), "value j goes in the low nibble of byte j, value j + 16 in the high "
                                            "one: q[:16] | (q[16:] << 4)."),
            (lambda: _q4_1(x, order="md"), "the scale d comes first, then the minimum m (two float16)."),
            (lambda: _q4_1(x, minimum=False), "subtract the minimum before dividing: q = trunc((x - m) / d + 0.5)."),
        ], shape_hint="a Q4_1 block is 20 bytes: d and m as float16 (4 bytes), then 16 bytes of two 4-bit values each.",
            hint="m = x.min(); d = (x.max() - m) / 15; q = trunc((x - m) / d + 0.5) clipped to 0..15; "
                 "bytes = [d, m] as float16, then q[:16] | (q[16:] << 4).")


# --------------------------------------------------------------------------------------------------
# Exercise 4: the error of a quantization
# --------------------------------------------------------------------------------------------------


@check("relative_error")
def relative_error(t: Tester, relative_error) -> None:
    """``relative_error(w, back) -> float``: ||back - w|| / ||w|| (Frobenius norms)."""
    from ..quantization import quantize

    t.callable(relative_error, "relative_error")
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((8, 64)) * 0.1).astype(np.float32)
    cases = [("w = [3, 4] and back = [3, 5]", np.array([3.0, 4.0]), np.array([3.0, 5.0]))]
    for kind in ("q8_0", "q4_1"):
        cases.append((f"a (8, 64) weight and its {kind} round trip", w.astype(np.float64),
                      quantize(w, kind).dequantize().astype(np.float64)))
    for description, a, b in cases:
        got = t.call(relative_error, a.copy(), b.copy())
        diff = b - a
        want = np.linalg.norm(diff) / np.linalg.norm(a)
        t.close(got, want, f"relative_error({description})", mistakes=[
            (np.sum(diff ** 2) / np.sum(a ** 2), "take the square roots: a norm is sqrt(sum of squares)."),
            (np.linalg.norm(diff), "divide by the norm of w, so that the error does not depend on the weights' scale."),
            (np.linalg.norm(diff) / np.linalg.norm(b), "divide by the norm of the original w, not of the "
                                                       "quantized copy."),
            (np.abs(diff).mean() / np.abs(a).mean(), "use norms (root of the sum of squares), not mean absolute "
                                                     "values."),
            (np.abs(diff).max() / np.abs(a).max(), "use norms over all the values, not the largest differences."),
        ], hint="np.linalg.norm(back - w) / np.linalg.norm(w).")


# --------------------------------------------------------------------------------------------------
# Exercise 5: bytes per parameter
# --------------------------------------------------------------------------------------------------


@check("bytes_per_parameter")
def bytes_per_parameter(t: Tester, bytes_per_parameter) -> None:
    """``bytes_per_parameter(kind, row_length) -> float``: bytes a format spends per weight, scales included."""
    from ..quantization import bytes_per_value

    t.callable(bytes_per_parameter, "bytes_per_parameter")
    scale_free = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 1.0, "q4_0": 0.5, "q4_1": 0.5, "int8": 1.0}
    float32_scales = {"q8_0": 36 / 32, "q4_0": 20 / 32, "q4_1": 24 / 32}
    for kind, row_length in [("f32", 64), ("bf16", 64), ("q8_0", 64), ("q4_0", 64), ("q4_1", 64), ("int8", 64),
                             ("int8", 576)]:
        got = t.call(bytes_per_parameter, kind, row_length)
        want = bytes_per_value(kind, row_length=row_length) if kind == "int8" else bytes_per_value(kind)
        mistakes = [(8 * want, "the question is bytes, not bits: divide by 8.")]
        if kind in ("q8_0", "q4_0", "q4_1"):
            mistakes.append((scale_free[kind], "count the block's float16 scale (and Q4_1's minimum): 2 bytes "
                                               "(or 4) shared by 32 values."))
            mistakes.append((float32_scales[kind], "GGUF stores the block scales as float16: 2 bytes each, not 4."))
        if kind == "q4_1":
            mistakes.append((18 / 32, "Q4_1 stores a minimum as well as a scale: 2 + 2 + 16 = 20 bytes per 32 values."))
        if kind == "int8":
            mistakes.append((1.0, "per-channel int8 keeps one float32 scale per row: 1 + 4 / row_length."))
            mistakes.append((1.0 + 2 / row_length, "this int8 format keeps its scales in float32: 4 bytes per row."))
        t.close(got, want, f"bytes_per_parameter({kind!r}, row_length={row_length})", mistakes=mistakes,
                hint="f32 4; f16/bf16 2; q8_0 34/32; q4_0 18/32; q4_1 20/32; int8 1 + 4/row_length.")
