"""Contract-sweep recipes for chapter 18's public callables (LoRALinear in both back ends, apply_lora,
merge_lora, count_parameters, the masked loss, label scoring, the genre and speaker-JSON tasks)."""

import numpy as np
from contract import Call, recipe

_CFG = (11, 8, 8, 2, 1, 1, 12)        # vocab, context, d_model, n_heads, n_kv_heads, n_layers, d_ff


def _lora():
    from nncourse.numpy_nn import Linear, LoRALinear
    return LoRALinear(Linear(4, 3, seed=0), r=2, alpha=4, seed=0)


@recipe("nncourse.numpy_nn.LoRALinear")
def _():
    from nncourse.numpy_nn import Linear
    return Call(Linear(4, 3, seed=0), 2, 4.0, dropout=0.0, seed=0, kinds={"base": "object", "alpha": "rate"})


@recipe("nncourse.numpy_nn.LoRALinear.forward")
def _():
    return Call(_lora(), np.ones((2, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.numpy_nn.LoRALinear.merge")
def _():
    return Call(_lora())


@recipe("nncourse.numpy_nn.lora_init")
def _():
    return Call(4, 3, 2, 0, np.float32, kinds={"seed": "seed", "dtype": "dtype"})


@recipe("nncourse.torch_nn.LoRALinear")
def _():
    import torch
    return Call(torch.nn.Linear(4, 3), 2, 4.0, dropout=0.0, seed=0, kinds={"base": "object", "alpha": "rate"})


@recipe("nncourse.finetune.apply_lora")
def _():
    from nncourse.models import Llama
    return Call(Llama(*_CFG, seed=0), r=2, alpha=4, targets=("q_proj", "v_proj"), dropout=0.0, seed=0,
                verbose=False, kinds={"model": "object", "targets": "object", "alpha": "rate"})


@recipe("nncourse.finetune.merge_lora")
def _():
    from nncourse.finetune import apply_lora
    from nncourse.models import Llama
    return Call(apply_lora(Llama(*_CFG, seed=0), r=1, alpha=2, verbose=False), kinds={"model": "object"})


@recipe("nncourse.finetune.count_parameters")
def _():
    return Call(_lora(), kinds={"model": "object"})


@recipe("nncourse.finetune.masked_token_nll")
def _():
    mask = np.array([[False, True, True]])
    return Call(np.zeros((1, 3, 5)), np.array([[1, 2, 3]]), mask,
                kinds={"logits": "array", "targets": "array", "mask": "array"})


@recipe("nncourse.finetune.label_log_likelihoods")
def _():
    return Call(np.log(np.full((2, 3), 1 / 3)), [[0, 1], [2]], kinds={"log_probs": "array", "label_tokens": "object"})


@recipe("nncourse.data.genre.genre_passages")
def _():
    return Call("macbeth", words=48, kinds={"play": "text"})


@recipe("nncourse.data.genre.load_genre_task")
def _():
    return Call(seed=0, per_play=2, words=48, test_per_class=2, val_per_class=1)


@recipe("nncourse.data.genre.speaker_json_examples")
def _():
    return Call(["macbeth"], per_play=2, max_lines=4, seed=0, kinds={"plays": "object"})
