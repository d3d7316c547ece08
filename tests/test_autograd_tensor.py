"""``nncourse.autograd.Tensor`` against torch.autograd (float64, 1e-10) and against numpy_nn's
hand-written backward passes: random broadcasting graphs, every operation, chapter 6's MLP, chapter 9's
causal attention, and a training run that must match ``nncourse.train.fit`` to 1e-9.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nncourse import numpy_nn
from nncourse.autograd import Tensor, functional as F, nn, no_grad, tensor, unbroadcast
from nncourse.autograd.nn import from_numpy
from nncourse.data import blobs
from nncourse.errors import ConfigError, ConversionError, CourseError, DTypeError, ShapeError, TargetError
from nncourse.train import fit

TOL = dict(rtol=1e-10, atol=1e-10)


def pair(array):
    """The same float64 leaf in both engines."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array.copy(), requires_grad=True)


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, Tensor) else ours
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, **TOL)


# ------------------------------------------------------------------ random graphs with broadcasting
UNARY = {
    "exp_tanh": (lambda a: a.tanh().exp(), lambda a: a.tanh().exp()),
    "log_square": (lambda a: (a * a + 1.0).log(), lambda a: (a * a + 1.0).log()),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh()),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    "relu": (lambda a: a.relu(), lambda a: a.relu()),
    "gelu": (lambda a: a.gelu(), lambda a: torch.nn.functional.gelu(a)),
    "gelu_tanh": (lambda a: a.gelu("tanh"), lambda a: torch.nn.functional.gelu(a, approximate="tanh")),
    "square": (lambda a: a ** 2, lambda a: a ** 2),
    "softmax": (lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    "log_softmax": (lambda a: a.log_softmax(0), lambda a: a.log_softmax(0)),
    "mean_keep": (lambda a: a.mean(-1, keepdims=True), lambda a: a.mean(-1, keepdim=True)),
    "sum_keep": (lambda a: a.sum(0, keepdims=True), lambda a: a.sum(0, keepdim=True)),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "scalar": lambda a, b: 0.5 * a - b / 3.0 + 1.0,
}


@st.composite
def broadcasting_graph(draw):
    ndim = draw(st.integers(1, 3))
    full = draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    shapes = []
    for _ in range(draw(st.integers(2, 4))):
        drop = draw(st.integers(0, ndim - 1))              # broadcasting prepends missing axes ...
        shape = [1 if draw(st.booleans()) else n for n in full[drop:]]   # ... and stretches 1s
        shapes.append(tuple(shape))
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        n = len(shapes) + len(steps)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, n - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, n - 1)),
                          draw(st.integers(0, n - 1))))
    seed = draw(st.integers(0, 2**16))
    return shapes, steps, seed


@settings(max_examples=60, deadline=None)
@given(broadcasting_graph())
def test_random_broadcasting_graphs_match_torch(graph):
    shapes, steps, seed = graph
    rng = np.random.default_rng(seed)
    leaves = [pair(rng.normal(size=s)) for s in shapes]
    ours, theirs = [l[0] for l in leaves], [l[1] for l in leaves]
    for name, *args in steps:
        if name in UNARY:
            f, f_t = UNARY[name]
            ours.append(f(ours[args[0]]))
            theirs.append(f_t(theirs[args[0]]))
        else:
            ours.append(BINARY[name](*(ours[i] for i in args)))
            theirs.append(BINARY[name](*(theirs[i] for i in args)))
    out = sum((node * 1.0).sum() for node in ours[len(shapes):])      # every new node counts
    out_t = sum((node * 1.0).sum() for node in theirs[len(shapes):])
    out.backward()
    out_t.backward()
    assert math.isclose(out.item(), out_t.item(), rel_tol=1e-12, abs_tol=1e-12)
    for a, t in zip(ours[:len(shapes)], theirs[:len(shapes)]):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        assert got.shape == a.shape
        np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("shape, target", [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)),
                                           ((2, 3), ()), ((2, 1, 3), (1, 5, 1))])
def test_unbroadcast_sums_to_the_input_shape(shape, target):
    g = np.random.default_rng(0).normal(size=np.broadcast_shapes(shape, target))
    a, a_t = pair(np.ones(shape))
    b, b_t = pair(np.ones(target))
    (a * b).backward(g)
    (a_t * b_t).backward(torch.from_numpy(g))
    assert unbroadcast(g, target).shape == target
    assert_close(b.grad, b_t.grad)


# ------------------------------------------------------------------ every operation against torch
RNG = np.random.default_rng(1)


@pytest.mark.parametrize("left, right", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                                         ((5, 2), (2, 5))])
def test_matmul_including_batched_broadcasting(left, right):
    a, a_t = pair(RNG.normal(size=left))
    b, b_t = pair(RNG.normal(size=right))
    g = RNG.normal(size=np.matmul(np.empty(left), np.empty(right)).shape)
    out, out_t = a @ b, a_t @ b_t
    assert_close(out, out_t)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert_close(a.grad, a_t.grad)
    assert_close(b.grad, b_t.grad)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False), ((0, 2), True),
                                            ((0, 2), False)])
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_sum_and_mean_over_axes(axis, keepdims, reduce):
    x, x_t = pair(RNG.normal(size=(2, 3, 4)))
    out = getattr(x, reduce)(axis=axis, keepdims=keepdims)
    dim = () if axis is None else axis
    out_t = getattr(x_t, reduce)(dim=dim, keepdim=keepdims) if axis is not None else getattr(x_t, reduce)()
    assert_close(out, out_t)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)


def test_shape_operations():
    x, x_t = pair(RNG.normal(size=(2, 3, 4)))
    out = x.reshape(6, 4).T.reshape(4, 2, 3).permute(2, 0, 1).transpose(0, 2)
    out_t = x_t.reshape(6, 4).T.reshape(4, 2, 3).permute(2, 0, 1).transpose(0, 2)
    assert_close(out, out_t)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)


@pytest.mark.parametrize("index", [np.s_[1], np.s_[:, 1:3], np.s_[1:, 0], np.s_[np.array([0, 2, 0, 0])],
                                   np.s_[np.array([[1, 1], [0, 2]]), np.array([[0, 3], [3, 3]])]])
def test_indexing_adds_the_gradient_of_repeated_entries(index):
    x, x_t = pair(RNG.normal(size=(3, 4)))
    idx_t = tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in
                  (index if isinstance(index, tuple) else (index,)))
    out, out_t = x[index], x_t[idx_t]
    assert_close(out, out_t)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)


def test_embedding_and_gather():
    weight, weight_t = pair(RNG.normal(size=(6, 3)))
    ids = np.array([[0, 5, 5], [2, 0, 1]])
    emb = F.embedding(ids, weight)
    emb_t = torch.nn.functional.embedding(torch.from_numpy(ids), weight_t)
    assert_close(emb, emb_t)
    x, x_t = pair(RNG.normal(size=(4, 5)))
    index = np.array([[0, 4], [1, 1], [3, 0], [2, 2]])
    picked, picked_t = x.gather(1, index), x_t.gather(1, torch.from_numpy(index))
    assert_close(picked, picked_t)
    ((emb * emb).sum() + (picked * 3.0).sum()).backward()
    ((emb_t * emb_t).sum() + (picked_t * 3.0).sum()).backward()
    assert_close(weight.grad, weight_t.grad)
    assert_close(x.grad, x_t.grad)


def test_cat_hands_each_input_its_slice():
    parts = [pair(RNG.normal(size=(2, n))) for n in (1, 3, 2)]
    out = F.cat([p[0] for p in parts], dim=1)
    out_t = torch.cat([p[1] for p in parts], dim=1)
    assert_close(out, out_t)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    for ours, theirs in parts:
        assert_close(ours.grad, theirs.grad)


def test_masked_fill_blocks_the_gradient_of_filled_entries():
    x, x_t = pair(RNG.normal(size=(2, 4, 4)))
    mask = np.triu(np.ones((4, 4), dtype=bool), k=1)
    out = x.masked_fill(mask, -1e9).softmax(-1)
    out_t = x_t.masked_fill(torch.from_numpy(mask), -1e9).softmax(-1)
    assert_close(out, out_t)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)
    assert (x.grad[:, mask] == 0).all()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_with_ignore_index(reduction):
    logits, logits_t = pair(RNG.normal(size=(6, 5)) * 3)
    target = np.array([1, -100, 4, 0, -100, 4])
    loss = F.cross_entropy(logits, target, reduction=reduction)
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(target), reduction=reduction)
    assert math.isclose(loss.item(), loss_t.item(), rel_tol=1e-12)
    loss.backward()
    loss_t.backward()
    assert_close(logits.grad, logits_t.grad)
    assert (logits.grad[target == -100] == 0).all()


def test_sigmoid_is_finite_for_large_inputs():
    x, x_t = pair(np.array([-800.0, -30.0, 0.0, 30.0, 800.0]))
    x.sigmoid().sum().backward()
    x_t.sigmoid().sum().backward()
    assert np.isfinite(x.grad).all()
    assert_close(x.grad, x_t.grad)


# ------------------------------------------------------------------ the engine's rules (as torch)
def test_leaf_gradients_accumulate_until_zero_grad():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * (2 * w.data))
    w.zero_grad()
    assert w.grad is None


def test_a_second_backward_through_a_freed_graph_is_refused_like_torch():
    w = Tensor(np.ones(3), requires_grad=True)
    loss = (w.tanh() * 2.0).sum()
    loss.backward()
    with pytest.raises(CourseError, match="backward through the graph a second time.*forward pass again"):
        loss.backward()
    w_t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    loss_t = (w_t.tanh() * 2.0).sum()
    loss_t.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss_t.backward()


def test_retain_graph_allows_a_second_backward():
    w = Tensor(np.ones(3), requires_grad=True)
    loss = (w.tanh() * 2.0).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * 2 * (1 - np.tanh(1.0) ** 2), rtol=1e-15)


def test_no_grad_and_detach_record_nothing():
    w = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = w * 2.0
    assert not y.requires_grad and y.is_leaf
    y = w * 2.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.data, y.data)          # the same numbers, as torch's detach: no copy
    z = (d * w).sum()
    z.backward()
    np.testing.assert_array_equal(w.grad, d.data)


def test_tensors_without_requires_grad_get_no_gradient():
    a = Tensor(np.ones(2))
    b = Tensor(np.ones(2), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad is None and b.grad is not None


def test_float32_stays_float32():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = (x * 2 + 1).tanh().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


# ------------------------------------------------------------------ chapter 6's MLP
def _mnist_like(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), rng.integers(0, 10, n)


def test_mlp_gradients_equal_numpy_nn_and_torch():
    X, y = _mnist_like()
    model = numpy_nn.mlp([784, 64, 32, 10], seed=0, dtype=np.float64)
    engine = from_numpy(model)
    torch_model = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                                      torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
    with torch.no_grad():
        for t, p in zip(torch_model.parameters(), model.parameters()):
            t.copy_(torch.from_numpy(p.data))

    loss_fn = numpy_nn.CrossEntropyLoss()
    loss = loss_fn(model(X), y)
    model.zero_grad()
    model.backward(loss_fn.backward())

    engine_loss = F.cross_entropy(engine(Tensor(X)), y)
    engine_loss.backward()

    torch_loss = torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(X)), torch.from_numpy(y))
    torch_loss.backward()

    assert math.isclose(engine_loss.item(), loss, rel_tol=1e-12)
    assert math.isclose(engine_loss.item(), torch_loss.item(), rel_tol=1e-12)
    for p, e, t in zip(model.parameters(), engine.parameters(), torch_model.parameters()):
        np.testing.assert_allclose(e.grad, p.grad, **TOL)
        np.testing.assert_allclose(e.grad, t.grad.numpy(), **TOL)


# ------------------------------------------------------------------ chapter 9's attention layer
def causal_self_attention(x, in_proj_weight, in_proj_bias, out_weight, out_bias, num_heads):
    """torch.nn.MultiheadAttention (batch_first, self-attention, causal), from Tensor operations."""
    N, L, E = x.shape
    H, D = num_heads, E // num_heads
    qkv = F.linear(x, in_proj_weight, in_proj_bias)                       # (N, L, 3E)
    q, k, v = (qkv[:, :, i * E:(i + 1) * E].reshape(N, L, H, D).permute(0, 2, 1, 3) for i in range(3))
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)                       # (N, H, L, L)
    blocked = np.triu(np.ones((L, L), dtype=bool), k=1)                   # a query may not see the future
    weights = scores.masked_fill(blocked, -np.inf).softmax(-1)
    heads = (weights @ v).permute(0, 2, 1, 3).reshape(N, L, E)            # merge the heads
    return F.linear(heads, out_weight, out_bias)


@pytest.mark.parametrize("N, L, E, H", [(2, 5, 8, 2), (1, 3, 6, 3), (3, 4, 4, 1)])
def test_causal_attention_from_tensors_equals_numpy_nn_and_torch(N, L, E, H):
    rng = np.random.default_rng(N * 100 + L)
    layer = numpy_nn.MultiheadAttention(E, H, batch_first=True, seed=0, dtype=np.float64)
    layer.in_proj_bias.data[:] = rng.normal(size=3 * E)
    layer.out_proj.bias.data[:] = rng.normal(size=E)
    x_np = rng.normal(size=(N, L, E))
    g = rng.normal(size=(N, L, E))

    out_np, _ = layer(x_np, x_np, x_np, need_weights=False, is_causal=True)
    layer.zero_grad()
    dq, dk, dv = layer.backward(g)
    dx_np = dq + dk + dv

    x = Tensor(x_np, requires_grad=True)
    params = [Tensor(a.copy(), requires_grad=True) for a in
              (layer.in_proj_weight.data, layer.in_proj_bias.data, layer.out_proj.weight.data,
               layer.out_proj.bias.data)]
    out = causal_self_attention(x, *params, num_heads=H)
    out.backward(g)

    torch_layer = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for t, p in zip((torch_layer.in_proj_weight, torch_layer.in_proj_bias, torch_layer.out_proj.weight,
                         torch_layer.out_proj.bias), params):
            t.copy_(torch.from_numpy(p.data))
    x_t = torch.tensor(x_np, requires_grad=True)
    mask = torch.from_numpy(np.triu(np.ones((L, L), dtype=bool), k=1))
    out_t, _ = torch_layer(x_t, x_t, x_t, attn_mask=mask, need_weights=False)
    out_t.backward(torch.from_numpy(g))

    np.testing.assert_allclose(out.data, out_np, **TOL)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **TOL)
    np.testing.assert_allclose(x.grad, dx_np, **TOL)
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), **TOL)
    numpy_grads = (layer.in_proj_weight.grad, layer.in_proj_bias.grad, layer.out_proj.weight.grad,
                   layer.out_proj.bias.grad)
    torch_grads = (torch_layer.in_proj_weight.grad, torch_layer.in_proj_bias.grad,
                   torch_layer.out_proj.weight.grad, torch_layer.out_proj.bias.grad)
    for p, n, t in zip(params, numpy_grads, torch_grads):
        np.testing.assert_allclose(p.grad, n, **TOL)
        np.testing.assert_allclose(p.grad, t.numpy(), **TOL)


# ------------------------------------------------------------------ a training run against fit
def engine_fit(model, X, y, *, lr, epochs, batch_size, seed, momentum=0.0):
    """fit's loop (the same shuffles from the same seed) with the engine doing the backward pass."""
    optimizer = nn.SGD(model.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            loss = F.cross_entropy(model(Tensor(X[rows])), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        losses.append(total / len(X))
    return losses


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_training_with_the_engine_matches_fit_with_numpy_nn(momentum):
    X, y = blobs(240, n_classes=3, seed=0)
    reference = numpy_nn.mlp([2, 16, 16, 3], activation="tanh", seed=3, dtype=np.float64)
    engine = from_numpy(reference)
    optimizer = numpy_nn.SGD(reference.parameters(), lr=0.2 * (1 - momentum), momentum=momentum)
    history = fit(reference, numpy_nn.CrossEntropyLoss(), optimizer, (X, y), epochs=4, batch_size=16,
                  seed=5, quiet=True)
    losses = engine_fit(engine, X, y, lr=0.2 * (1 - momentum), epochs=4, batch_size=16, seed=5,
                        momentum=momentum)                                        # 60 steps
    np.testing.assert_allclose(losses, history["loss"], rtol=1e-9, atol=1e-12)
    assert losses[-1] < 0.5 * losses[0]                                            # it did learn
    for p, e in zip(reference.parameters(), engine.parameters()):
        np.testing.assert_allclose(e.data, p.data, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ bad input: class and words
def test_integer_data_is_refused():
    with pytest.raises(DTypeError, match=r"floating-point.*np.asarray\(data, dtype=np.float64\)"):
        Tensor(np.arange(3))
    assert tensor([1, 2]).dtype == np.float64


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(CourseError, match=r"only for a tensor with one element.*\(2, 3\).*\.sum\(\)"):
        (x * 2.0).backward()


def test_backward_gradient_of_the_wrong_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"gradient has shape \(3,\).*\(2, 3\).*match"):
        (x * 2.0).backward(np.ones(3))


def test_backward_without_any_requires_grad():
    with pytest.raises(CourseError, match="does not require grad.*requires_grad=True"):
        (Tensor(np.ones(2)) * 2.0).sum().backward()


def test_shapes_that_do_not_broadcast():
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(2,\) cannot be broadcast.*reshape\(-1, 1\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(2))


def test_matmul_shape_mismatch_and_vectors():
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(2, 3\) do not fit.*transpose"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"at least 2 dimensions.*reshape\(1, -1\)"):
        Tensor(np.ones(3)) @ Tensor(np.ones((3, 2)))


def test_reshape_to_a_different_size():
    with pytest.raises(ShapeError, match=r"cannot reshape.*\(2, 3\).*\(4, 2\).*number of entries"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_log_of_non_positive_entries():
    with pytest.raises(CourseError, match="1 of the 2 entries are <= 0.*log_softmax"):
        Tensor(np.array([1.0, 0.0])).log()


def test_item_of_a_tensor_with_several_entries():
    with pytest.raises(ShapeError, match=r"one element.*\(3,\).*\.sum\(\)"):
        Tensor(np.ones(3)).item()


def test_tensor_exponent_and_tensor_index_are_refused():
    with pytest.raises(DTypeError, match=r"plain number.*exp\(\)"):
        Tensor(np.ones(2)) ** Tensor(np.ones(2))
    with pytest.raises(DTypeError, match="NumPy integer or boolean arrays"):
        Tensor(np.ones(3))[Tensor(np.zeros(1))]


def test_gather_and_embedding_indices():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(DTypeError, match=r"integers.*astype\(np.int64\)"):
        x.gather(1, np.zeros((2, 1)))
    with pytest.raises(CourseError, match=r"out of range.*3 entries \(0..2\)"):
        x.gather(1, np.array([[3], [0]]))
    with pytest.raises(ShapeError, match="as many dimensions"):
        x.gather(1, np.array([0, 1]))
    with pytest.raises(TargetError, match=r"has 2 rows \(0..1\).*0 to 5"):
        F.embedding(np.array([0, 5]), x)
    with pytest.raises(DTypeError, match="indices must be integers"):
        F.embedding(np.array([0.0]), x)


def test_cross_entropy_bad_targets():
    logits = Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(TargetError, match=r"classes from 0 to 4.*4 classes \(0..3\)"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(TargetError, match=r"integer class indices.*not one-hot"):
        F.cross_entropy(logits, np.zeros((3,)))
    with pytest.raises(TargetError, match=r"shape \(3,\)"):
        F.cross_entropy(logits, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(TargetError, match="every target equals ignore_index=-100.*leave out"):
        F.cross_entropy(logits, np.full(3, -100))
    with pytest.raises(ShapeError, match=r"\(N, C\).*reshape\(-1, C\)"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ConfigError, match="reduction must be 'mean' or 'sum'"):
        F.cross_entropy(logits, np.array([0, 1, 2]), reduction="none")


def test_masked_fill_bad_masks():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(DTypeError, match=r"boolean array.*np.triu"):
        x.masked_fill(np.zeros((2, 3)), 0.0)
    with pytest.raises(ShapeError, match=r"\(4,\) cannot be broadcast.*\(2, 3\)"):
        x.masked_fill(np.zeros(4, dtype=bool), 0.0)
    with pytest.raises(ShapeError, match="would change the tensor's shape"):
        x.masked_fill(np.zeros((5, 2, 3), dtype=bool), 0.0)


def test_cat_and_gelu_and_sgd_and_conversion_errors():
    with pytest.raises(ShapeError, match=r"cannot be joined along dim=0.*other axes"):
        F.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], dim=0)
    with pytest.raises(DTypeError, match="non-empty list of Tensors"):
        F.cat([np.ones(2)])
    with pytest.raises(ConfigError, match="'none' or 'tanh'"):
        Tensor(np.ones(2)).gelu("fast")
    with pytest.raises(ConfigError, match="lr must be a positive number"):
        nn.SGD([], lr=0)
    with pytest.raises(ConfigError, match=r"momentum must be in \[0, 1\)"):
        nn.SGD([], lr=0.1, momentum=1.0)
    with pytest.raises(ConversionError, match="layer 1 is a Dropout.*Linear"):
        from_numpy(numpy_nn.Sequential(numpy_nn.Linear(2, 2), numpy_nn.Dropout(0.1)))


def test_a_custom_op_whose_backward_returns_the_wrong_thing():
    x = Tensor(np.ones(3), requires_grad=True)
    bad = Tensor.from_op(np.exp(x.data), (x,), lambda g: g * np.exp(x.data), op="exp")
    with pytest.raises(CourseError, match=r"'exp' operation returned ndarray.*tuple with one gradient per "
                                          r"input \(1\).*lambda g: \(g \* out,\)"):
        bad.sum().backward()
    wrong_shape = Tensor.from_op(np.exp(x.data), (x,), lambda g: (g.sum(),), op="exp")
    with pytest.raises(ShapeError, match=r"gradient of shape \(\) for an input of shape \(3,\)"):
        wrong_shape.sum().backward()
