"""The transformer block and the GPT (chapter 10): gradient checks in float64, parity with the torch
twin (logits, every gradient, optimizer steps with a warm-up + cosine schedule and clipping),
conversion and saving both ways, sampling, and clear errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nncourse.models.torch as torch_models
import nncourse.numpy_nn as nn
from nncourse import models, torch_nn
from nncourse.errors import ConfigError, DTypeError, ShapeError, TargetError
from nncourse.numpy_nn import lr_scheduler as np_sched
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error

CONFIG = dict(vocab_size=7, context_length=6, d_model=8, n_heads=2, n_layers=2)


def _tokens(shape, vocab=7, seed=0):
    return np.random.default_rng([seed, 3]).integers(0, vocab, size=shape)


def _randomise(model, seed):
    """Move every parameter away from its special starting value (ones, zeros) for a fair check."""
    rng = np.random.default_rng([seed, 5])
    for _, p in model.named_parameters():
        p.data = p.data + rng.normal(0, 0.3, size=p.shape)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 2), t=st.integers(1, 4),
       heads=st.sampled_from([1, 2, 4]))
def test_block_gradcheck(seed, n, t, heads):
    block = nn.TransformerBlock(8, heads, seed=seed, dtype=np.float64)
    _randomise(block, seed)
    x = np.random.default_rng([seed, 9]).normal(size=(n, t, 8))
    result = nn.gradcheck(block, x)
    assert result.passed, result


@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_gpt_gradcheck_every_parameter(seed):
    model = models.GPT(5, 4, 4, 2, 2, seed=seed, dtype=np.float64)
    _randomise(model, seed)
    idx = _tokens((2, 4), vocab=5, seed=seed)
    idx[0, :2] = 3                                     # a token used twice: its row gets two gradients
    upstream = np.random.default_rng(seed).normal(size=(2, 4, 5))
    model.zero_grad()
    model(idx)
    model.backward(upstream)

    def scalar(_):
        return float(np.sum(model(idx) * upstream))

    for name, p in model.named_parameters():
        error = relative_error(p.grad, numerical_gradient(scalar, p.data))
        assert error < 1e-6, (name, error)


def _pair(dtype=np.float64, seed=0, **overrides):
    config = {**CONFIG, **overrides}
    return (models.GPT(**config, seed=seed, dtype=dtype),
            torch_models.GPT(**config, seed=seed, dtype=dtype))


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)


@pytest.mark.parametrize("seed, shape", [(0, (3, 6)), (1, (2, 1)), (2, (4, 4))])
def test_parity_logits_and_every_gradient_float64(seed, shape):
    ours, theirs = _pair(seed=seed)
    _randomise(ours, seed)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    idx = _tokens(shape, seed=seed)
    logits = ours(idx)
    logits_t = theirs(torch.from_numpy(idx))
    assert logits.shape == (*shape, CONFIG["vocab_size"]) == tuple(logits_t.shape)
    assert _rel(logits, logits_t.detach().numpy()) <= 1e-10
    g = np.random.default_rng(seed).normal(size=logits.shape)
    ours.backward(g)
    logits_t.backward(torch.from_numpy(g))
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        assert _rel(p.grad, grads_t[name].grad.numpy()) <= 1e-10, name


def _cross_entropy_grad(logits, targets):
    """Mean cross-entropy over every position and its gradient (float64 reference)."""
    N, T, V = logits.shape
    z = logits.reshape(-1, V)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    flat = targets.reshape(-1)
    loss = -np.log(p[np.arange(flat.size), flat]).mean()
    p[np.arange(flat.size), flat] -= 1
    return loss, (p / flat.size).reshape(N, T, V)


def test_parity_adamw_warmup_cosine_and_clipping_for_five_steps():
    ours, theirs = _pair(seed=3)
    opt = nn.AdamW(ours.parameters(), lr=1e-2, weight_decay=0.1)
    opt_t = torch.optim.AdamW(theirs.parameters(), lr=1e-2, weight_decay=0.1)
    sched = np_sched.SequentialLR(opt, [np_sched.LinearLR(opt, 0.1, total_iters=2),
                                        np_sched.CosineAnnealingLR(opt, T_max=3)], milestones=[2])
    T = torch.optim.lr_scheduler
    sched_t = T.SequentialLR(opt_t, [T.LinearLR(opt_t, 0.1, total_iters=2), T.CosineAnnealingLR(opt_t, T_max=3)],
                             milestones=[2])
    for step in range(5):
        idx = _tokens((4, 6), seed=10 + step)
        targets = _tokens((4, 6), seed=20 + step)
        logits = ours(idx)
        loss, grad = _cross_entropy_grad(logits, targets)
        opt.zero_grad()
        ours.backward(grad)
        norm = nn.clip_grad_norm_(ours.parameters(), 0.5)
        opt.step()
        sched.step()
        logits_t = theirs(torch.from_numpy(idx))
        loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(-1, 7), torch.from_numpy(targets).reshape(-1))
        opt_t.zero_grad()
        loss_t.backward()
        norm_t = torch_nn.clip_grad_norm_(theirs.parameters(), 0.5)
        opt_t.step()
        sched_t.step()
        assert loss == pytest.approx(loss_t.item(), rel=1e-10)
        assert norm == pytest.approx(float(norm_t), rel=1e-10)
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        assert _rel(value, theirs_state[name].numpy()) <= 1e-10, name


def test_float32_parity():
    ours, theirs = _pair(dtype=np.float32, seed=4)
    idx = _tokens((3, 6), seed=4)
    logits = ours(idx)
    assert logits.dtype == np.float32
    np.testing.assert_allclose(logits, theirs(torch.from_numpy(idx)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_same_seed_same_weights_and_seed_matters():
    a, b = _pair(seed=7)
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[name].numpy())
    c = models.GPT(**CONFIG, seed=8)
    assert not np.array_equal(c.state_dict()["wte.weight"], models.GPT(**CONFIG, seed=7).state_dict()["wte.weight"])


def test_conversion_both_ways_and_saving(tmp_path):
    from nncourse.io import load_torch_model, save_torch_model

    ours, theirs = _pair(seed=5)
    _randomise(ours, 5)
    idx = _tokens((2, 5), seed=5)
    there = torch_nn.from_numpy(ours)
    assert isinstance(there, torch_models.GPT)
    np.testing.assert_allclose(there(torch.from_numpy(idx)).detach().numpy(), ours(idx), rtol=1e-12, atol=1e-12)
    back = nn.from_torch(there)
    assert isinstance(back, models.GPT)
    np.testing.assert_array_equal(back(idx), ours(idx))
    # a torch state dict saved from the torch twin loads into the NumPy model, and back
    save_torch_model(there, tmp_path / "gpt.pt")
    fresh = load_torch_model(torch_models.GPT(**CONFIG, seed=99, dtype=torch.float64), tmp_path / "gpt.pt")
    loaded = models.GPT(**CONFIG, seed=99, dtype=np.float64).load_state_dict(
        {k: v.numpy() for k, v in fresh.state_dict().items()})
    np.testing.assert_array_equal(loaded(idx), ours(idx))


def test_layernorm_and_gelu_convert():
    ln = torch.nn.LayerNorm(5, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.normal_()
    x = np.random.default_rng(0).normal(size=(2, 5))
    np.testing.assert_allclose(nn.from_torch(ln)(x), ln(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    back = torch_nn.from_numpy(nn.from_torch(ln))
    np.testing.assert_array_equal(back.weight.detach().numpy(), ln.weight.detach().numpy())
    assert nn.from_torch(torch.nn.GELU("tanh")).approximate == "tanh"
    assert torch_nn.from_numpy(nn.GELU()).approximate == "none"


def test_generate_shapes_seeds_and_top_k():
    model = models.GPT(**CONFIG, seed=0)
    start = np.zeros((5, 1), dtype=np.int64)
    out = model.generate(start, 10, seed=1)                       # longer than context_length: cropped
    assert out.shape == (5, 11) and out.dtype == np.int64
    np.testing.assert_array_equal(out, model.generate(start, 10, seed=1))
    assert not np.array_equal(out, model.generate(start, 10, seed=2))
    greedy = model.generate(start, 4, top_k=1, seed=3)
    np.testing.assert_array_equal(greedy, model.generate(start, 4, top_k=1, seed=4))  # top-1 = argmax
    assert model.training                                         # mode restored
    torch_out = torch_models.GPT(**CONFIG, seed=0).generate(torch.zeros(5, 1, dtype=torch.long), 10, seed=1)
    assert tuple(torch_out.shape) == (5, 11)
    # top-1 sampling is deterministic, so both back ends pick the same tokens (float64)
    a, b = _pair(seed=0)
    np.testing.assert_array_equal(a.generate(start, 4, top_k=1),
                                  b.generate(torch.from_numpy(start), 4, top_k=1).numpy())


def test_sampling_probabilities_top_k_and_temperature():
    from nncourse.models.gpt import sampling_probabilities

    logits = np.array([[2.0, 1.0, 0.0, -1.0]])
    p = sampling_probabilities(logits, 1.0, top_k=2)
    assert p[0, 2] == 0 and p[0, 3] == 0 and p.sum() == pytest.approx(1)
    assert p[0, 0] == pytest.approx(np.e / (np.e + 1))
    cold = sampling_probabilities(logits, 0.1)
    hot = sampling_probabilities(logits, 10.0)
    assert cold[0, 0] > 0.99 and hot[0, 0] < 0.3


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_clear_errors(backend):
    build = models.GPT if backend == "numpy" else torch_models.GPT
    model = build(**CONFIG, seed=0)
    as_input = (lambda a: a) if backend == "numpy" else torch.from_numpy
    with pytest.raises(ShapeError, match=r"7 tokens but context_length is 6.*idx\[:, -6:\]"):
        model(as_input(_tokens((2, 7))))
    with pytest.raises(TargetError, match=r"token id 7 is out of range.*\[0, 6\]"):
        model(as_input(np.array([[1, 7]])))
    with pytest.raises(TargetError, match=r"token id -1"):
        model(as_input(np.array([[1, -1]])))
    with pytest.raises(DTypeError, match="integer token ids"):
        model(as_input(np.zeros((1, 2))))
    with pytest.raises(ConfigError, match=r"d_model=10 is not divisible by n_heads=4.*pick n_heads from \[2, 5\]"):
        build(7, 6, 10, 4, 1)
    with pytest.raises(ConfigError, match="temperature"):
        model.generate(as_input(np.zeros((1, 1), dtype=np.int64)), 2, temperature=0)
    with pytest.raises(ConfigError, match="top_k"):
        model.generate(as_input(np.zeros((1, 1), dtype=np.int64)), 2, top_k=8)


def test_numpy_only_errors():
    model = models.GPT(**CONFIG, seed=0)
    with pytest.raises(ShapeError, match=r"idx\[None, :\]"):
        model(np.array([1, 2]))
    with pytest.raises(Exception, match="before forward"):
        models.GPT(**CONFIG, seed=0).backward(np.zeros((1, 1, 7), np.float32))
    with pytest.raises(ConfigError, match="n_heads"):
        nn.TransformerBlock(6, 4)


def test_dropout_is_used_in_training_only():
    model = models.GPT(**CONFIG, dropout=0.5, seed=0, dtype=np.float64)
    idx = _tokens((2, 6))
    model.eval()
    np.testing.assert_array_equal(model(idx), model(idx))
    model.train()
    assert not np.allclose(model(idx), model(idx))
    logits = model(idx)
    model.backward(np.ones_like(logits))
    assert all(p.grad is not None for p in model.parameters())


def test_save_and_load_numpy_gpt(tmp_path):
    from nncourse.io import load_numpy_model, save_numpy_model

    model = models.GPT(**CONFIG, dropout=0.1, seed=3, dtype=np.float64)
    _randomise(model, 3)
    model.eval()
    loaded = load_numpy_model(save_numpy_model(model, tmp_path / "gpt"))
    assert isinstance(loaded, models.GPT) and not loaded.training and loaded.dropout == 0.1
    idx = _tokens((2, 6))
    np.testing.assert_array_equal(loaded(idx), model(idx))


def test_addition_problems_and_split():
    from nncourse.models.gpt_training import ADDITION_VOCAB, addition_problems, addition_split

    (a, b), (at, bt) = addition_split(2, 100, seed=0)
    assert len(a) == 9900 and len(at) == 100
    assert not set(zip(a.tolist(), b.tolist())) & set(zip(at.tolist(), bt.tolist()))
    X, Y = addition_problems(np.array([47, 5]), np.array([85, 3]), 2)
    text = lambda row: "".join(ADDITION_VOCAB[t] if t >= 0 else "_" for t in row)  # noqa: E731
    assert text(X[0]) == "47+85=231" and text(Y[0]) == "_____231."     # 132 written backwards, then "."
    assert text(X[1]) == "05+03=800" and text(Y[1]) == "_____800."


def test_train_gpt_same_batches_same_losses_in_both_backends():
    from nncourse.models.gpt_training import evaluate_gpt, name_batches, train_gpt

    names = ["ada", "bob", "cyd", "dee", "eve", "flo"]
    ours, theirs = _pair(seed=1, vocab_size=27, context_length=6)
    la = train_gpt(ours, name_batches(names, 4, seed=0), 6, lr=1e-2, warmup=2)
    lb = train_gpt(theirs, name_batches(names, 4, seed=0), 6, lr=1e-2, warmup=2)
    np.testing.assert_allclose(la, lb, rtol=1e-9)
    from nncourse.models.gpt_training import length_sorted_batches
    assert evaluate_gpt(ours, length_sorted_batches(names)) == pytest.approx(
        evaluate_gpt(theirs, length_sorted_batches(names)), rel=1e-9)
