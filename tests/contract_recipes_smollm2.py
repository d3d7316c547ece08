"""Contract-sweep recipes for chapter 17's public callables (quantization, pretrained, chat tokenizer).

The model file itself is read only where a call is quick; ``load_smollm2`` and ``llama_state_dict``
(seconds per call) are swept by tests/test_smollm2.py's bad-input tests instead."""

from types import SimpleNamespace

import numpy as np
from contract import Call, recipe

_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "Ġ", "ab", "Ġab", "Ċ"]
_MERGES = ["a b", "Ġ ab"]
_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"   # no role: a tiny vocabulary


def _chat_tokenizer():
    from nncourse.tokenizers import ChatTokenizer
    return ChatTokenizer.from_vocabulary(_TOKENS, _MERGES, special_tokens=_TOKENS[:3], chat_template=_TEMPLATE,
                                         eos_token="<|im_end|>", stop_tokens=["<|endoftext|>"])


def _q4_1_tensor():
    raw = np.zeros((2, 20), np.uint8)
    raw[:, :4] = np.array([0.5, -1.0], np.float16).view(np.uint8)
    return SimpleNamespace(name="w", tensor_type=3, shape=np.array([32, 2]), data=raw)


_MESSAGES = [{"role": "user", "content": "ab ab"}]


@recipe("nncourse.quantization.dequantize_q4_1")
def _():
    return Call(_q4_1_tensor().data[0].copy(), kinds={"blocks": "array"})


@recipe("nncourse.quantization.dequantize_q8_0")
def _():
    return Call(np.zeros(34, np.uint8), kinds={"blocks": "array"})


@recipe("nncourse.quantization.dequantize_gguf_tensor")
def _():
    return Call(_q4_1_tensor(), kinds={"tensor": "object"})


@recipe("nncourse.pretrained.permute_rope_rows")
def _():
    return Call(np.arange(24.0).reshape(12, 2), 3, kinds={"weight": "array", "n_heads": "count"})


@recipe("nncourse.pretrained.unpermute_rope_rows")
def _():
    return Call(np.arange(24.0).reshape(12, 2), 3, kinds={"weight": "array", "n_heads": "count"})


@recipe("nncourse.pretrained.smollm2_path")
def _():
    return Call()


@recipe("nncourse.pretrained.file_sha256")
def _():
    from nncourse.pretrained import smollm2_path
    return Call(smollm2_path(), kinds={"path": "path"})


@recipe("nncourse.pretrained.check_sha256")
def _():
    from nncourse.pretrained import SMOLLM2_SHA256, smollm2_path
    return Call(smollm2_path(), SMOLLM2_SHA256, kinds={"path": "path", "expected": "text"})


@recipe("nncourse.tokenizers.render_chat_template")
def _():
    return Call(_TEMPLATE, _MESSAGES, add_generation_prompt=True, kinds={"template": "text", "messages": "object"})


@recipe("nncourse.tokenizers.BPETokenizer.from_vocabulary")
def _():
    from nncourse.tokenizers import BPETokenizer
    return Call(BPETokenizer, _TOKENS, _MERGES, special_tokens=_TOKENS[:3], pattern="smollm",
                kinds={"tokens": "object", "merges": "object", "special_tokens": "object", "pattern": "text"})


@recipe("nncourse.tokenizers.ChatTokenizer.from_vocabulary")
def _():
    from nncourse.tokenizers import ChatTokenizer
    return Call(ChatTokenizer, _TOKENS, _MERGES, special_tokens=_TOKENS[:3], pattern="smollm", chat_template=_TEMPLATE,
                eos_token="<|im_end|>", kinds={"tokens": "object", "merges": "object", "special_tokens": "object",
                                               "pattern": "text", "chat_template": "text", "eos_token": "text",
                                               "bos_token": "skip: None or a special token",
                                               "stop_tokens": "object"})


@recipe("nncourse.tokenizers.ChatTokenizer.apply_chat_template")
def _():
    return Call(_chat_tokenizer(), _MESSAGES, True, kinds={"messages": "object"})


@recipe("nncourse.tokenizers.ChatTokenizer.encode_chat")
def _():
    return Call(_chat_tokenizer(), _MESSAGES, True, kinds={"messages": "object"})


@recipe("nncourse.pretrained.apply_repetition_penalty")
def _():
    return Call(np.array([1.0, -1.0, 0.5]), [0, 1], 1.3, kinds={"logits": "array", "previous_ids": "object",
                                                                "penalty": "rate"})


@recipe("nncourse.pretrained.chat")
def _():
    from nncourse.models import Llama
    model = Llama(len(_TOKENS), 32, 8, 2, 1, 1, 12, seed=0)
    return Call(model, _chat_tokenizer(), _MESSAGES, max_new_tokens=3, top_k=1,
                kinds={"model": "object", "tokenizer": "object", "messages": "object",
                       "repetition_penalty": "rate"})
