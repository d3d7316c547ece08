"""Contract-sweep recipes for the Part IV callables the chapters' own recipe files left out (class methods,
fast paths, the torch encoder, the chat tokenizer's constructor, the next-token widget)."""

import numpy as np

from contract import Call, recipe


def _llama():
    from nncourse.models import Llama
    return Llama(11, 8, 8, 2, 1, 1, 12, seed=0)


def _bert_config():
    from contract_recipes_minilm import _CFG
    return _CFG


@recipe("nncourse.models.Llama.from_config")
def _():
    from nncourse.models import Llama
    return Call(Llama, _llama().get_config(), kinds={"config": "object"}, extra={"config": [{}, None, "llama"]})


@recipe("nncourse.models.BertEncoder.from_config")
def _():
    from nncourse.models import BertEncoder
    model = BertEncoder(*_bert_config(), seed=0)
    return Call(BertEncoder, model.get_config(), kinds={"config": "object"}, extra={"config": [{}, None, "bert"]})


@recipe("nncourse.models.bert.check_encoder_inputs")
def _():
    ids = np.array([[2, 3, 4]])
    return Call(ids, np.ones_like(ids), np.zeros_like(ids), 11, 8, 2,
                kinds={"input_ids": "array", "attention_mask": "array", "token_type_ids": "array",
                       "vocab_size": "count", "context_length": "count", "type_vocab_size": "count"})


@recipe("nncourse.models.torch.BertEncoder.encode")
def _():
    from contract_recipes_minilm import _tokenizer

    from nncourse.models.torch import BertEncoder
    model = BertEncoder(*_bert_config(), seed=0)
    model.tokenizer = _tokenizer()
    return Call(model, ["the playing", "play."], batch_size=2, kinds={"sentences": "object"})


def _lora():
    from nncourse.numpy_nn import Linear, LoRALinear
    return LoRALinear(Linear(4, 3, seed=0), r=2, alpha=4, seed=0)


@recipe("nncourse.numpy_nn.LoRALinear.backward")
def _():
    layer = _lora()
    layer(np.ones((2, 4), np.float32))
    return Call(layer, np.ones((2, 3), np.float32), need_input_grad=True, kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.LoRALinear.fast_forward")
def _():
    return Call(_lora(), np.ones((2, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.numpy_nn.SwiGLU.step")
def _():
    from nncourse.numpy_nn import SwiGLU
    return Call(SwiGLU(4, 10, seed=0), np.ones((2, 1, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.torch_nn.LoRALinear.forward")
def _():
    import torch

    from nncourse.torch_nn import LoRALinear
    layer = LoRALinear(torch.nn.Linear(4, 3), r=2, alpha=4, seed=0)
    return Call(layer, torch.ones(2, 4), kinds={"x": "object"})


@recipe("nncourse.tokenizers.ChatTokenizer")
def _():
    return Call([], special_tokens=["<|im_end|>"], pattern="gpt2",
                kinds={"merges": "object", "special_tokens": "object", "pattern": "text"})


@recipe("nncourse.widgets.next_token.next_token_explorer")
def _():
    rng = np.random.default_rng(0)
    logits = {"the cat": rng.normal(0, 2, 30), "a dog": rng.normal(0, 1, 30)}
    return Call(logits, lambda i: f"t{i}", shown=4, kinds={"logits_by_prompt": "object", "token_str": "object",
                                                           "temperatures": "object", "top_ks": "object",
                                                           "top_ps": "object"})
