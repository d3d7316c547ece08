"""``from_torch``: translate a PyTorch network into the NumPy back end, weights included.

It is the reverse of ``nncourse.torch_nn.from_numpy``, so a network can go back and forth::

    model = from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    model[0].weight.data      # the torch weights, as a NumPy array

Only the layers that exist in both back ends can be translated (see ``SUPPORTED_TORCH_LAYERS``);
anything else raises ``ConversionError`` naming the layer. PyTorch is imported only when this
function is called, so the rest of ``numpy_nn`` works without it.

Layers are looked up by their torch class name in ``_CONVERTERS`` (one small function per layer), so
this module never imports ``nncourse.torch_nn``: the course's own torch layers (``Step``) are named
``"nncourse.torch_nn.Step"``. To support a new layer, write ``_name(layer, where, rng)`` and add it
to the table.
"""

import numpy as np

from ..errors import ConversionError
from ..utils import as_rng
from . import registry
from .activation import Identity, LeakyReLU, MultiheadAttention, ReLU, Sigmoid, Softmax, Step, Tanh
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .pooling import MaxPool2d
from .rnn import GRU, LSTM, RNN
from .sparse import Embedding

__all__ = ["from_torch", "SUPPORTED_TORCH_LAYERS"]


def from_torch(torch_module, *, seed=None):
    """Return the NumPy twin of ``torch_module`` (a ``Sequential`` for a ``torch.nn.Sequential``).

    Weights are copied (float32 stays float32, float64 stays float64) and the training / evaluation
    mode is kept. ``seed`` seeds the NumPy ``Dropout`` layers (their random masks cannot match
    torch's anyway). Raises ``ConversionError`` for a layer the NumPy back end does not have.
    """
    import torch

    if not isinstance(torch_module, torch.nn.Module):
        raise ConversionError(
            f"from_torch expects a torch.nn.Module, got {type(torch_module).__name__}. "
            f"(To go from NumPy to torch, use nncourse.torch_nn.from_numpy.)"
        )
    model = _convert(torch_module, "model", as_rng(seed))
    model.train(torch_module.training)
    return model


def torch_layer_name(layer):
    """``"torch.nn.Linear"`` for a ``torch.nn.Linear``, ``"nncourse.torch_nn.Step"`` for the course's own."""
    kind = type(layer)
    for package in ("torch.nn", "nncourse.torch_nn"):
        if kind.__module__ == package or kind.__module__.startswith(package + "."):
            return f"{package}.{kind.__qualname__}"
    return f"{kind.__module__}.{kind.__qualname__}"


def _convert(layer, where, rng):
    """Translate one torch layer; ``where`` is its position ("model.2") for error messages."""
    twin = registry.twin_for_torch_layer(layer)
    if twin is not None:
        return twin.from_torch(layer, where, rng)
    name = torch_layer_name(layer)
    if name not in _CONVERTERS:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy back end has no "
            f"{type(layer).__name__}. Supported layers: {', '.join(SUPPORTED_TORCH_LAYERS)}."
        )
    return _CONVERTERS[name](layer, where, rng)


def _sequential(layer, where, rng):
    return Sequential(*(_convert(child, f"{where}.{name}", rng) for name, child in layer.named_children()))


def _dropout(layer, where, rng):
    return Dropout(layer.p, rng=rng)


def _leaky_relu(layer, where, rng):
    return LeakyReLU(layer.negative_slope)


def _softmax(layer, where, rng):
    # torch's dim=None means "the last dimension" for the 2-D batches used here
    return Softmax(dim=-1 if layer.dim is None else layer.dim)


def _no_arguments(numpy_class):
    """A converter for a layer with nothing to copy (an activation)."""
    return lambda layer, where, rng: numpy_class()


def numpy_dtype_of(layer, where):
    """The NumPy dtype of ``layer``'s weights, or ``ConversionError`` for anything but float32/64."""
    import torch

    dtypes = {torch.float32: np.float32, torch.float64: np.float64}
    weight = next(layer.parameters())
    if weight.dtype not in dtypes:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: its weights are {weight.dtype}; "
            f"the NumPy back end supports torch.float32 and torch.float64 (call .float() first)."
        )
    return dtypes[weight.dtype]


def _linear(layer, where, rng):
    dtype = numpy_dtype_of(layer, where)
    twin = Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                  init="zeros", dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (out, in), same layout in both
    if layer.bias is not None:
        twin.bias.data = to_numpy(layer.bias, dtype)            # (out,)
    return twin


def _conv2d(layer, where, rng):
    dtype = numpy_dtype_of(layer, where)
    if layer.dilation != (1, 1) or layer.groups != 1 or layer.padding_mode != "zeros" or isinstance(layer.padding, str):
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy Conv2d has numeric zero padding, "
            f"no dilation and no groups (dilation={layer.dilation}, groups={layer.groups}, "
            f"padding={layer.padding!r}, padding_mode={layer.padding_mode!r})."
        )
    twin = Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                  padding=layer.padding, bias=layer.bias is not None, init="zeros", dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (out, in, kh, kw), same layout in both
    if layer.bias is not None:
        twin.bias.data = to_numpy(layer.bias, dtype)            # (out,)
    return twin


def _max_pool2d(layer, where, rng):
    if layer.dilation not in (1, (1, 1)) or layer.ceil_mode or layer.return_indices:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy MaxPool2d has no dilation, "
            f"ceil_mode or return_indices."
        )
    return MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)


def to_numpy(tensor, dtype):
    """A NumPy copy of a torch tensor (never a view: changing one must not change the other)."""
    return np.array(tensor.detach().cpu().numpy(), dtype=dtype, copy=True)


def _multihead_attention(layer, where, rng):
    """torch.nn.MultiheadAttention with one stacked in-projection (kdim = vdim = embed_dim)."""
    unsupported = [name for name, bad in (
        ("kdim/vdim different from embed_dim", not layer._qkv_same_embed_dim),
        ("add_bias_kv", layer.bias_k is not None),
        ("add_zero_attn", layer.add_zero_attn),
        (f"dropout={layer.dropout}", layer.dropout != 0)) if bad]
    if unsupported:
        raise ConversionError(f"from_torch cannot translate {where} = {layer!r}: the NumPy MultiheadAttention "
                              f"does not support {', '.join(unsupported)}.")
    dtype = numpy_dtype_of(layer, where)
    has_bias = layer.in_proj_bias is not None
    twin = MultiheadAttention(layer.embed_dim, layer.num_heads, bias=has_bias, batch_first=layer.batch_first,
                              dtype=dtype)
    twin.in_proj_weight.data = to_numpy(layer.in_proj_weight, dtype)       # (3E, E)
    if has_bias:
        twin.in_proj_bias.data = to_numpy(layer.in_proj_bias, dtype)       # (3E,)
    twin.out_proj = _linear(layer.out_proj, f"{where}.out_proj", rng)
    return twin


def _attention_tagger(layer, where, rng):
    """The course's torch ``AttentionTagger`` -> ``nncourse.models.AttentionTagger`` (same state_dict names)."""
    from ..models import AttentionTagger   # nncourse.models imports numpy_nn: import it only when needed

    dtype = numpy_dtype_of(layer, where)
    attention = layer.layers[0]
    twin = AttentionTagger(layer.token_embedding.num_embeddings, layer.position_embedding.num_embeddings,
                           attention.embed_dim, attention.num_heads, len(layer.layers), layer.head.out_features,
                           dtype=dtype)
    twin.load_state_dict({name: to_numpy(value, dtype) for name, value in layer.state_dict().items()})
    return twin


def _embedding(layer, where, rng):
    if layer.padding_idx is not None or layer.max_norm is not None:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy Embedding has no padding_idx or "
            f"max_norm; build the torch layer without them"
        )
    dtype = numpy_dtype_of(layer, where)
    twin = Embedding(layer.num_embeddings, layer.embedding_dim, dtype=dtype)
    twin.weight.data = to_numpy(layer.weight, dtype)            # (num_embeddings, embedding_dim)
    return twin


def _recurrent(layer, where, rng):
    """``torch.nn.RNN`` / ``LSTM`` / ``GRU`` -> the NumPy twin, every ``weight_ih_l{k}``... copied by name."""
    unsupported = {"bidirectional": layer.bidirectional, "dropout": layer.dropout,
                   "proj_size": getattr(layer, "proj_size", 0)}
    used = {name: value for name, value in unsupported.items() if value}
    if used:
        raise ConversionError(
            f"from_torch cannot translate {where} = {layer!r}: the NumPy {type(layer).__name__} does not "
            f"support {', '.join(f'{k}={v}' for k, v in used.items())}"
        )
    dtype = numpy_dtype_of(layer, where)
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first, dtype=dtype)
    if layer.mode in ("LSTM", "GRU"):
        twin = (LSTM if layer.mode == "LSTM" else GRU)(layer.input_size, layer.hidden_size, **options)
    else:
        twin = RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity, **options)
    for name, param in twin.named_parameters():
        param.data = to_numpy(getattr(layer, name), dtype)     # same names, shapes and gate order
    return twin


# torch class name -> converter(layer, where, rng) returning the NumPy twin
_CONVERTERS = {
    "torch.nn.Sequential": _sequential,
    "torch.nn.Linear": _linear,
    "torch.nn.NonDynamicallyQuantizableLinear": _linear,   # MultiheadAttention's out_proj
    "torch.nn.MultiheadAttention": _multihead_attention,
    "torch.nn.Embedding": _embedding,
    "torch.nn.RNN": _recurrent,
    "torch.nn.LSTM": _recurrent,
    "torch.nn.GRU": _recurrent,
    "torch.nn.Dropout": _dropout,
    "torch.nn.Conv2d": _conv2d,
    "torch.nn.MaxPool2d": _max_pool2d,
    "torch.nn.Flatten": lambda layer, where, rng: Flatten(layer.start_dim, layer.end_dim),
    "torch.nn.LeakyReLU": _leaky_relu,
    "torch.nn.Softmax": _softmax,
    "torch.nn.Sigmoid": _no_arguments(Sigmoid),
    "torch.nn.Tanh": _no_arguments(Tanh),
    "torch.nn.ReLU": _no_arguments(ReLU),
    "torch.nn.Identity": _no_arguments(Identity),
    "nncourse.torch_nn.Step": _no_arguments(Step),
    "nncourse.torch_nn.AttentionTagger": _attention_tagger,
}
SUPPORTED_TORCH_LAYERS = tuple(_CONVERTERS)


# ------------------------------------------------------------------ ch10: LayerNorm, GELU, GPT
def _layer_norm(layer, where, rng):
    from .normalization import LayerNorm

    dtype = numpy_dtype_of(layer, where) if layer.elementwise_affine else np.float32
    twin = LayerNorm(tuple(layer.normalized_shape), eps=layer.eps,
                     elementwise_affine=layer.elementwise_affine, dtype=dtype)
    if layer.elementwise_affine:
        twin.weight.data = to_numpy(layer.weight, dtype)
        twin.bias.data = to_numpy(layer.bias, dtype)
    return twin


def _gelu(layer, where, rng):
    from .activation import GELU

    return GELU(layer.approximate)


def _load_torch_state(twin, layer):
    """Copy a torch module's ``state_dict`` into its NumPy twin (the names are the same)."""
    twin.load_state_dict({name: to_numpy(t, twin.dtype) for name, t in layer.state_dict().items()})
    return twin


def _transformer_block(layer, where, rng):
    from .transformer import TransformerBlock

    twin = TransformerBlock(layer.attn.embed_dim, layer.attn.num_heads, layer.drop_attn.p, rng=rng,
                            dtype=numpy_dtype_of(layer, where))
    return _load_torch_state(twin, layer)


def _gpt(layer, where, rng):
    from .gpt import GPT

    twin = GPT(layer.vocab_size, layer.context_length, layer.d_model, layer.n_heads, layer.n_layers,
               layer.drop.p, seed=rng, dtype=numpy_dtype_of(layer, where))
    return _load_torch_state(twin, layer)


_CONVERTERS.update({
    "torch.nn.LayerNorm": _layer_norm,
    "torch.nn.GELU": _gelu,
    "nncourse.torch_nn.TransformerBlock": _transformer_block,
    "nncourse.torch_nn.GPT": _gpt,
})
SUPPORTED_TORCH_LAYERS = tuple(_CONVERTERS)
