"""Scaled dot-product attention and MultiheadAttention: gradients, parity with torch, masks, errors.

Gradient checks run in float64 against central differences (``numerical_gradient``) over shapes and
masks drawn by hypothesis. Parity: the same inputs and weights through torch, forward and every
gradient, float64 within 1e-9 and float32 within 1e-4 (relative to the largest value, floor 1e-2).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.numpy_nn import functional as F
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error

TOL = {np.float64: 1e-9, np.float32: 1e-4}


def close(actual, expected, dtype):
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-2)
    return float(np.abs(np.asarray(actual) - expected).max(initial=0.0)) <= TOL[dtype] * scale


def random_mask(rng, shape, kind, keep_rows_alive=True):
    """A boolean 'may attend' mask or a float additive mask of ``shape`` (..., L, S)."""
    allowed = rng.random(shape) < 0.6
    if keep_rows_alive:
        allowed[..., 0] = True          # every query may see at least key 0
    if kind == "bool":
        return allowed
    return np.where(allowed, rng.normal(size=shape), -np.inf)


# ======================================================================== functional: gradients
@settings(max_examples=25, deadline=None)
@given(batch=st.sampled_from([(), (2,), (2, 3)]), L=st.integers(1, 4), S=st.integers(1, 4),
       E=st.integers(1, 3), Ev=st.integers(1, 3), mask=st.sampled_from([None, "bool", "float", "causal"]),
       seed=st.integers(0, 2**16))
def test_attention_backward_matches_finite_differences(batch, L, S, E, Ev, mask, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=batch + shape) for shape in ((L, E), (S, E), (S, Ev)))
    attn_mask = None if mask in (None, "causal") else random_mask(rng, (L, S), mask)
    is_causal = mask == "causal"
    out, cache = F.attention_forward(q, k, v, attn_mask, is_causal=is_causal)
    R = rng.normal(size=out.shape)
    grads = F.attention_backward(R, cache)

    def scalar(_):
        return float(np.sum(F.scaled_dot_product_attention(q, k, v, attn_mask, is_causal=is_causal) * R))

    for x, analytic in zip((q, k, v), grads):
        assert analytic.shape == x.shape
        assert relative_error(analytic, numerical_gradient(scalar, x)) < 1e-6


def test_softmax_backward_is_the_jacobian_vector_product():
    rng = np.random.default_rng(0)
    z, g = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    y = F.softmax(z)
    jac = np.stack([np.diag(row) - np.outer(row, row) for row in y])       # (2, 5, 5)
    np.testing.assert_allclose(F.softmax_backward(g, y), np.einsum("nij,nj->ni", jac, g), atol=1e-12)


# ======================================================================== functional: parity with torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal", "padding"])
@pytest.mark.parametrize("L,S", [(4, 4), (3, 5)])
def test_sdpa_matches_torch(dtype, mask, L, S):
    rng = np.random.default_rng(1)
    N, H, E, Ev = 2, 3, 4, 5
    q, k, v = (rng.normal(size=shape).astype(dtype) for shape in ((N, H, L, E), (N, H, S, E), (N, H, S, Ev)))
    attn_mask = None
    if mask in ("bool", "float"):
        attn_mask = random_mask(rng, (L, S), mask).astype(bool if mask == "bool" else dtype)
    elif mask == "padding":
        attn_mask = F.padding_mask(np.array([S, 2]), S)[:, None, None, :]   # (N, 1, 1, S)
    out, cache = F.attention_forward(q, k, v, attn_mask, is_causal=mask == "causal")
    grad = rng.normal(size=out.shape).astype(dtype)
    dq, dk, dv = F.attention_backward(grad, cache)

    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    t_mask = None if attn_mask is None else torch.tensor(attn_mask)
    t_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=t_mask,
                                                             is_causal=mask == "causal")
    t_out.backward(torch.tensor(grad))
    assert out.dtype == dtype and dq.dtype == dtype
    for mine, theirs in ((out, t_out), (dq, tq.grad), (dk, tk.grad), (dv, tv.grad)):
        assert close(mine, theirs, dtype)


def test_fully_masked_row_gives_zeros_like_torch_sdpa_not_nan():
    rng = np.random.default_rng(2)
    q, k, v = (rng.normal(size=(3, 4)) for _ in range(3))
    allowed = np.ones((3, 3), dtype=bool)
    allowed[1] = False                                   # query 1 may see nothing
    out, cache = F.attention_forward(q, k, v, allowed)
    assert np.isfinite(out).all() and (out[1] == 0).all() and (cache.weights[1] == 0).all()
    dq, dk, dv = F.attention_backward(np.ones_like(out), cache)
    assert np.isfinite(dq).all() and (dq[1] == 0).all()
    t_out = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)),
                                                             attn_mask=torch.tensor(allowed))
    np.testing.assert_allclose(out, t_out.numpy(), atol=1e-12)
    # the same through a float mask of -inf
    float_mask = np.where(allowed, 0.0, -np.inf)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, float_mask), out)


def test_scale_and_causal_mask_helpers():
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(4, 2)) for _ in range(3))
    out, cache = F.attention_forward(q, k, v, is_causal=True)
    assert (np.triu(cache.weights, 1) == 0).all() and cache.weights[0, 0] == 1.0
    manual = F.softmax(np.where(F.causal_mask(4), q @ k.T / np.sqrt(2), -np.inf)) @ v
    np.testing.assert_allclose(out, manual, atol=1e-12)
    assert F.causal_mask(2, 3).tolist() == [[True, False, False], [True, True, False]]
    assert F.padding_mask([1, 3]).tolist() == [[True, False, False], [True, True, True]]
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, scale=1.0),
                               F.softmax(q @ k.T) @ v, atol=1e-12)


# ======================================================================== functional: errors
def test_sdpa_clear_errors():
    q = np.zeros((2, 4, 8))
    with pytest.raises(ShapeError, match="same width E"):
        F.scaled_dot_product_attention(q, np.zeros((2, 4, 6)), np.zeros((2, 4, 6)))
    with pytest.raises(ShapeError, match="same length S"):
        F.scaled_dot_product_attention(q, np.zeros((2, 5, 8)), np.zeros((2, 4, 8)))
    with pytest.raises(ShapeError, match="leading"):
        F.scaled_dot_product_attention(q, np.zeros((3, 4, 8)), np.zeros((3, 4, 8)))
    with pytest.raises(ShapeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, np.ones((3, 4), dtype=bool))
    with pytest.raises(DTypeError, match="astype\\(bool\\)"):
        F.scaled_dot_product_attention(q, q, q, np.ones((4, 4), dtype=int))
    with pytest.raises(DTypeError, match="share a dtype"):
        F.scaled_dot_product_attention(q, q.astype(np.float32), q)
    with pytest.raises(DTypeError, match="float"):
        F.scaled_dot_product_attention(q.astype(int), q, q)
    with pytest.raises(NonFiniteError):
        F.scaled_dot_product_attention(np.full_like(q, np.nan), q, q)
    with pytest.raises(NonFiniteError):
        F.scaled_dot_product_attention(q, q, q, np.full((4, 4), np.nan))
    with pytest.raises(ShapeError, match="at least 2"):
        F.scaled_dot_product_attention(np.zeros(3), np.zeros(3), np.zeros(3))
    _, cache = F.attention_forward(q, q, q)
    with pytest.raises(ShapeError, match="grad_output"):
        F.attention_backward(np.zeros((2, 4, 7)), cache)


# ======================================================================== MultiheadAttention
def make_pair(E=8, H=2, bias=True, batch_first=False, dtype=np.float64, seed=0):
    mine = nn.MultiheadAttention(E, H, bias=bias, batch_first=batch_first, seed=seed, dtype=dtype)
    return mine, torch_nn.from_numpy(mine)


def layout(x, batch_first):
    """(N, L, E) arrays -> the layer's layout."""
    return x if batch_first else x.transpose(1, 0, 2).copy()


CASES = [  # (self-attention?, mask kind)
    (True, None), (True, "causal"), (True, "bool"), (True, "float"), (True, "padding"),
    (True, "causal+padding"), (False, None), (False, "bool"), (False, "padding"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("self_attention,mask", CASES)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_multihead_attention_matches_torch(dtype, batch_first, self_attention, mask, need_weights, average):
    rng = np.random.default_rng(4)
    N, L, S, E, H = 3, 4, 4 if self_attention else 5, 8, 2
    mine, theirs = make_pair(E, H, batch_first=batch_first, dtype=dtype)
    x = rng.normal(size=(N, L, E)).astype(dtype)
    if self_attention:
        query = key = value = layout(x, batch_first)
    else:
        query = layout(x, batch_first)
        key = layout(rng.normal(size=(N, S, E)).astype(dtype), batch_first)
        value = layout(rng.normal(size=(N, S, E)).astype(dtype), batch_first)
    kwargs, t_kwargs = {}, {}
    if mask and "causal" in mask:
        blocked = ~F.causal_mask(L, S)                   # torch's MHA convention: True = blocked
        kwargs.update(attn_mask=blocked, is_causal=True)
        t_kwargs.update(attn_mask=torch.tensor(blocked), is_causal=True)
    if mask in ("bool", "float"):
        m = ~random_mask(rng, (L, S), "bool") if mask == "bool" else random_mask(rng, (L, S), "float").astype(dtype)
        kwargs.update(attn_mask=m)
        t_kwargs.update(attn_mask=torch.tensor(m))
    if mask and "padding" in mask:
        pad = ~F.padding_mask(np.array([S, 2, 3]), S)      # True = padding key
        kwargs.update(key_padding_mask=pad)
        t_kwargs.update(key_padding_mask=torch.tensor(pad))
    out, weights = mine(query, key, value, need_weights=need_weights, average_attn_weights=average, **kwargs)

    tensors = [torch.tensor(a, requires_grad=True) for a in ((query,) if self_attention else (query, key, value))]
    tq, tk, tv = tensors * 3 if self_attention else tensors
    t_out, t_weights = theirs(tq, tk, tv, need_weights=need_weights, average_attn_weights=average, **t_kwargs)
    grad = rng.normal(size=out.shape).astype(dtype)
    t_out.backward(torch.tensor(grad))
    dq, dk, dv = mine.backward(grad)

    assert out.shape == tuple(t_out.shape) and out.dtype == dtype
    assert close(out, t_out, dtype)
    if need_weights:
        assert weights.shape == tuple(t_weights.shape) and close(weights, t_weights, dtype)
    else:
        assert weights is None and t_weights is None
    if self_attention:
        assert close(dq + dk + dv, tq.grad, dtype)
    else:
        for mine_grad, t in zip((dq, dk, dv), (tq, tk, tv)):
            assert close(mine_grad, t.grad, dtype)
    t_params = dict(theirs.named_parameters())
    for name, param in mine.named_parameters():
        assert close(param.grad, t_params[name].grad, dtype), name


def test_unbatched_input_matches_torch():
    rng = np.random.default_rng(5)
    mine, theirs = make_pair()
    x = rng.normal(size=(4, 8))
    out, w = mine(x, x, x)
    t_out, t_w = theirs(*[torch.tensor(x)] * 3)
    assert out.shape == (4, 8) and w.shape == (4, 4)
    assert close(out, t_out, np.float64) and close(w, t_w, np.float64)
    d = mine.backward(np.ones_like(out))
    assert all(g.shape == (4, 8) for g in d)


@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 2), L=st.integers(1, 3), S=st.integers(1, 3), heads=st.sampled_from([1, 2]),
       self_attention=st.booleans(), batch_first=st.booleans(), bias=st.booleans(),
       mask=st.sampled_from([None, "bool", "float", "padding"]), seed=st.integers(0, 2**16))
def test_multihead_attention_gradients(N, L, S, heads, self_attention, batch_first, bias, mask, seed):
    rng = np.random.default_rng(seed)
    E = 2 * heads
    S = L if self_attention else S
    layer = nn.MultiheadAttention(E, heads, bias=bias, batch_first=batch_first, seed=seed, dtype=np.float64)
    if bias:   # torch starts the biases at 0; make them non-zero so their gradient paths are exercised
        layer.in_proj_bias.data[:] = rng.normal(size=3 * E)
        layer.out_proj.bias.data[:] = rng.normal(size=E)
    q = layout(rng.normal(size=(N, L, E)), batch_first)
    k = q if self_attention else layout(rng.normal(size=(N, S, E)), batch_first)
    v = q if self_attention else layout(rng.normal(size=(N, S, E)), batch_first)
    kwargs = {}
    if mask in ("bool", "float"):
        allowed = random_mask(rng, (L, S), "bool")
        kwargs["attn_mask"] = ~allowed if mask == "bool" else np.where(allowed, rng.normal(size=(L, S)), -np.inf)
    elif mask == "padding":
        kwargs["key_padding_mask"] = ~F.padding_mask(rng.integers(1, S + 1, size=N), S)
    out, _ = layer(q, k, v, **kwargs)
    R = rng.normal(size=out.shape)
    layer.zero_grad()
    grads = layer.backward(R)

    def scalar(_):
        return float(np.sum(layer(q, k, v, **kwargs)[0] * R))

    inputs = [(q, sum(grads))] if self_attention else list(zip((q, k, v), grads))
    for x, analytic in inputs:
        assert relative_error(analytic, numerical_gradient(scalar, x)) < 1e-6
    for name, param in layer.named_parameters():
        assert relative_error(param.grad, numerical_gradient(scalar, param.data)) < 1e-6, name


def test_self_attention_without_positions_is_permutation_equivariant():
    rng = np.random.default_rng(6)
    layer = nn.MultiheadAttention(8, 2, batch_first=True, seed=1, dtype=np.float64)
    x = rng.normal(size=(2, 6, 8))
    perm = rng.permutation(6)
    out, w = layer(x, x, x)
    out_p, w_p = layer(x[:, perm], x[:, perm], x[:, perm])
    np.testing.assert_allclose(out_p, out[:, perm], atol=1e-12)              # f(P x) = P f(x)
    np.testing.assert_allclose(w_p, w[:, perm][:, :, perm], atol=1e-12)      # weights permute both axes


def test_init_parameters_and_state_dict_match_torch_layout():
    layer = nn.MultiheadAttention(12, 3, seed=0)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    t = torch.nn.MultiheadAttention(12, 3)
    assert shapes == {name: tuple(p.shape) for name, p in t.named_parameters()}
    assert sum(p.numel() for p in layer.parameters()) == 4 * 12 * 12 + 4 * 12
    bound = np.sqrt(6 / (12 + 36))
    assert np.abs(layer.in_proj_weight.data).max() <= bound
    assert np.abs(layer.in_proj_weight.data).max() > 0.8 * bound
    assert (layer.in_proj_bias.data == 0).all() and (layer.out_proj.bias.data == 0).all()
    assert np.abs(layer.out_proj.weight.data).max() <= 1 / np.sqrt(12)
    assert layer.in_proj_weight.dtype == np.float32
    t.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})   # names and shapes fit
    no_bias = nn.MultiheadAttention(4, 2, bias=False)
    assert [n for n, _ in no_bias.named_parameters()] == ["in_proj_weight", "out_proj.weight"]


@pytest.mark.parametrize("bias,batch_first", [(True, False), (False, True)])
def test_converters_round_trip(bias, batch_first):
    t = torch.nn.MultiheadAttention(8, 4, bias=bias, batch_first=batch_first)
    mine = nn.from_torch(t)
    assert isinstance(mine, nn.MultiheadAttention) and mine.batch_first == batch_first
    back = torch_nn.from_numpy(mine)
    for (name, a), (_, b) in zip(t.named_parameters(), back.named_parameters()):
        assert torch.equal(a, b), name
    seq = nn.from_torch(torch.nn.Sequential(torch.nn.Linear(8, 8)))
    assert isinstance(seq, nn.Sequential)


def test_converter_rejects_unsupported_options():
    from nncourse.errors import ConversionError
    with pytest.raises(ConversionError, match="add_bias_kv"):
        nn.from_torch(torch.nn.MultiheadAttention(8, 2, add_bias_kv=True))
    with pytest.raises(ConversionError, match="kdim"):
        nn.from_torch(torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=4))


def test_fully_masked_query_gives_zero_row_where_torch_gives_nan():
    layer = nn.MultiheadAttention(4, 2, batch_first=True, seed=0, dtype=np.float64)
    layer.out_proj.bias.data[:] = 0.5
    x = np.random.default_rng(7).normal(size=(1, 3, 4))
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[2] = True
    out, w = layer(x, x, x, attn_mask=blocked)
    assert np.isfinite(out).all() and (w[0, 2] == 0).all()
    np.testing.assert_allclose(out[0, 2], 0.5)          # zero attention output, then out_proj's bias
    assert all(np.isfinite(g).all() for g in layer.backward(np.ones_like(out)))


# ======================================================================== MultiheadAttention: errors
def test_multihead_attention_clear_errors():
    with pytest.raises(ConfigError, match="not divisible.*choose num_heads from \\[1, 2, 5, 10\\]"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ConfigError, match="dropout"):
        nn.MultiheadAttention(8, 2, 0.1)
    layer = nn.MultiheadAttention(8, 2, dtype=np.float64)                 # (seq, batch, embed)
    x = np.zeros((5, 3, 8))
    with pytest.raises(ShapeError, match="embed=8"):
        layer(np.zeros((5, 3, 6)), x, x)
    with pytest.raises(ShapeError, match="batch_first=True"):             # (batch, seq) arrays given
        layer(np.zeros((3, 5, 8)), np.zeros((3, 7, 8)), np.zeros((3, 7, 8)))
    with pytest.raises(ShapeError, match="batch_first=True"):             # a (seq, seq) mask, (batch, seq) arrays
        layer(np.zeros((3, 5, 8)), np.zeros((3, 5, 8)), np.zeros((3, 5, 8)), attn_mask=np.zeros((5, 5), dtype=bool))
    with pytest.raises(ShapeError, match="batch_first=False"):
        nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)(x, np.zeros((4, 3, 8)), np.zeros((4, 3, 8)))
    with pytest.raises(ShapeError, match="same sequence length"):
        layer(x, np.zeros((4, 3, 8)), np.zeros((6, 3, 8)))
    with pytest.raises(ShapeError, match="all be batched"):
        layer(x, np.zeros((5, 8)), np.zeros((5, 8)))
    with pytest.raises(ShapeError, match="attn_mask"):
        layer(x, x, x, attn_mask=np.zeros((4, 4), dtype=bool))
    with pytest.raises(ShapeError, match="looks transposed"):
        layer(x, np.zeros((6, 3, 8)), np.zeros((6, 3, 8)), attn_mask=np.zeros((6, 5), dtype=bool))
    with pytest.raises(ShapeError, match="key_padding_mask.*looks transposed"):
        layer(x, x, x, key_padding_mask=np.zeros((5, 3), dtype=bool))
    with pytest.raises(DTypeError, match="astype\\(bool\\)"):
        layer(x, x, x, attn_mask=np.zeros((5, 5), dtype=int))
    with pytest.raises(DTypeError, match="float32 weights but query is float64"):
        nn.MultiheadAttention(8, 2)(x, x, x)
    with pytest.raises(NonFiniteError):
        layer(np.full_like(x, np.nan), x, x)
    with pytest.raises(Exception, match="before forward"):
        nn.MultiheadAttention(8, 2).backward(x)
    layer(x, x, x)
    with pytest.raises(ShapeError, match="grad_output"):
        layer.backward(np.zeros((3, 5, 8)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_per_head_3d_mask_and_float_padding_mask_match_torch(batch_first):
    rng = np.random.default_rng(8)
    N, L, S, E, H = 2, 3, 4, 6, 3
    mine, theirs = make_pair(E, H, batch_first=batch_first)
    q = layout(rng.normal(size=(N, L, E)), batch_first)
    kv = layout(rng.normal(size=(N, S, E)), batch_first)
    per_head = ~random_mask(rng, (N * H, L, S), "bool")                  # (N*H, L, S), True = blocked
    padding = np.where(F.padding_mask(np.array([4, 2]), S), 0.0, -np.inf)   # float (N, S): added to the scores
    out, w = mine(q, kv, kv, attn_mask=per_head, key_padding_mask=padding, average_attn_weights=False)
    tq, tkv = torch.tensor(q, requires_grad=True), torch.tensor(kv, requires_grad=True)
    t_out, t_w = theirs(tq, tkv, tkv, attn_mask=torch.tensor(per_head), key_padding_mask=torch.tensor(padding),
                        average_attn_weights=False)
    rows_alive = np.isfinite(t_w.detach().numpy()).all(axis=-1)          # torch gives NaN for dead rows
    np.testing.assert_allclose(w[rows_alive], t_w.detach().numpy()[rows_alive], atol=1e-12)
    assert np.isfinite(out).all()
    if rows_alive.all():
        np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-12)
