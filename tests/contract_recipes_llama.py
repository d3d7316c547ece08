"""Contract-sweep recipes for chapter 16's public callables (RMSNorm, SiLU, rotary positions, SwiGLU,
grouped-query attention, the KV cache, DecoderBlock, Llama and its torch twin, frozen parameters)."""

import numpy as np
from contract import Call, recipe

_CFG = (11, 8, 8, 2, 1, 1, 12)        # vocab, context, d_model, n_heads, n_kv_heads, n_layers, d_ff


def _llama(**kw):
    from nncourse.models import Llama
    return Llama(*_CFG, seed=0, **kw)


def _torch_llama():
    from nncourse.models.torch import Llama
    return Llama(*_CFG, seed=0)


_TOKENS = np.array([[1, 2, 3]])


@recipe("nncourse.numpy_nn.Parameter.requires_grad_")
def _():
    from nncourse.numpy_nn import Parameter
    return Call(Parameter(np.zeros(3, np.float32)), False)


@recipe("nncourse.numpy_nn.Module.requires_grad_")
def _():
    from nncourse.numpy_nn import Linear
    return Call(Linear(2, 2), False)


@recipe("nncourse.numpy_nn.RMSNorm")
def _():
    return Call(4, eps=1e-5, elementwise_affine=True, dtype=np.float32)


@recipe("nncourse.numpy_nn.RMSNorm.forward")
def _():
    from nncourse.numpy_nn import RMSNorm
    return Call(RMSNorm(4), np.ones((2, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.numpy_nn.RMSNorm.backward")
def _():
    from nncourse.numpy_nn import RMSNorm
    layer = RMSNorm(4)
    layer(np.arange(8, dtype=np.float32).reshape(2, 4))
    return Call(layer, np.ones((2, 4), np.float32), kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.SiLU")
def _():
    return Call()


@recipe("nncourse.numpy_nn.SiLU.forward")
def _():
    from nncourse.numpy_nn import SiLU
    return Call(SiLU(), np.ones((2, 3), np.float32), kinds={"z": "array"})


@recipe("nncourse.numpy_nn.functional.rotary")
def _():
    return Call(np.ones((3, 4), np.float32), np.arange(3), 10000.0, interleaved=False,
                kinds={"x": "array", "positions": "array", "theta": "rate"})


@recipe("nncourse.numpy_nn.functional.rotary_backward")
def _():
    return Call(np.ones((3, 4), np.float32), np.arange(3), 10000.0, interleaved=True,
                kinds={"grad_output": "array", "positions": "array", "theta": "rate"})


@recipe("nncourse.numpy_nn.functional.rotary_frequencies")
def _():
    return Call(8, 10000.0, kinds={"head_dim": "count", "theta": "rate"})


@recipe("nncourse.numpy_nn.functional.rotary_tables")
def _():
    return Call(np.arange(4), 8, 10000.0, kinds={"positions": "array", "head_dim": "count", "theta": "rate"})


@recipe("nncourse.numpy_nn.functional.rotate_half")
def _():
    return Call(np.ones((2, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.numpy_nn.functional.rotary_permutation")
def _():
    return Call(8, kinds={"head_dim": "count"})


@recipe("nncourse.numpy_nn.functional.interleaved_to_halves")
def _():
    return Call(np.ones((8, 3), np.float32), 2, kinds={"weight": "array", "n_heads": "count"})


@recipe("nncourse.numpy_nn.functional.halves_to_interleaved")
def _():
    return Call(np.ones((8, 3), np.float32), 2, kinds={"weight": "array", "n_heads": "count"})


@recipe("nncourse.numpy_nn.SwiGLU")
def _():
    return Call(4, 10, seed=0, dtype=np.float32, std=0.02, down_std=None, kinds={"rng": "skip: a Generator"})


@recipe("nncourse.numpy_nn.SwiGLU.forward")
def _():
    from nncourse.numpy_nn import SwiGLU
    return Call(SwiGLU(4, 10, seed=0), np.ones((2, 3, 4), np.float32), kinds={"x": "array"})


@recipe("nncourse.numpy_nn.GroupedQueryAttention")
def _():
    return Call(8, 4, 2, 10000.0, seed=0, dtype=np.float32, kinds={"rope_theta": "rate",
                                                                    "rng": "skip: a Generator"})


@recipe("nncourse.numpy_nn.GroupedQueryAttention.forward")
def _():
    from nncourse.numpy_nn import GroupedQueryAttention
    return Call(GroupedQueryAttention(8, 4, 2, seed=0), np.ones((1, 3, 8), np.float32), None,
                kinds={"x": "array", "cache": "object"})


@recipe("nncourse.numpy_nn.DecoderBlock")
def _():
    return Call(8, 4, 2, 12, 10000.0, 1e-5, seed=0, dtype=np.float32,
                kinds={"rope_theta": "rate", "norm_eps": "rate", "rng": "skip: a Generator"})


@recipe("nncourse.numpy_nn.DecoderBlock.forward")
def _():
    from nncourse.numpy_nn import DecoderBlock
    return Call(DecoderBlock(8, 4, 2, 12, seed=0), np.ones((1, 3, 8), np.float32), None,
                kinds={"x": "array", "cache": "object"})


@recipe("nncourse.numpy_nn.KVCache")
def _():
    return Call(2, 1, 2, 16, 4, np.float32)


@recipe("nncourse.models.Llama")
def _():
    return Call(*_CFG, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False, seed=0, dtype=np.float32,
                kinds={"rope_theta": "rate", "norm_eps": "rate"})


@recipe("nncourse.models.Llama.forward")
def _():
    return Call(_llama(), _TOKENS, None, kinds={"idx": "array", "cache": "object"})


@recipe("nncourse.models.Llama.backward")
def _():
    model = _llama()
    model(_TOKENS)
    return Call(model, np.ones((1, 3, 11), np.float32), kinds={"grad_logits": "array"})


@recipe("nncourse.models.Llama.new_cache")
def _():
    return Call(_llama(), 1, kinds={"batch_size": "count"})


@recipe("nncourse.models.Llama.generate")
def _():
    return Call(_llama(), _TOKENS, 2, temperature=1.0, top_k=None, top_p=None, seed=0, use_cache=True,
                stop_token=None, kinds={"idx": "array", "top_k": "count", "top_p": "rate", "stop_token": "object"})


@recipe("nncourse.models.kv_cache_bytes")
def _():
    return Call(30, 3, 64, 8192, 1, 2, kinds={"bytes_per_number": "count"})


@recipe("nncourse.models.llama.sampling_probabilities")
def _():
    return Call(np.zeros((1, 5)), 1.0, 2, 0.9, kinds={"logits": "array", "temperature": "rate", "top_k": "count",
                                                       "top_p": "rate"})


@recipe("nncourse.models.torch.Llama")
def _():
    return Call(*_CFG, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False, seed=0, dtype=np.float32,
                kinds={"rope_theta": "rate", "norm_eps": "rate"})


@recipe("nncourse.models.torch.Llama.forward")
def _():
    import torch
    return Call(_torch_llama(), torch.tensor([[1, 2, 3]]), None, kinds={"idx": "array", "cache": "object"})


@recipe("nncourse.models.torch.Llama.generate")
def _():
    return Call(_torch_llama(), _TOKENS, 2, temperature=1.0, top_k=None, top_p=None, seed=0, use_cache=True,
                stop_token=None, kinds={"idx": "array", "top_k": "count", "top_p": "rate", "stop_token": "object"})


@recipe("nncourse.models.torch.Llama.new_cache")
def _():
    return Call(_torch_llama(), 1, kinds={"batch_size": "count"})


@recipe("nncourse.numpy_nn.Parameter")
def _():
    return Call(np.zeros(3, np.float32), requires_grad=True, kinds={"data": "array"})


@recipe("nncourse.numpy_nn.SiLU.backward")
def _():
    from nncourse.numpy_nn import SiLU
    layer = SiLU()
    layer(np.ones((2, 3), np.float32))
    return Call(layer, np.ones((2, 3), np.float32), kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.SwiGLU.backward")
def _():
    from nncourse.numpy_nn import SwiGLU
    layer = SwiGLU(4, 10, seed=0)
    layer(np.ones((2, 3, 4), np.float32))
    return Call(layer, np.ones((2, 3, 4), np.float32), kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.GroupedQueryAttention.backward")
def _():
    from nncourse.numpy_nn import GroupedQueryAttention
    layer = GroupedQueryAttention(8, 4, 2, seed=0)
    layer(np.ones((1, 3, 8), np.float32))
    return Call(layer, np.ones((1, 3, 8), np.float32), kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.DecoderBlock.backward")
def _():
    from nncourse.numpy_nn import DecoderBlock
    layer = DecoderBlock(8, 4, 2, 12, seed=0)
    layer(np.ones((1, 3, 8), np.float32))
    return Call(layer, np.ones((1, 3, 8), np.float32), kinds={"grad_output": "array"})


@recipe("nncourse.widgets.rotary.rotary_explorer")
def _():
    return Call(range(0, 3), (0, 1), head_dim=8, key_position=1, theta=100.0, seed=0,
                kinds={"positions": "object", "pairs": "object", "theta": "rate"})


@recipe("nncourse.widgets.rotary.relative_scores")
def _():
    return Call(np.ones(8), np.ones(8), np.arange(-2, 3), 100.0,
                kinds={"q": "array", "k": "array", "distances": "array", "theta": "rate"})
