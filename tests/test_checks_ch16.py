"""The exercise checks of chapter 16 (from GPT-2 to Llama).

For every check: the solution from solutions/16_modern_blocks.ipynb passes (the functions are taken from the
notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible wrong
answers fail with the hint meant for them.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.checks import ch16
from check_helpers import assert_hint, run, solution_namespace, stub


def solution() -> dict:
    return solution_namespace("16_modern_blocks")


@pytest.mark.parametrize("name", ch16.__all__)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch16, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


# -- exercise 1: rms_norm ---------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, needles", [
    (lambda x, w, eps: (x - x.mean(-1, keepdims=True)) / np.sqrt(((x - x.mean(-1, keepdims=True)) ** 2)
                                                                 .mean(-1, keepdims=True) + eps) * w,
     ["LayerNorm", "does not subtract the mean"]),
    (lambda x, w, eps: x / (np.sqrt((x * x).mean(-1, keepdims=True)) + eps) * w, ["inside the square root"]),
    (lambda x, w, eps: x / np.sqrt((x * x).mean(-1, keepdims=True)) * w, ["eps is missing"]),
    (lambda x, w, eps: x / np.sqrt((x * x).mean(0, keepdims=True) + eps) * w, ["last axis"]),
    (lambda x, w, eps: x / np.sqrt((x * x).sum(-1, keepdims=True) + eps) * w, ["*sum* of squares"]),
    (lambda x, w, eps: x / np.sqrt((x * x).mean(-1, keepdims=True) + eps), ["multiply the normalised vector"]),
    (lambda x, w, eps: x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) + w, ["no bias to add"]),
])
def test_rms_norm_mistakes(wrong, needles):
    assert_hint(run(ch16.rms_norm, wrong), *needles)


def test_rms_norm_in_place_is_refused():
    def in_place(x, w, eps):
        x /= np.sqrt((x * x).mean(-1, keepdims=True) + eps)
        x *= w
        return x
    assert_hint(run(ch16.rms_norm, in_place), "changed its input x in place")


# -- exercise 2: rotate -----------------------------------------------------------------------------

def _rotate(interleaved=False, exponent=2.0, sign=1.0, offset=0, same=False):
    def rotate(q, m, theta):
        D = len(q)
        w = np.ones(D // 2) if same else theta ** (-exponent * np.arange(D // 2) / D)
        c, s = np.cos((m + offset) * w), sign * np.sin((m + offset) * w)
        out = np.empty_like(q)
        if interleaved:
            a, b = q[0::2], q[1::2]
            out[0::2], out[1::2] = a * c - b * s, b * c + a * s
        else:
            a, b = q[:D // 2], q[D // 2:]
            out[:D // 2], out[D // 2:] = a * c - b * s, b * c + a * s
        return out
    return rotate


@pytest.mark.parametrize("wrong, needles", [
    (_rotate(interleaved=True), ["interleaved convention", "(q[i], q[i + D/2])"]),
    (_rotate(exponent=1.0), ["theta^(-2i/D)", "two at a time"]),
    (_rotate(sign=-1.0), ["the other way"]),
    (_rotate(exponent=-2.0), ["not theta^(2i/D)"]),
    (_rotate(offset=1), ["positions count from 0"]),
    (_rotate(same=True), ["its own frequency"]),
])
def test_rotate_mistakes(wrong, needles):
    assert_hint(run(ch16.rotate, wrong), *needles)


# -- exercise 3: interleaved_to_halves ---------------------------------------------------------------

def _order(D):
    return np.concatenate([np.arange(0, D, 2), np.arange(1, D, 2)])


@pytest.mark.parametrize("wrong, needles", [
    (lambda w, n: w.reshape(n, -1, w.shape[1])[:, np.argsort(_order(w.shape[0] // n)), :].reshape(w.shape),
     ["inverse reordering"]),
    (lambda w, n: w[_order(w.shape[0])], ["inside each head's block"]),
    (lambda w, n: w.copy(), ["must be reordered"]),
    (lambda w, n: np.concatenate([w.reshape(n, -1, w.shape[1])[:, 1::2], w.reshape(n, -1, w.shape[1])[:, 0::2]],
                                 axis=1).reshape(w.shape), ["rows 0, 2, 4"]),
])
def test_interleaved_to_halves_mistakes(wrong, needles):
    assert_hint(run(ch16.interleaved_to_halves, wrong), *needles)


# -- exercise 4: kv_cache_bytes ----------------------------------------------------------------------

def _kv(heads="n_kv_heads", two=2, layers=True, batch=True, nbytes=True, bits=1, width="head"):
    def kv_cache_bytes(config, T, B, b):
        D = config["d_model"] // config["n_heads"] if width == "head" else config["d_model"]
        n = two * (config["n_layers"] if layers else 1) * config[heads] * D * T * (B if batch else 1)
        return n * (b if nbytes else 1) * bits
    return kv_cache_bytes


@pytest.mark.parametrize("wrong, needles", [
    (_kv(heads="n_heads"), ["*query* head", "n_kv_heads"]),
    (_kv(two=1), ["keys *and* values"]),
    (_kv(layers=False), ["one layer's cache"]),
    (_kv(batch=False), ["batch_size sequences"]),
    (_kv(nbytes=False), ["counts numbers, not bytes"]),
    (_kv(bits=8), ["counts bits"]),
    (_kv(width="model"), ["head_dim = d_model // n_heads"]),
    (lambda config, T, B, b: float(_kv()(config, T, B, b)), ["returned a float"]),
])
def test_kv_cache_bytes_mistakes(wrong, needles):
    assert_hint(run(ch16.kv_cache_bytes, wrong), *needles)


# -- exercise 5: cached_attention_step ---------------------------------------------------------------

def _cached(append=True, scale="sqrt", pairing="group", prepend=False, keep_v=False, only_out=False):
    def step(q, k_new, v_new, k_cache, v_cache):
        new_k = np.concatenate([k_new[:, None], k_cache] if prepend else [k_cache, k_new[:, None]], axis=1)
        new_v = np.concatenate([v_cache, v_new[:, None]], axis=1)
        keys, values = (new_k, new_v) if append else (k_cache, v_cache)
        H, D = q.shape
        K = k_cache.shape[0]
        idx = np.arange(H) // (H // K) if pairing == "group" else np.arange(H) % K
        s = np.einsum("hd,hsd->hs", q, keys[idx])
        s = s / np.sqrt(D) if scale == "sqrt" else (s / D if scale == "D" else s)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        out = np.einsum("hs,hsd->hd", w, values[idx])
        if only_out:
            return out
        return out, (new_k if append else k_cache), (v_cache if keep_v else (new_v if append else v_cache))
    return step


@pytest.mark.parametrize("wrong, needles", [
    (_cached(append=False), ["new key must be stored"]),
    (_cached(scale="none"), ["sqrt(head_dim)"]),
    (_cached(scale="D"), ["not 1 / head_dim"]),
    (_cached(pairing="modulo"), ["h // G", "not h % n_kv_heads"]),
    (_cached(prepend=True), ["*after* the stored ones"]),
    (_cached(keep_v=True), ["new value must be stored"]),
    (_cached(only_out=True), ["return out, new_k_cache, new_v_cache"]),
])
def test_cached_attention_step_mistakes(wrong, needles):
    assert_hint(run(ch16.cached_attention_step, wrong), *needles)


def test_cached_attention_step_that_attends_only_to_the_past_is_named():
    def past_only(q, k_new, v_new, k_cache, v_cache):
        out = _cached(append=False)(q, k_new, v_new, k_cache, v_cache)[0]
        return (out, np.concatenate([k_cache, k_new[:, None]], axis=1),
                np.concatenate([v_cache, v_new[:, None]], axis=1))
    assert_hint(run(ch16.cached_attention_step, past_only), "attends to itself too")
