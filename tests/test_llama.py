"""The Llama model (chapter 16): gradient checks in float64, parity with the torch twin (logits and every
gradient, with GQA, MQA and MHA, tied and untied embeddings), the KV cache (equal to a full forward, the same
greedy tokens, the same refusal past context_length), frozen parameters, generation options, conversion and
saving, and clear errors."""

import numpy as np
import pytest
import torch

import nncourse.models.torch as torch_models
import nncourse.numpy_nn as nn
from nncourse import io, models, torch_nn
from nncourse.errors import ConfigError, CourseError, DTypeError, ShapeError, TargetError
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error

V, T_MAX = 23, 12


def _config(n_kv_heads=2, tie=False, n_heads=4, d_model=16, n_layers=2, d_ff=40):
    return dict(vocab_size=V, context_length=T_MAX, d_model=d_model, n_heads=n_heads, n_kv_heads=n_kv_heads,
                n_layers=n_layers, d_ff=d_ff, rope_theta=500.0, norm_eps=1e-5, tie_embeddings=tie)


def _tokens(shape, seed=0):
    return np.random.default_rng([seed, 3]).integers(0, V, size=shape)


def _randomise(model, seed, scale=0.3):
    rng = np.random.default_rng([seed, 5])
    for _, p in model.named_parameters():
        p.data = (p.data + rng.normal(0, scale, size=p.shape)).astype(p.dtype)


# ------------------------------------------------------------------------------------ the blocks
@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])
def test_decoder_block_gradcheck(n_kv_heads):
    block = nn.DecoderBlock(8, 4, n_kv_heads, 12, rope_theta=50.0, seed=1, dtype=np.float64)
    _randomise(block, n_kv_heads, scale=0.5)
    x = np.random.default_rng(2).normal(size=(2, 5, 8))
    result = nn.gradcheck(block, x)
    assert result.passed, result


def test_swiglu_and_silu_gradcheck_and_torch():
    mlp = nn.SwiGLU(6, 10, seed=0, dtype=np.float64)
    _randomise(mlp, 0)
    x = np.random.default_rng(1).normal(size=(3, 4, 6))
    assert nn.gradcheck(mlp, x).passed
    z = np.linspace(-40, 40, 101)
    np.testing.assert_allclose(nn.SiLU()(z[None]), torch.nn.functional.silu(torch.from_numpy(z[None])).numpy(),
                               atol=1e-15)
    assert nn.gradcheck(nn.SiLU(), z[None] / 4).passed
    assert isinstance(nn.from_torch(torch.nn.SiLU()), nn.SiLU)


def test_tiny_llama_gradcheck_every_parameter():
    for tie in (False, True):
        model = models.Llama(**{**_config(1, tie, n_heads=2, d_model=8, d_ff=12, n_layers=1), "vocab_size": 7},
                             seed=0, dtype=np.float64)
        _randomise(model, 0)
        idx = np.array([[1, 3, 3, 0], [6, 2, 5, 1]])
        upstream = np.random.default_rng(0).normal(size=(2, 4, 7))
        model(idx)
        model.backward(upstream)

        def scalar(_):
            return float(np.sum(model(idx) * upstream))

        for name, p in model.named_parameters():
            error = relative_error(p.grad, numerical_gradient(scalar, p.data))
            assert error < 1e-6, (tie, name, error)


# ---------------------------------------------------------------------------------- twin parity
CASES = {"gqa": (2, False), "mqa": (1, False), "mha": (4, False), "gqa-tied": (2, True), "mqa-tied": (1, True)}


@pytest.mark.parametrize("case", list(CASES))
def test_twin_parity_float64_logits_and_every_gradient(case):
    n_kv, tie = CASES[case]
    ours = models.Llama(**_config(n_kv, tie), seed=3, dtype=np.float64)
    theirs = torch_models.Llama(**_config(n_kv, tie), seed=3, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ("lm_head.weight" in ours.state_dict()) is (not tie)
    for name, array in ours.state_dict().items():             # same start weights for the same seed
        np.testing.assert_array_equal(array, theirs.state_dict()[name].numpy())
    idx = _tokens((3, 9), seed=1)
    logits = ours(idx)
    logits_t = theirs(torch.from_numpy(idx))
    assert np.abs(logits - logits_t.detach().numpy()).max() <= 1e-9
    g = np.random.default_rng(4).normal(size=logits.shape)
    ours.backward(g)
    (logits_t * torch.from_numpy(g)).sum().backward()
    torch_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(torch_params)
    for name, p in ours.named_parameters():
        assert np.abs(p.grad - torch_params[name].grad.numpy()).max() <= 1e-9, name


def test_training_steps_stay_together_with_adamw():
    ours = models.Llama(**_config(2), seed=0, dtype=np.float64)
    theirs = torch_models.Llama(**_config(2), seed=0, dtype=torch.float64)
    opt = nn.AdamW(ours.parameters(), lr=1e-2, weight_decay=0.1)
    opt_t = torch.optim.AdamW(theirs.parameters(), lr=1e-2, weight_decay=0.1)
    loss_fn, loss_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(3):
        idx = _tokens((2, 10), seed=step)
        x, y = idx[:, :-1], idx[:, 1:]
        opt.zero_grad()
        loss = loss_fn(ours(x).reshape(-1, V), y.reshape(-1))
        ours.backward(loss_fn.backward().reshape(2, 9, V))
        opt.step()
        opt_t.zero_grad()
        lt = loss_t(theirs(torch.from_numpy(x)).reshape(-1, V), torch.from_numpy(y).reshape(-1))
        lt.backward()
        opt_t.step()
        assert abs(loss - lt.item()) < 1e-9
    for name, array in ours.state_dict().items():
        np.testing.assert_allclose(array, theirs.state_dict()[name].numpy(), atol=1e-9)


def test_converts_both_ways_and_saves(tmp_path):
    model = models.Llama(**_config(1, True), seed=0, dtype=np.float64)
    twin = torch_nn.from_numpy(model)
    assert type(twin) is torch_models.Llama and twin.tie_embeddings
    back = nn.from_torch(twin)
    assert type(back) is models.Llama and back.n_kv_heads == 1
    idx = _tokens((2, 6))
    np.testing.assert_array_equal(back(idx), model(idx))
    loaded = io.load_numpy_model(io.save_numpy_model(model, tmp_path / "llama"))
    np.testing.assert_array_equal(loaded(idx), model(idx))
    assert loaded.get_config() == model.get_config()


# -------------------------------------------------------------------------------------- KV cache
@pytest.mark.parametrize("case", ["gqa", "mqa-tied"])
def test_cached_step_equals_the_full_forward(case):
    n_kv, tie = CASES[case]
    model = models.Llama(**_config(n_kv, tie), seed=2, dtype=np.float64)
    model.eval()
    idx = _tokens((2, T_MAX), seed=5)
    full = model(idx)                                            # (2, T, V)
    cache = model.new_cache(2)
    pieces = [model(idx[:, :5], cache=cache)]                    # the prompt at once, then one token at a time
    for t in range(5, T_MAX):
        pieces.append(model(idx[:, t:t + 1], cache=cache))
    assert cache.length == T_MAX
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, atol=1e-12)
    # the torch twin's cache too
    twin = torch_models.Llama(**_config(n_kv, tie), seed=2, dtype=torch.float64)
    tcache = twin.new_cache(2)
    with torch.no_grad():
        twin(torch.from_numpy(idx[:, :5]), tcache)
        last = twin(torch.from_numpy(idx[:, 5:6]), tcache)
    np.testing.assert_allclose(last.numpy()[:, 0], full[:, 5], atol=1e-12)


def test_greedy_generation_same_tokens_with_and_without_cache_in_both_twins():
    model = models.Llama(**_config(2), seed=4)
    _randomise(model, 4, scale=0.2)
    twin = torch_nn.from_numpy(model)
    prompt = _tokens((2, 3), seed=9)
    a = model.generate(prompt, 9, top_k=1, use_cache=True)
    b = model.generate(prompt, 9, top_k=1, use_cache=False)
    c = twin.generate(prompt, 9, top_k=1, use_cache=True).numpy()
    d = twin.generate(prompt, 9, top_k=1, use_cache=False).numpy()
    assert a.shape == (2, 12)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(a, d)
    assert len(set(a[:, 3:].ravel().tolist())) > 2       # not a constant stream: the test can fail


def test_sampled_generation_is_reproducible_and_the_same_with_the_cache():
    model = models.Llama(**_config(2), seed=4)
    prompt = _tokens((1, 2))
    a = model.generate(prompt, 8, temperature=1.5, top_p=0.9, seed=7)
    b = model.generate(prompt, 8, temperature=1.5, top_p=0.9, seed=7, use_cache=False)
    np.testing.assert_array_equal(a, b)


def test_the_twins_sample_from_the_same_distribution():
    model = models.Llama(**{**_config(1), "vocab_size": 5}, seed=0, dtype=np.float64)
    _randomise(model, 1, scale=0.8)
    twin = torch_nn.from_numpy(model)
    prompt = np.zeros((400, 1), dtype=np.int64)
    ours = model.generate(prompt, 1, top_k=3, seed=0)[:, 1]
    theirs = twin.generate(prompt, 1, top_k=3, seed=0)[:, 1].numpy()
    p = models.llama.sampling_probabilities(model(prompt[:1])[:, -1].astype(np.float64), 1.0, 3)[0]
    for draws in (ours, theirs):
        freq = np.bincount(draws, minlength=5) / len(draws)
        assert np.abs(freq - p).max() < 0.08, (freq, p)
        assert freq[p == 0].sum() == 0


@pytest.mark.parametrize("use_cache", [True, False])
def test_past_the_context_both_paths_refuse_alike(use_cache):
    model = models.Llama(**_config(2), seed=0)
    twin = torch_nn.from_numpy(model)
    messages = []
    for m in (model, twin):
        with pytest.raises(ShapeError, match="exceed context_length=12") as info:
            m.generate(_tokens((1, 5)), 8, use_cache=use_cache)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "never slides" in messages[0]
    assert model.generate(_tokens((1, 5)), 7, use_cache=use_cache).shape == (1, 12)   # exactly full is fine
    with pytest.raises(ShapeError, match="exceed context_length"):
        model(_tokens((1, 13)))
    cache = model.new_cache(1)
    model(_tokens((1, 10)), cache=cache)
    with pytest.raises(ShapeError, match=r"10 already stored \+ 3 new"):
        model(_tokens((1, 3)), cache=cache)


def test_stop_tokens_int_or_collection():
    model = models.Llama(**_config(2), seed=4)
    _randomise(model, 4, scale=0.2)
    prompt = _tokens((2, 2), seed=9)
    free = model.generate(prompt, 9, top_k=1)
    first = int(free[0, 2])
    out = model.generate(prompt, 9, top_k=1, stop_token=first)
    assert out[0, -1] == first and out.shape[1] <= 11
    for stops in ({first, int(free[1, 2])}, [int(free[1, 3])], np.array([first])):
        out = model.generate(prompt, 9, top_k=1, stop_token=stops)
        stop_ids = set(np.atleast_1d(np.asarray(list(stops) if isinstance(stops, set) else stops)).tolist())
        for row in out:
            generated = row[2:].tolist()
            hits = [i for i, t in enumerate(generated) if t in stop_ids]
            if hits:                                               # after its stop token a row repeats it
                assert set(generated[hits[0]:]) == {generated[hits[0]]}
    twin = torch_nn.from_numpy(model)
    np.testing.assert_array_equal(twin.generate(prompt, 9, top_k=1, stop_token={first}).numpy(),
                                  model.generate(prompt, 9, top_k=1, stop_token={first}))


def test_top_p_keeps_the_nucleus():
    p = models.llama.sampling_probabilities(np.log(np.array([[0.5, 0.3, 0.15, 0.05]])), top_p=0.7)
    np.testing.assert_allclose(p, [[0.5 / 0.8, 0.3 / 0.8, 0, 0]])
    p = models.llama.sampling_probabilities(np.log(np.array([[0.5, 0.3, 0.15, 0.05]])), top_p=0.1)
    np.testing.assert_allclose(p, [[1, 0, 0, 0]])


def test_kv_cache_bytes():
    # SmolLM2-135M: 30 layers, 3 KV heads of 64, 8192 positions, bfloat16
    assert models.kv_cache_bytes(30, 3, 64, 8192) == 2 * 30 * 3 * 8192 * 64 * 2
    model = models.Llama(**_config(2), seed=0)
    assert model.new_cache(3).nbytes == models.kv_cache_bytes(2, 2, 4, T_MAX, 3, 4)


# ----------------------------------------------------------------------------- attention weights
def test_keep_attention_keeps_each_heads_weights():
    """``self_attn.keep_attention = True`` keeps the last forward's weights (N, H, T, S): causal rows that
    sum to one, equal to softmax(q k^T / sqrt(D)) recomputed by hand for layer 0 (query head h reads KV head
    h // G), the last row again after a cached step; off again, nothing is kept (chapter 17's sinks)."""
    from nncourse.numpy_nn.functional import rotary, softmax

    model = models.Llama(**_config(2), seed=6, dtype=np.float64)
    _randomise(model, 6)
    idx = _tokens((2, 7), seed=8)
    attn = [block.self_attn for block in model.layers]
    assert all(a.attention_weights is None for a in attn)
    model(idx)
    assert all(a.attention_weights is None for a in attn)                # off by default: nothing kept
    for a in attn:
        a.keep_attention = True
    model(idx)
    H, K, D, T = 4, 2, 4, 7
    for a in attn:
        w = a.attention_weights
        assert w.shape == (2, H, T, T) and w.dtype == np.float64
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)
        assert np.all(w[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)   # no look ahead
    x = model.layers[0].input_layernorm(model.embed_tokens(idx))          # (2, T, C)
    q = (x @ attn[0].q_proj.weight.data.T).reshape(2, T, H, D).transpose(0, 2, 1, 3)
    k = (x @ attn[0].k_proj.weight.data.T).reshape(2, T, K, D).transpose(0, 2, 1, 3)
    q, k = rotary(q, np.arange(T), 500.0), rotary(k, np.arange(T), 500.0)
    scores = q @ np.repeat(k, H // K, axis=1).transpose(0, 1, 3, 2) / np.sqrt(D)
    scores = np.where(np.tril(np.ones((T, T), bool)), scores, -np.inf)
    np.testing.assert_allclose(attn[0].attention_weights, softmax(scores), atol=1e-12)
    full = [a.attention_weights for a in attn]
    cache = model.new_cache(2)
    model(idx[:, :-1], cache=cache)
    model(idx[:, -1:], cache=cache)                                       # one new token sees all 7 keys
    for a, w in zip(attn, full):
        assert a.attention_weights.shape == (2, H, 1, T)
        np.testing.assert_allclose(a.attention_weights[:, :, 0], w[:, :, -1], atol=1e-12)
    for a in attn:
        a.keep_attention = False
    model(idx)
    assert all(a.attention_weights is None for a in attn)


# ------------------------------------------------------------------------------ frozen parameters
def test_frozen_parameters_get_no_gradient_and_do_not_move():
    model = models.Llama(**_config(2), seed=0, dtype=np.float64)
    reference = models.Llama(**_config(2), seed=0, dtype=np.float64)
    model.requires_grad_(False)
    model.layers[1].self_attn.q_proj.weight.requires_grad = True
    model.norm.weight.requires_grad_(True)
    assert len(list(model.named_parameters())) == len(list(reference.named_parameters()))  # all listed
    idx = _tokens((2, 6))
    g = np.random.default_rng(0).normal(size=(2, 6, V))
    model(idx)
    model.backward(g)
    reference(idx)
    reference.backward(g)
    ref = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        if name in ("layers.1.self_attn.q_proj.weight", "norm.weight"):
            np.testing.assert_allclose(p.grad, ref[name].grad, atol=1e-12)
        else:
            assert p.grad is None, name
    before = model.state_dict()
    for p in model.parameters():                   # a hand-made gradient on a frozen parameter is ignored too
        if not p.requires_grad:
            p.grad = np.ones_like(p.data)
    nn.SGD(model.parameters(), lr=0.1).step()
    after = model.state_dict()
    changed = {n for n in before if not np.array_equal(before[n], after[n])}
    assert changed == {"layers.1.self_attn.q_proj.weight", "norm.weight"}


@pytest.mark.parametrize("value", ["False", 0, None, 1.0])
def test_requires_grad_must_be_a_bool(value):
    p = nn.Parameter(np.zeros(3))
    with pytest.raises(ConfigError, match="requires_grad"):
        p.requires_grad = value
    with pytest.raises(ConfigError, match="requires_grad"):
        nn.Parameter(np.zeros(3), requires_grad=value)


# ------------------------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("change,error,words", [
    (dict(n_kv_heads=3), ConfigError, "n_kv_heads=3 must divide n_heads=4"),
    (dict(n_kv_heads=0), ConfigError, "n_kv_heads"),
    (dict(n_heads=3), ConfigError, "not divisible"),
    (dict(d_model=12, n_heads=4), ConfigError, "even"),
    (dict(rope_theta=1.0), ConfigError, "rope_theta"),
    (dict(rope_theta=float("nan")), ConfigError, "rope_theta"),
    (dict(rope_theta="10000"), ConfigError, "rope_theta"),
    (dict(norm_eps=0.0), ConfigError, "norm_eps"),
    (dict(norm_eps=2.0), ConfigError, "norm_eps"),
    (dict(tie_embeddings="False"), ConfigError, "tie_embeddings"),
    (dict(d_ff=2.5), ConfigError, "d_ff"),
    (dict(context_length=0), ConfigError, "context_length"),
    (dict(vocab_size=True), ConfigError, "vocab_size"),
    (dict(n_layers=10**12), ConfigError, "too large"),
    (dict(dtype=np.float16), DTypeError, "dtype"),
])
def test_bad_configs(change, error, words):
    with pytest.raises(error, match=words):
        models.Llama(**{**_config(2), **change}, seed=0)
    with pytest.raises(error, match=words):
        torch_models.Llama(**{**_config(2), **change}, seed=0)


@pytest.mark.parametrize("idx,error,words", [
    (np.array([[1.0, 2.0]]), DTypeError, "integer token ids"),
    (np.array([1, 2]), ShapeError, r"idx\[None, :\]"),
    (np.zeros((1, 0), np.int64), ShapeError, "at least one token"),
    (np.array([[1, V]]), TargetError, f"token id {V} is out of range"),
    (np.array([[-1, 2]]), TargetError, "token id -1"),
    ("hello", DTypeError, "tokenizer"),
    ([[1, 2], [3]], ShapeError, "different lengths"),
])
def test_bad_tokens_in_both_twins(idx, error, words):
    model = models.Llama(**_config(2), seed=0)
    with pytest.raises(error, match=words):
        model(idx)
    with pytest.raises(error, match=words):
        torch_nn.from_numpy(model)(idx)


@pytest.mark.parametrize("kwargs,words", [
    (dict(max_new_tokens=-1), "max_new_tokens"),
    (dict(max_new_tokens=2.5), "max_new_tokens"),
    (dict(temperature=0.0), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(temperature="1"), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_k=V + 1), "top_k"),
    (dict(top_p=0.0), "top_p"),
    (dict(top_p=1.5), "top_p"),
    (dict(top_p=True), "top_p"),
    (dict(use_cache="False"), "use_cache"),
    (dict(stop_token="<eos>"), "stop_token"),
    (dict(stop_token=V), "stop_token"),
    (dict(stop_token=[]), "stop_token"),
    (dict(stop_token=[1.0]), "stop_token"),
    (dict(stop_token=True), "stop_token"),
])
def test_bad_generation_arguments_in_both_twins(kwargs, words):
    model = models.Llama(**_config(2), seed=0)
    args = {"max_new_tokens": 2, **kwargs}
    with pytest.raises(ConfigError, match=words):
        model.generate(_tokens((1, 2)), **args)
    with pytest.raises(ConfigError, match=words):
        torch_nn.from_numpy(model).generate(_tokens((1, 2)), **args)


def test_cache_misuse_is_refused():
    model = models.Llama(**_config(2), seed=0)
    with pytest.raises(ConfigError, match="new_cache"):
        model(_tokens((1, 3)), cache="cache")
    with pytest.raises(ConfigError, match=r"new_cache\(batch_size=2\)"):
        model(_tokens((2, 3)), cache=model.new_cache(1))
    model(_tokens((1, 3)), cache=model.new_cache(1))
    with pytest.raises(CourseError, match="without a cache to train"):
        model.backward(np.ones((1, 3, V), np.float32))


def test_backward_before_forward_and_twice():
    model = models.Llama(**_config(2), seed=0)
    with pytest.raises(CourseError, match="before forward"):
        model.backward(np.ones((1, 3, V), np.float32))
    model(_tokens((1, 3)))
    model.backward(np.ones((1, 3, V), np.float32))
    with pytest.raises(CourseError, match="second time"):
        model.backward(np.ones((1, 3, V), np.float32))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run on the device machine)")
def test_the_torch_twin_runs_on_a_gpu_and_matches_the_cpu():
    twin = torch_models.Llama(**_config(2, True), seed=0, dtype=torch.float64)
    gpu = torch_models.Llama(**_config(2, True), seed=0, dtype=torch.float64).cuda()
    idx = _tokens((2, 9))
    np.testing.assert_allclose(gpu(idx).detach().cpu().numpy(), twin(idx).detach().numpy(), atol=1e-9)
    prompt = _tokens((2, 3), seed=4)
    for use_cache in (True, False):
        out = gpu.generate(prompt, 6, top_k=1, use_cache=use_cache)
        assert out.device.type == "cuda"
        np.testing.assert_array_equal(out.cpu().numpy(), twin.generate(prompt, 6, top_k=1).numpy())
    sampled = gpu.generate(prompt, 4, temperature=0.8, top_p=0.9, seed=3, stop_token={1, 2})
    assert sampled.shape[0] == 2 and sampled.device.type == "cuda"


@pytest.mark.parametrize("call,error,words", [
    (lambda: nn.GroupedQueryAttention(8, 4, 3), ConfigError, "n_kv_heads=3 must divide n_heads=4"),
    (lambda: nn.GroupedQueryAttention(12, 4, 2), ConfigError, "even"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2, rope_theta=-1.0), ConfigError, "rope_theta"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2)(np.ones((1, 3, 7), np.float32)), ShapeError, "(batch, seq, 8)"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2)(np.ones((1, 0, 8), np.float32)), ShapeError, "(batch, seq, 8)"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2)(np.ones((1, 3, 8), np.float32), cache=[]), ConfigError,
     "LayerKVCache"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2)(np.ones((2, 3, 8), np.float32),
                                               cache=nn.KVCache(1, 1, 2, 8, 2).layers[0]), ShapeError,
     "same batch size"),
    (lambda: nn.GroupedQueryAttention(8, 4, 2)(np.ones((1, 3, 8), np.float32), cache=nn.KVCache(1, 1, 2, 2, 2)
                                               .layers[0]), ShapeError, "capacity of 2"),
    (lambda: nn.SwiGLU(8, 0), ConfigError, "d_ff"),
    (lambda: nn.SwiGLU(8, 16)(np.ones((2, 7), np.float32)), ShapeError, "(..., 8)"),
    (lambda: nn.SwiGLU(8, 16)(np.ones((2, 8), np.int64)), DTypeError, "floating-point"),
    (lambda: nn.DecoderBlock(8, 4, 2, 16, norm_eps=0.0), ConfigError, "eps"),
    (lambda: nn.DecoderBlock(8, 4, 2, 16)(np.ones((3, 8), np.float32)), ShapeError, "(batch, seq, 8)"),
    (lambda: nn.KVCache(0, 1, 1, 4, 2), ConfigError, "n_layers"),
    (lambda: nn.KVCache(1, 1, 1, 4, 2, dtype=np.int8), DTypeError, "dtype"),
    (lambda: nn.SiLU()(np.array([[np.nan]])), Exception, "NaN"),
    (lambda: nn.RMSNorm(2)([[1.0, 2.0], [3.0]]), ShapeError, "ragged"),
    (lambda: nn.SwiGLU(4, 8, std=1e300), ConfigError, "overflows float32"),
    (lambda: nn.DecoderBlock("8", 4, 2, 16), ConfigError, "DecoderBlock: d_model"),
    (lambda: nn.DecoderBlock(8, 4, 2, 16, norm_eps=float("nan")), ConfigError, "DecoderBlock: norm_eps"),
    (lambda: nn.KVCache(10**6, 10**6, 2, 4, 2), ConfigError, "batch_size=1000000"),
    (lambda: torch_models.Llama(7, 4, 8, 2, 1, 1, 12, seed=0)(None), DTypeError, "integer token ids"),
])
def test_bad_inputs_of_the_blocks(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_backward_of_a_block_after_a_cached_forward_is_refused():
    block = nn.DecoderBlock(8, 4, 2, 16, seed=0)
    block(np.ones((1, 2, 8), np.float32), cache=nn.KVCache(1, 1, 2, 4, 2).layers[0])
    with pytest.raises(CourseError, match="without a cache to train"):
        block.backward(np.ones((1, 2, 8), np.float32))
    attention = nn.GroupedQueryAttention(8, 4, 2, seed=0)
    attention(np.ones((1, 2, 8), np.float32), cache=nn.KVCache(1, 1, 2, 4, 2).layers[0])
    with pytest.raises(CourseError, match="without a cache to train"):
        attention.backward(np.ones((1, 2, 8), np.float32))
