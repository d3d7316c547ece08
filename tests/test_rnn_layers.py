"""Embedding, RNN, LSTM and GRU: gradient checks in float64, parity with torch, converters, clear errors.

Parity covers both ``batch_first`` settings, several lengths, one and two layers, with and without
an initial state, tanh and ReLU, with and without biases: the output, the final state, d input,
d initial state and every parameter gradient. Float64 agrees within 1e-10; float32 within 1e-5.
"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.numpy_nn as nn
from nncourse import torch_nn
from nncourse.errors import ConversionError, CourseError, DTypeError, ShapeError
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error

KINDS = {"rnn_tanh": (nn.RNN, {}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}), "lstm": (nn.LSTM, {}),
         "gru": (nn.GRU, {})}


def build(kind, input_size, hidden, num_layers, batch_first, bias=True, dtype=np.float64, seed=0):
    cls, extra = KINDS[kind]
    return cls(input_size, hidden, num_layers=num_layers, bias=bias, batch_first=batch_first,
               seed=seed, dtype=dtype, **extra)


def random_state(kind, layer, batch, rng, dtype):
    shape = (layer.num_layers, batch, layer.hidden_size) if batch else (layer.num_layers, layer.hidden_size)
    h = rng.normal(size=shape).astype(dtype)
    return (h, rng.normal(size=shape).astype(dtype)) if kind == "lstm" else h


def state_list(state):
    return list(state) if isinstance(state, tuple) else [state]


# ------------------------------------------------------------------------------------------- parity
PARITY_CASES = list(itertools.product(["rnn_tanh", "rnn_relu", "lstm", "gru"], [False, True], [1, 3, 7], [1, 2],
                                      [False, True]))


@pytest.mark.parametrize("kind,batch_first,length,num_layers,with_state", PARITY_CASES)
def test_parity_with_torch_float64(kind, batch_first, length, num_layers, with_state):
    check_parity(kind, batch_first, length, num_layers, with_state, np.float64, tol=1e-10)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_parity_with_torch_float32_no_bias_unbatched(kind, batch_first):
    check_parity(kind, batch_first, 6, 2, True, np.float32, tol=1e-5, bias=False)
    check_parity(kind, batch_first, 5, 1, True, np.float32, tol=1e-5, batch=None)


def check_parity(kind, batch_first, length, num_layers, with_state, dtype, tol, bias=True, batch=4):
    rng = np.random.default_rng(length * 10 + num_layers)
    layer = build(kind, 3, 5, num_layers, batch_first, bias=bias, dtype=dtype, seed=length)
    twin = torch_nn.from_numpy(layer)
    if batch is None:
        shape = (length, 3)
    else:
        shape = (batch, length, 3) if batch_first else (length, batch, 3)
    x = rng.normal(size=shape).astype(dtype)
    state = random_state(kind, layer, batch, rng, dtype) if with_state else None

    out, final = layer(x, state)
    xt = torch.tensor(x, requires_grad=True)
    state_t = None
    if with_state:
        state_t = [torch.tensor(s, requires_grad=True) for s in state_list(state)]
    out_t, final_t = twin(xt, None if state_t is None else (state_t[0] if kind != "lstm" else tuple(state_t)))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=tol, rtol=tol)
    for a, b in zip(state_list(final), state_list(final_t)):
        np.testing.assert_allclose(a, b.detach().numpy(), atol=tol, rtol=tol)

    g = rng.normal(size=out.shape).astype(dtype)
    g_final = [rng.normal(size=s.shape).astype(dtype) for s in state_list(final)]
    dx = layer.backward(g, *g_final)
    torch.autograd.backward([out_t, *state_list(final_t)], [torch.from_numpy(g), *map(torch.from_numpy, g_final)])
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=tol, rtol=tol)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(twin, name).grad.numpy(), atol=tol, rtol=tol, err_msg=name)
    if with_state:
        for a, b in zip(state_list(layer.grad_hx), state_t):
            np.testing.assert_allclose(a, b.grad.numpy(), atol=tol, rtol=tol)


def test_embedding_parity_and_scatter_add():
    emb = nn.Embedding(6, 4, seed=0, dtype=np.float64)
    twin = torch_nn.from_numpy(emb)
    x = np.array([[0, 5, 5], [2, 5, 0]])
    out = emb(x)
    out_t = twin(torch.from_numpy(x))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    g = np.random.default_rng(0).normal(size=out.shape)
    assert emb.backward(g) is None
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(emb.weight.grad, twin.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(emb.weight.grad[5], g[0, 1] + g[0, 2] + g[1, 1])   # used three times
    assert not emb.weight.grad[[1, 3, 4]].any()                                    # never used


def test_default_init_matches_torch_distributions():
    layer = nn.LSTM(10, 100, num_layers=2, seed=0)
    for name, p in layer.named_parameters():
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= 0.1 and np.abs(p.data).max() > 0.099, name
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in torch.nn.LSTM(10, 100, 2).named_parameters()]
    assert layer.weight_ih_l1.shape == (400, 100) and layer.bias_hh_l0.shape == (400,)
    emb = nn.Embedding(1000, 50, seed=0).weight.data
    assert abs(emb.mean()) < 0.01 and abs(emb.std() - 1) < 0.01


def test_converters_round_trip_every_option():
    for kind, bf, layers, bias in itertools.product(KINDS, [False, True], [1, 2], [False, True]):
        layer = build(kind, 3, 4, layers, bf, bias=bias, dtype=np.float32)
        back = nn.from_torch(torch_nn.from_numpy(layer))
        assert type(back) is type(layer) and repr(back) == repr(layer)
        for (n1, a), (n2, b) in zip(layer.named_parameters(), back.named_parameters()):
            assert n1 == n2 and a.dtype == b.dtype
            np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ConversionError, match="bidirectional"):
        nn.from_torch(torch.nn.LSTM(3, 4, bidirectional=True))
    with pytest.raises(ConversionError, match="padding_idx"):
        nn.from_torch(torch.nn.Embedding(5, 2, padding_idx=0))


def test_whole_language_model_converts_and_trains_like_torch():
    """Embedding -> LSTM -> Linear, ten SGD steps with clipping: same losses and weights in float64."""
    rng = np.random.default_rng(0)
    emb = nn.Embedding(27, 6, seed=1, dtype=np.float64)
    lstm = nn.LSTM(6, 8, batch_first=True, seed=2, dtype=np.float64)
    head = nn.Linear(8, 27, seed=3, dtype=np.float64)
    t_emb, t_lstm, t_head = map(torch_nn.from_numpy, (emb, lstm, head))
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    t_params = [*t_emb.parameters(), *t_lstm.parameters(), *t_head.parameters()]
    opt, t_opt = nn.SGD(params, lr=0.5), torch.optim.SGD(t_params, lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(10):
        x = rng.integers(0, 27, size=(5, 7))
        y = rng.integers(0, 27, size=(5, 7))
        for p in params:
            p.grad = None
        h, _ = lstm(emb(x))
        logits = head(h.reshape(-1, 8))
        loss = loss_fn(logits, y.ravel())
        emb.backward(lstm.backward(head.backward(loss_fn.backward()).reshape(h.shape)))
        nn.clip_grad_norm_(params, 1.0)
        opt.step()

        t_opt.zero_grad()
        th, _ = t_lstm(t_emb(torch.from_numpy(x)))
        t_loss = torch.nn.functional.cross_entropy(t_head(th.reshape(-1, 8)), torch.from_numpy(y.ravel()))
        t_loss.backward()
        torch_nn.clip_grad_norm_(t_params, 1.0)
        t_opt.step()
        assert loss == pytest.approx(t_loss.item(), abs=1e-10)
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p.data, t.detach().numpy(), atol=1e-10)


# ------------------------------------------------------------------------------- gradient checks
@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(KINDS)), batch_first=st.booleans(), length=st.integers(1, 5),
       batch=st.integers(1, 3), num_layers=st.integers(1, 2), hidden=st.integers(1, 4),
       bias=st.booleans(), with_state=st.booleans(), seed=st.integers(0, 1000))
def test_gradcheck_float64(kind, batch_first, length, batch, num_layers, hidden, bias, with_state, seed):
    rng = np.random.default_rng(seed)
    layer = build(kind, 2, hidden, num_layers, batch_first, bias=bias, seed=seed)
    x = rng.normal(size=(batch, length, 2) if batch_first else (length, batch, 2))
    state = state_list(random_state(kind, layer, batch, rng, np.float64)) if with_state else None

    def run():
        s = None if state is None else (state[0] if kind != "lstm" else tuple(state))
        return layer(x, s)

    out, final = run()
    R = rng.normal(size=out.shape)
    R_final = [rng.normal(size=s.shape) for s in state_list(final)]
    if kind == "rnn_relu":      # keep away from the kink of ReLU, where finite differences lie
        out_pre = out
        if (np.abs(out_pre[out_pre != 0]) < 1e-4).any():
            return

    def scalar(_=None):
        o, f = run()
        return float((o * R).sum() + sum((a * b).sum() for a, b in zip(state_list(f), R_final)))

    run()
    for p in layer.parameters():
        p.grad = None
    dx = layer.backward(R, *R_final)
    assert relative_error(dx, numerical_gradient(scalar, x)) < 1e-6
    for name, p in layer.named_parameters():
        assert relative_error(p.grad, numerical_gradient(scalar, p.data)) < 1e-6, name
    if with_state:
        for a, s in zip(state_list(layer.grad_hx), state):
            assert relative_error(a, numerical_gradient(scalar, s)) < 1e-6


def test_embedding_gradcheck():
    emb = nn.Embedding(5, 3, seed=0, dtype=np.float64)
    x = np.array([[1, 1, 4], [0, 1, 2]])
    R = np.random.default_rng(0).normal(size=(2, 3, 3))
    emb(x)
    emb.backward(R)
    numeric = numerical_gradient(lambda _: float((emb(x) * R).sum()), emb.weight.data)
    assert relative_error(emb.weight.grad, numeric) < 1e-8


# ---------------------------------------------------------------------------------- clear errors
def test_embedding_errors():
    emb = nn.Embedding(27, 4, seed=0)
    with pytest.raises(CourseError, match=r"index 27 is out of range.*0\.\.26"):
        emb(np.array([3, 27]))
    with pytest.raises(CourseError, match="out of range"):
        emb(np.array([-1]))
    with pytest.raises(DTypeError, match="integer indices.*astype"):
        emb(np.array([1.0, 2.0]))


def test_batch_first_mix_up_is_named():
    layer = nn.RNN(3, 5)                                    # expects (time, batch, features)
    x = np.zeros((4, 9, 3), dtype=np.float32)               # really (batch=4, time=9)
    with pytest.raises(ShapeError, match="batch_first=True"):
        layer(x, np.zeros((1, 4, 5), dtype=np.float32))
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = np.zeros((9, 4, 3), dtype=np.float32)               # really (time=9, batch=4)
    with pytest.raises(ShapeError, match="batch_first=False"):
        lstm(x, (np.zeros((1, 4, 5), np.float32), np.zeros((1, 4, 5), np.float32)))


def test_wrong_state_and_input_shapes():
    layer = nn.LSTM(3, 5, num_layers=2)
    x = np.zeros((6, 2, 3), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"h_0 must have shape.*\(2, 2, 5\)"):
        layer(x, (np.zeros((1, 2, 5), np.float32), np.zeros((2, 2, 5), np.float32)))
    with pytest.raises(ShapeError, match="pair"):
        layer(x, np.zeros((2, 2, 5), np.float32))
    with pytest.raises(ShapeError, match=r"add the layer axis"):
        nn.RNN(3, 5)(x, np.zeros((2, 5), np.float32))
    with pytest.raises(ShapeError, match="input_size=3"):
        layer(np.zeros((6, 2, 4), np.float32))
    with pytest.raises(DTypeError, match="Embedding"):
        layer(np.zeros((6, 2, 3), dtype=np.int64))
    with pytest.raises(DTypeError, match="astype"):
        layer(np.zeros((6, 2, 3)))
    out, _ = layer(x)
    with pytest.raises(ShapeError, match="grad_c_n"):
        layer.backward(np.zeros_like(out), None, np.zeros((2, 5), np.float32))
    with pytest.raises(CourseError, match="before forward"):
        nn.RNN(3, 5).backward(np.zeros((6, 2, 5), np.float32))
