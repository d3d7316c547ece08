"""Chapter 18's LoRA: ``numpy_nn.LoRALinear`` against its torch twin (float64), the frozen base, merging,
``finetune.apply_lora`` / ``merge_lora`` on a tiny Llama in both back ends, the response-masked loss, the
genre task's split, and bad inputs. Nothing here loads SmolLM2 (see test_lora_smollm2.py)."""

import json

import numpy as np
import pytest
import torch

from nncourse import io as nn_io
from nncourse.errors import ConfigError, CourseError, ShapeError, TargetError
from nncourse.finetune import apply_lora, count_parameters, label_log_likelihoods, masked_token_nll, merge_lora
from nncourse.models import Llama
from nncourse.numpy_nn import SGD, Adam, Linear, LoRALinear, Sequential, from_torch
from nncourse.torch_nn import LoRALinear as TorchLoRALinear
from nncourse.torch_nn import from_numpy

_CFG = dict(vocab_size=40, context_length=16, d_model=16, n_heads=4, n_kv_heads=2, n_layers=2, d_ff=24)


def _layer(dtype=np.float64, bias=True, r=3, alpha=6.0, dropout=0.0, seed=0, random_b=True):
    layer = LoRALinear(Linear(7, 5, bias=bias, seed=1, dtype=dtype), r=r, alpha=alpha, dropout=dropout, seed=seed)
    if random_b:   # B starts at zero; give it values so that every gradient path is exercised
        layer.lora_B.data[...] = np.random.default_rng(9).normal(size=layer.lora_B.shape)
    return layer


def _x(n=6, dtype=np.float64):
    return np.random.default_rng(2).normal(size=(n, 7)).astype(dtype)


# ------------------------------------------------------------------------------------- the layer
@pytest.mark.parametrize("bias", [True, False])
def test_lora_linear_matches_torch_in_float64(bias):
    layer = _layer(bias=bias)
    twin = from_numpy(layer)
    assert isinstance(twin, TorchLoRALinear)
    x = _x()
    y = layer(x)
    g = np.random.default_rng(3).normal(size=y.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = twin(xt)
    yt.backward(torch.from_numpy(g))
    assert np.abs(y - yt.detach().numpy()).max() <= 1e-12
    assert np.abs(dx - xt.grad.numpy()).max() <= 1e-12
    assert np.abs(layer.lora_A.grad - twin.lora_A.grad.numpy()).max() <= 1e-12
    assert np.abs(layer.lora_B.grad - twin.lora_B.grad.numpy()).max() <= 1e-12
    # neither back end computes or keeps a gradient for the frozen base
    assert layer.base_layer.weight.grad is None and twin.base_layer.weight.grad is None
    if bias:
        assert layer.base_layer.bias.grad is None and twin.base_layer.bias.grad is None


def test_lora_gradients_match_finite_differences():
    layer = _layer()
    x = _x(3)
    g = np.random.default_rng(4).normal(size=(3, 5))
    layer(x)
    layer.backward(g)
    analytic = layer.lora_A.grad.copy()
    eps = 1e-6
    numeric = np.zeros_like(analytic)
    for i in np.ndindex(*analytic.shape):
        old = layer.lora_A.data[i]
        layer.lora_A.data[i] = old + eps
        up = float((layer.fast_forward(x) * g).sum())
        layer.lora_A.data[i] = old - eps
        down = float((layer.fast_forward(x) * g).sum())
        layer.lora_A.data[i] = old
        numeric[i] = (up - down) / (2 * eps)
    assert np.abs(analytic - numeric).max() < 1e-7


def test_starts_equal_to_the_base_and_only_a_and_b_train():
    base = Linear(7, 5, seed=1, dtype=np.float64)
    expected = base(_x())
    layer = LoRALinear(base, r=2, alpha=16, seed=0)
    assert np.array_equal(layer(_x()), expected)          # B = 0 exactly: not even a rounding difference
    assert np.all(layer.lora_B.data == 0) and np.any(layer.lora_A.data != 0)
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["lora_A", "lora_B"]
    assert layer.lora_A.shape == (2, 7) and layer.lora_B.shape == (5, 2)
    assert count_parameters(layer) == (2 * (7 + 5), 7 * 5 + 5 + 2 * (7 + 5))


def test_same_seed_same_start_in_both_back_ends():
    a = LoRALinear(Linear(7, 5, seed=1), r=3, alpha=3, seed=11)
    b = TorchLoRALinear(torch.nn.Linear(7, 5), r=3, alpha=3, seed=11)
    assert np.array_equal(a.lora_A.data, b.lora_A.detach().numpy())
    assert not np.array_equal(a.lora_A.data, LoRALinear(Linear(7, 5, seed=1), r=3, alpha=3, seed=12).lora_A.data)


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_training_moves_a_and_b_and_leaves_the_base_unchanged(optimizer):
    layer = _layer(random_b=False)
    before_w, before_b = layer.base_layer.weight.data.copy(), layer.base_layer.bias.data.copy()
    opt = optimizer(layer.parameters(), lr=0.05)
    target = np.random.default_rng(6).normal(size=(6, 5))
    losses = []
    for _ in range(20):
        y = layer(_x())
        losses.append(float(((y - target) ** 2).mean()))
        opt.zero_grad()
        layer.backward(2 * (y - target) / y.size)
        opt.step()
    assert losses[-1] < losses[0]
    assert np.any(layer.lora_B.data != 0)
    assert np.array_equal(layer.base_layer.weight.data, before_w)
    assert np.array_equal(layer.base_layer.bias.data, before_b)


def test_merge_equals_unmerged_in_both_back_ends():
    layer = _layer()
    merged = layer.merge()
    assert type(merged) is Linear and merged.weight.requires_grad
    assert np.abs(merged(_x()) - layer(_x())).max() <= 1e-12
    expected = layer.base_layer.weight.data + layer.alpha / layer.r * layer.lora_B.data @ layer.lora_A.data
    assert np.abs(merged.weight.data - expected).max() <= 1e-12
    twin = from_numpy(layer)
    tm = twin.merge()
    assert type(tm) is torch.nn.Linear
    xt = torch.from_numpy(_x())
    assert (tm(xt) - twin(xt)).abs().max().item() <= 1e-12


def test_dropout_only_in_training_and_its_gradient_uses_the_mask():
    layer = _layer(dropout=0.5)
    x = _x()
    layer.eval()
    assert np.abs(layer(x) - layer.merge()(x)).max() < 1e-12        # eval: no dropout
    layer.train()
    y = layer(x)
    assert np.abs(y - layer.merge()(x)).max() > 1e-3                # train: the update path is thinned
    # the update's input gradient is masked like its input: check against a finite difference of that mask
    g = np.ones_like(y)
    dx = layer.backward(g)
    _, _, mask = layer._cache
    expected = g @ layer.base_layer.weight.data + layer.scaling * (g @ layer.lora_B.data @ layer.lora_A.data) * mask
    assert np.abs(dx - expected).max() < 1e-12


def test_converters_and_io_round_trip(tmp_path):
    layer = _layer(dtype=np.float32)
    back = from_torch(from_numpy(layer))
    assert isinstance(back, LoRALinear)
    for (n1, p1), (n2, p2) in zip(layer.named_parameters(), back.named_parameters()):
        assert n1 == n2 and np.array_equal(p1.data, p2.data) and p1.requires_grad == p2.requires_grad
    model = Sequential(layer)
    nn_io.save_numpy_model(model, tmp_path / "lora")
    loaded = nn_io.load_numpy_model(tmp_path / "lora")
    x = _x(dtype=np.float32)
    assert np.array_equal(loaded(x), model(x))
    assert not loaded[0].base_layer.weight.requires_grad and loaded[0].lora_A.requires_grad


# ------------------------------------------------------------------------------------- a whole model
def _llama_pair():
    model = Llama(**_CFG, seed=0, dtype=np.float64)
    return model, from_numpy(model)


def test_apply_lora_on_a_llama_in_both_back_ends(capsys):
    model, twin = _llama_pair()
    idx = np.random.default_rng(0).integers(0, _CFG["vocab_size"], size=(2, 9))
    before = model(idx)
    apply_lora(model, r=2, alpha=4, seed=3)
    apply_lora(twin, r=2, alpha=4, seed=3)
    printed = capsys.readouterr().out
    assert "224 of" in printed and "train" in printed   # 2 layers x (q: 2·(16+16) + v: 2·(16+8))
    assert count_parameters(model)[0] == count_parameters(twin)[0] == 2 * (2 * 32 + 2 * 24)
    assert np.array_equal(model(idx), before)                  # nothing changes before the first step
    names = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert names == sorted(n for n, p in twin.named_parameters() if p.requires_grad)
    assert all(".self_attn.q_proj.lora_" in n or ".self_attn.v_proj.lora_" in n for n in names)
    # give B values, then compare logits and the A/B gradients of a response-masked loss
    rng = np.random.default_rng(5)
    twin_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data[...] = 0.1 * rng.normal(size=p.shape)
            with torch.no_grad():
                twin_params[name].copy_(torch.from_numpy(p.data))
    logits = model(idx)
    logits_t = twin(torch.from_numpy(idx))
    assert np.abs(logits - logits_t.detach().numpy()).max() <= 1e-9
    targets = np.roll(idx, -1, axis=1)
    mask = np.zeros(idx.shape, bool)
    mask[:, 5:8] = True
    loss, grad = masked_token_nll(logits, targets, mask)
    model.backward(grad)
    masked = torch.from_numpy(np.where(mask, targets, -100))
    loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(-1, _CFG["vocab_size"]), masked.reshape(-1))
    loss_t.backward()
    assert abs(loss - loss_t.item()) <= 1e-12
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert np.abs(p.grad - twin_params[name].grad.numpy()).max() <= 1e-9, name
        else:
            assert p.grad is None and twin_params[name].grad is None, name
    # generation with a KV cache goes through the adapters too
    with_cache = model.generate(idx[:, :3], 4, seed=1, use_cache=True)
    without = model.generate(idx[:, :3], 4, seed=1, use_cache=False)
    assert np.array_equal(with_cache, without)
    # merging gives back plain Linear layers computing the same logits
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert np.abs(model(idx) - logits).max() <= 1e-12
    merge_lora(twin)
    assert (twin(torch.from_numpy(idx)) - logits_t).abs().max().item() <= 1e-12


def test_masked_loss_ignores_the_prompt():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 5, 7))
    targets = rng.integers(0, 7, size=(2, 5))
    mask = np.array([[0, 0, 1, 1, 1], [0, 0, 0, 1, 1]], bool)
    loss, grad = masked_token_nll(logits, targets, mask)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
    assert abs(loss - (-picked[mask].mean())) < 1e-12
    assert np.all(grad[~mask] == 0)
    changed = logits.copy()
    changed[~mask] += 100 * rng.normal(size=changed[~mask].shape)     # the prompt's predictions do not count
    assert abs(masked_token_nll(changed, targets, mask)[0] - loss) < 1e-12


def test_label_log_likelihoods_sums_the_label_tokens():
    log_probs = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    scores = label_log_likelihoods(log_probs, [[0, 2], [1]])
    assert np.allclose(scores, [np.log(0.5) + np.log(0.8), np.log(0.25)])


# ------------------------------------------------------------------------------------- the data
def test_genre_task_is_split_by_play_without_speaker_names():
    from nncourse.data.genre import FOLIO_GENRES, GENRES, NOT_IN_FOLIO, load_genre_task, speaker_json_examples

    task = load_genre_task(seed=0, per_play=10)
    assert len(FOLIO_GENRES) == 36 and not set(NOT_IN_FOLIO) & set(FOLIO_GENRES)
    assert sorted(list(FOLIO_GENRES.values()).count(g) for g in GENRES) == [10, 12, 14]
    plays = [set(task.train_plays), set(task.val_plays), set(task.test_plays)]
    assert not (plays[0] & plays[1]) and not (plays[0] & plays[2]) and not (plays[1] & plays[2])
    for genre in GENRES:
        assert sum(FOLIO_GENRES[p] == genre for p in task.test_plays) == 3
    assert task.sizes() == {"train": 210, "val": 60, "test": 90}
    for split, names in (("train", plays[0]), ("val", plays[1]), ("test", plays[2])):
        assert {play for _, _, play in getattr(task, split)} == names
    for text, label, play in task.train + task.test:
        assert GENRES[label] == FOLIO_GENRES[play]
        assert not any(line.rstrip().endswith(":") and line.strip().split(":")[0].isupper()
                       for line in text.split("\n")), text               # no "KING HENRY:" line
        assert len(text.split()) >= 48
    assert load_genre_task(seed=0, per_play=10) == task
    assert load_genre_task(seed=1, per_play=10).test_plays != task.test_plays
    examples = speaker_json_examples(task.test_plays, per_play=12, seed=0)
    assert len(examples) >= 100
    for prompt, response in examples:
        answer = json.loads(response)
        assert list(answer) == ["speaker", "lines"] and prompt.split("\n\n")[1].startswith(answer["speaker"] + ":")


# ------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(r=0), ConfigError, "r must"),
    (dict(r=6), ConfigError, "min(in_features, out_features)"),
    (dict(r=2.5), ConfigError, "r must"),
    (dict(alpha=0), ConfigError, "alpha must"),
    (dict(alpha=float("nan")), ConfigError, "alpha must"),
    (dict(alpha="16"), ConfigError, "alpha must"),
    (dict(dropout=1.0), ConfigError, "dropout"),
    (dict(seed=-1), ConfigError, "seed"),
])
def test_lora_linear_rejects_bad_arguments(kwargs, error, words):
    args = dict(r=2, alpha=4)
    args.update(kwargs)
    with pytest.raises(error) as info:
        LoRALinear(Linear(7, 5), **args)
    assert words in str(info.value)


def test_lora_linear_rejects_bad_bases_and_inputs():
    with pytest.raises(ConfigError, match="base must be a numpy_nn.Linear"):
        LoRALinear(torch.nn.Linear(3, 3), r=1, alpha=1)
    with pytest.raises(ConfigError, match="base must be a torch.nn.Linear"):
        TorchLoRALinear(Linear(3, 3), r=1, alpha=1)
    with pytest.raises(ConfigError, match="already a LoRALinear"):
        LoRALinear(_layer(), r=1, alpha=1)
    layer = _layer()
    with pytest.raises(ShapeError, match="expects input of shape"):
        layer(np.ones((2, 6)))
    with pytest.raises(CourseError, match="NaN"):
        layer(np.full((2, 7), np.nan))
    with pytest.raises(CourseError, match="forward"):
        _layer().backward(np.ones((2, 5)))


def test_apply_lora_and_helpers_reject_bad_inputs():
    model = Llama(**_CFG, seed=0)
    with pytest.raises(ConfigError, match="no linear layer of the model is named"):
        apply_lora(model, targets=("query",), verbose=False)
    with pytest.raises(ConfigError, match="must name linear layers"):
        apply_lora(model, targets=("self_attn",), verbose=False)
    with pytest.raises(ConfigError, match="targets must be"):
        apply_lora(model, targets=(), verbose=False)
    with pytest.raises(ConfigError, match="model must be"):
        apply_lora("model")
    with pytest.raises(ConfigError, match="seed must"):
        apply_lora(model, seed=-2, verbose=False)
    with pytest.raises(ConfigError, match="no LoRA adapters"):
        merge_lora(model)
    for bad in (dict(r=0), dict(r=99), dict(alpha=-1), dict(dropout=2)):
        with pytest.raises(ConfigError, match=list(bad)[0]):
            apply_lora(model, **bad, verbose=False)
        assert all(p.requires_grad for p in model.parameters())          # nothing frozen, nothing wrapped
        assert not any(isinstance(m, LoRALinear) for m in model.modules())
    apply_lora(model, r=2, alpha=4, verbose=False)
    with pytest.raises(ConfigError, match="already has LoRA adapters"):
        apply_lora(model, verbose=False)
    with pytest.raises(TargetError, match="mask selects no token"):
        masked_token_nll(np.zeros((1, 2, 3)), np.zeros((1, 2), int), np.zeros((1, 2), bool))
    with pytest.raises(ShapeError, match="mask must be a bool array"):
        masked_token_nll(np.zeros((1, 2, 3)), np.zeros((1, 2), int), np.ones((1, 2)))
    with pytest.raises(TargetError, match="outside"):
        masked_token_nll(np.zeros((1, 2, 3)), np.full((1, 2), 3), np.ones((1, 2), bool))
    with pytest.raises(TargetError, match="label_tokens\\[1\\]"):
        label_log_likelihoods(np.zeros((2, 3)), [[0], [5]])
    from nncourse.data.genre import genre_passages, load_genre_task
    with pytest.raises(ConfigError, match="not in the First Folio"):
        genre_passages("pericles")
    with pytest.raises(ConfigError, match="test_per_class"):
        load_genre_task(test_per_class=1)
