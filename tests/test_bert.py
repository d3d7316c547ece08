"""The BERT-style encoder (chapter 20) on a small random configuration: gradient checks in float64, parity with
the torch twin (hidden states and every gradient, with padding), the bidirectional mask, the vectorised erf
against math.erf, conversion and saving, and clear errors. The pretrained MiniLM is tested in test_minilm.py."""

import math

import numpy as np
import pytest
import torch

import nncourse.models.torch as torch_models
import nncourse.numpy_nn as nn
from nncourse import io, models, torch_nn
from nncourse.errors import ConfigError, DTypeError, ShapeError, TargetError
from nncourse.numpy_nn.activation import _erf
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error

V, T_MAX = 19, 10


def _config(**change):
    return {**dict(vocab_size=V, context_length=T_MAX, d_model=12, n_heads=3, n_layers=2, d_ff=20,
                   type_vocab_size=2, norm_eps=1e-12), **change}


def _randomise(model, seed, scale=0.3):
    rng = np.random.default_rng([seed, 5])
    for _, p in model.named_parameters():
        p.data = (p.data + rng.normal(0, scale, size=p.shape)).astype(p.dtype)


def _batch(seed=0):
    rng = np.random.default_rng([seed, 7])
    ids = rng.integers(0, V, size=(3, 7))
    mask = np.ones((3, 7), dtype=np.int64)
    mask[1, 4:] = 0                         # two padded rows of different lengths
    mask[2, 2:] = 0
    types = (np.arange(7)[None, :] >= 3).astype(np.int64).repeat(3, axis=0)
    return ids, mask, types


def test_erf_is_vectorised_and_equal_to_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 200_001), [0.0, -0.0, 1.5, -1.5, 6.0, -6.0, 1e-300, 5e-324, 40.0,
                                                     np.inf, -np.inf]])
    reference = np.array([math.erf(v) for v in x])
    assert np.abs(_erf(x) - reference).max() <= 1e-15
    assert np.isnan(_erf(np.array([np.nan]))).all()


def test_exact_gelu_equals_torch_in_float64():
    z = np.random.default_rng(0).normal(0, 3, size=(50, 40))
    gelu = nn.GELU()
    out = gelu(z)
    ref = torch.nn.functional.gelu(torch.from_numpy(z))
    assert np.abs(out - ref.numpy()).max() <= 1e-14


def test_gradcheck_every_parameter_with_padding():
    model = models.BertEncoder(**_config(d_model=6, n_heads=2, n_layers=1, d_ff=8, vocab_size=7), seed=0,
                               dtype=np.float64)
    _randomise(model, 0)
    ids, mask, types = _batch()
    ids = ids % 7
    upstream = np.random.default_rng(1).normal(size=(3, 7, 6))
    model(ids, mask, types)
    model.backward(upstream)

    def scalar(_):
        return float(np.sum(model(ids, mask, types) * upstream))

    for name, p in model.named_parameters():
        numerical = numerical_gradient(scalar, p.data)
        if name.endswith("key.bias"):      # adds q·b to a whole row of scores: softmax ignores it, gradient 0
            assert np.abs(p.grad).max() <= 1e-12 and np.abs(numerical).max() <= 1e-7, name
            continue
        error = relative_error(p.grad, numerical)
        assert error < 1e-6, (name, error)


def test_twin_parity_float64_hidden_states_and_every_gradient():
    ours = models.BertEncoder(**_config(), seed=3, dtype=np.float64)
    theirs = torch_models.BertEncoder(**_config(), seed=3, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "encoder.layer.1.attention.self.query.weight" in ours.state_dict()
    for name, array in ours.state_dict().items():             # the same start weights for the same seed
        np.testing.assert_array_equal(array, theirs.state_dict()[name].numpy())
    _randomise(ours, 1)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ids, mask, types = _batch(2)
    hidden = ours(ids, mask, types)
    hidden_t = theirs(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
    assert np.abs(hidden - hidden_t.detach().numpy()).max() <= 1e-9
    g = np.random.default_rng(4).normal(size=hidden.shape)
    ours.backward(g)
    (hidden_t * torch.from_numpy(g)).sum().backward()
    torch_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(torch_params)
    for name, p in ours.named_parameters():
        assert np.abs(p.grad - torch_params[name].grad.numpy()).max() <= 1e-9, name


def test_attention_is_bidirectional_and_padding_is_invisible():
    model = models.BertEncoder(**_config(), seed=0, dtype=np.float64)
    _randomise(model, 2)
    ids = np.array([[2, 5, 7, 9, 4]])
    base = model(ids)
    changed = ids.copy()
    changed[0, 4] = 11                                   # the last token changes...
    moved = model(changed)
    assert np.abs(moved[0, 0] - base[0, 0]).max() > 1e-6  # ...and the first position sees it (no causal mask)
    padded = model(np.array([[2, 5, 7, 9, 4, 3, 3]]), np.array([[1, 1, 1, 1, 1, 0, 0]]))
    assert np.abs(padded[0, :5] - base[0]).max() <= 1e-12  # padding changes nothing at the real positions


def test_fast_inference_path_equals_forward():
    model = models.BertEncoder(**_config(), seed=0, dtype=np.float64)
    _randomise(model, 3)
    ids, mask, _ = _batch(5)
    full = model(ids, mask)
    fast = model._hidden_fast(ids, mask)
    assert np.abs((full - fast)[mask.astype(bool)]).max() <= 1e-12


def test_mean_pool_ignores_padding():
    hidden = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(models.mean_pool(hidden, mask), [hidden[0, :2].mean(0), hidden[1, 0]])


def test_converts_both_ways_and_saves(tmp_path):
    model = models.BertEncoder(**_config(), seed=0, dtype=np.float64)
    twin = torch_nn.from_numpy(model)
    assert type(twin) is torch_models.BertEncoder
    back = nn.from_torch(twin)
    assert type(back) is models.BertEncoder
    ids, mask, _ = _batch()
    np.testing.assert_array_equal(back(ids, mask), model(ids, mask))
    loaded = io.load_numpy_model(io.save_numpy_model(model, tmp_path / "bert"))
    np.testing.assert_array_equal(loaded(ids, mask), model(ids, mask))
    assert loaded.get_config() == model.get_config()


@pytest.mark.parametrize("change, words", [
    (dict(d_model=10, n_heads=3), "n_heads"),
    (dict(n_layers=0), "n_layers"),
    (dict(d_ff=2.5), "d_ff"),
    (dict(norm_eps=float("nan")), "norm_eps"),
    (dict(vocab_size=10**12), "vocab_size x d_model"),
    (dict(type_vocab_size=True), "type_vocab_size"),
])
def test_bad_configs(change, words):
    for cls in (models.BertEncoder, torch_models.BertEncoder):
        with pytest.raises(ConfigError, match=words):
            cls(**_config(**change), seed=0)


@pytest.mark.parametrize("args, error, words", [
    ((np.array([1.0, 2.0])[None],), DTypeError, "integer token ids"),
    ((np.array([1, 2]),), ShapeError, r"input_ids\[None, :\]"),
    ((np.zeros((1, T_MAX + 1), int),), ShapeError, "truncate to 10"),
    ((np.array([[1, V]]),), TargetError, "out of range"),
    ((np.array([[1, 2]]), np.array([[1, 2]])), DTypeError, "0 \\(padding\\) and 1"),
    ((np.array([[1, 2]]), np.array([[0, 0]])), DTypeError, "at least one"),
    ((np.array([[1, 2]]), np.array([[1]])), ShapeError, "attention_mask must have"),
    ((np.array([[1, 2]]), None, np.array([[0, 2]])), TargetError, "token_type_ids"),
])
def test_bad_inputs_in_both_twins(args, error, words):
    ours = models.BertEncoder(**_config(), seed=0)
    theirs = torch_models.BertEncoder(**_config(), seed=0)
    for model in (ours, theirs):
        with pytest.raises(error, match=words):
            model(*args)


def test_backward_before_forward_and_encode_without_tokenizer():
    model = models.BertEncoder(**_config(), seed=0)
    with pytest.raises(Exception, match="forward"):
        model.backward(np.zeros((1, 2, 12), np.float32))
    for m in (model, torch_models.BertEncoder(**_config(), seed=0)):
        with pytest.raises(ConfigError, match="tokenizer"):
            m.encode(["hello"])
