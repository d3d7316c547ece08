"""The exercise checks of chapter 19 (quantization).

For every check: the solution from solutions/19_quantization.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", the course's own
functions pass, and plausible wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.checks import ch19
from check_helpers import assert_hint, run, solution_namespace, stub

CHECKS = ["quantize_int8", "q8_0_block", "q4_1_block", "relative_error", "bytes_per_parameter"]


def solution() -> dict:
    return solution_namespace("19_quantization")


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch19, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_the_library_passes_the_checks_too():
    from nncourse.quantization import bytes_per_value, quantize

    assert run(ch19.q8_0_block, lambda x: quantize(x, "q8_0").raw)
    assert run(ch19.q4_1_block, lambda x: quantize(x, "q4_1").raw)
    assert run(ch19.bytes_per_parameter, lambda kind, row_length: bytes_per_value(kind, row_length=row_length)
               if kind == "int8" else bytes_per_value(kind))


# ---------------------------------------------------------------------------------------- int8
def test_int8_wrong_answers():
    def by_128(w):
        s = np.abs(w).max() / 128
        return np.round(w / s).astype(np.int8), s

    def by_255(w):
        s = np.abs(w).max() / 255
        return np.round(w / s).astype(np.int8), s

    def no_abs(w):
        s = w.max() / 127
        return np.round(w / s).astype(np.int8), s

    def truncated(w):
        s = np.abs(w).max() / 127
        return (w / s).astype(np.int8), s

    def multiplied(w):
        s = np.abs(w).max() / 127
        return np.round(w * s).astype(np.int8), s

    def floats(w):
        s = np.abs(w).max() / 127
        return np.round(w / s), s

    assert_hint(run(ch19.quantize_int8, by_128), "-127 to 127 (symmetric)")
    assert_hint(run(ch19.quantize_int8, by_255), "not the whole range to 255")
    assert_hint(run(ch19.quantize_int8, no_abs), "largest magnitude")
    assert_hint(run(ch19.quantize_int8, truncated), "truncates toward zero")
    assert_hint(run(ch19.quantize_int8, multiplied), "divide by the scale")
    assert_hint(run(ch19.quantize_int8, floats), "store the integers as integers")
    assert_hint(run(ch19.quantize_int8, lambda w: np.round(w / (np.abs(w).max() / 127))), "return q, scale")


# ---------------------------------------------------------------------------------------- Q8_0
def _q8(x, divisor=127, use_abs=True, rounding=None, first=True, dtype=np.float16):
    amax = np.abs(x).max() if use_abs else x.max()
    d = np.float32(amax) / np.float32(divisor)
    v = x * (np.float32(1) / d)
    q = (rounding or (lambda a: np.sign(a) * np.floor(np.abs(a) + 0.5)))(v).astype(np.int8).view(np.uint8)
    scale = np.array([d], dtype).view(np.uint8)
    return np.concatenate([scale, q] if first else [q, scale])


def test_q8_0_wrong_answers():
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x, divisor=128)), "d = max|x| / 127")
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x, use_abs=False)), "np.abs(x).max(), not x.max()")
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x, rounding=np.trunc)), "astype(np.int8) alone truncates")
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x, first=False)), "the scale comes first")
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x, dtype=np.float32)), "34 bytes", "float32 scale would make 36")
    assert_hint(run(ch19.q8_0_block, lambda x: _q8(x).astype(np.float64)), "return raw bytes")


# ---------------------------------------------------------------------------------------- Q4_1
def _q41(x, levels=15, pack="halves", minimum=True, order="dm", extra=False):
    m = x.min()
    d = (x.max() - m) / np.float32(levels)
    base = m if minimum else np.float32(0)
    q = np.clip(np.trunc((x - base) * (np.float32(1) / d) + np.float32(0.5)), 0, 15).astype(np.uint8)
    packed = {"halves": lambda: q[:16] | (q[16:] << 4), "pairs": lambda: q[0::2] | (q[1::2] << 4),
              "high": lambda: (q[:16] << 4) | q[16:]}[pack]()
    head = np.array([d, m] if order == "dm" else [m, d], np.float16).view(np.uint8)
    return np.concatenate([head, packed] + ([np.zeros(2, np.uint8)] if extra else []))


def test_q4_1_wrong_answers():
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, levels=16)), "16 levels, 0..15, so 15 steps")
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, pack="pairs")), "not neighbours 2j and 2j + 1")
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, pack="high")), "value j goes in the low nibble")
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, order="md")), "the scale d comes first")
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, minimum=False)), "subtract the minimum")
    assert_hint(run(ch19.q4_1_block, lambda x: _q41(x, extra=True)), "a Q4_1 block is 20 bytes")


# ---------------------------------------------------------------------------------------- error
def test_relative_error_wrong_answers():
    assert_hint(run(ch19.relative_error, lambda w, b: np.sum((b - w) ** 2) / np.sum(w ** 2)), "square roots")
    assert_hint(run(ch19.relative_error, lambda w, b: np.linalg.norm(b - w)), "divide by the norm of w")
    assert_hint(run(ch19.relative_error, lambda w, b: np.linalg.norm(b - w) / np.linalg.norm(b)),
                "norm of the original w")
    assert_hint(run(ch19.relative_error, lambda w, b: np.abs(b - w).mean() / np.abs(w).mean()),
                "not mean absolute values")
    assert_hint(run(ch19.relative_error, lambda w, b: np.abs(b - w).max() / np.abs(w).max()),
                "not the largest differences")


# ---------------------------------------------------------------------------------------- bytes
_RIGHT = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32, "q4_1": 20 / 32}


def _bytes(**override):
    def answer(kind, row_length):
        if kind in override:
            value = override[kind]
            return value(row_length) if callable(value) else value
        return 1 + 4 / row_length if kind == "int8" else _RIGHT[kind]
    return answer


def test_bytes_per_parameter_wrong_answers():
    assert_hint(run(ch19.bytes_per_parameter, _bytes(f32=32.0)), "bytes, not bits")
    assert_hint(run(ch19.bytes_per_parameter, _bytes(q8_0=1.0)), "count the block's float16 scale")
    assert_hint(run(ch19.bytes_per_parameter, _bytes(q8_0=36 / 32)), "float16: 2 bytes each, not 4")
    assert_hint(run(ch19.bytes_per_parameter, _bytes(q4_1=18 / 32)), "stores a minimum as well as a scale")
    assert_hint(run(ch19.bytes_per_parameter, _bytes(int8=1.0)), "one float32 scale per row")
    assert_hint(run(ch19.bytes_per_parameter, _bytes(int8=lambda n: 1 + 2 / n)), "scales in float32")
