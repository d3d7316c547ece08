"""``from_numpy``: translate a NumPy network into torch, weights included (the reverse of
``numpy_nn.from_torch``).

Layers are looked up by their ``numpy_nn`` class in ``_CONVERTERS`` (one small function per layer).
To support a new layer, write ``_name(layer, where)`` and add it to the table.
"""

import torch

from .. import models, numpy_nn
from ..errors import ConversionError
from ..numpy_nn import registry
from ..models import torch as _model_twins  # noqa: F401  registers the torch twins of nncourse.models (ResNet)
from .activation import Step
from .dtypes import torch_dtype

__all__ = ["from_numpy", "SUPPORTED_NUMPY_LAYERS"]


def from_numpy(numpy_module):
    """Return a torch module computing the same function as ``numpy_module``, weights copied.

    A ``numpy_nn.Sequential`` becomes a ``torch.nn.Sequential`` with the same layer numbers, so
    parameter names match (``"0.weight"``, ``"0.bias"``, ...). The training / evaluation mode is
    kept. ``Dropout`` keeps its ``p``; its random masks come from torch's generator, so they differ
    from NumPy's. Raises ``ConversionError`` for a layer torch does not have.
    """
    if not isinstance(numpy_module, numpy_nn.Module):
        raise ConversionError(
            f"from_numpy expects a numpy_nn module, got {type(numpy_module).__name__}. "
            f"(To go from torch to NumPy, use nncourse.numpy_nn.from_torch.)"
        )
    model = _convert(numpy_module, "model")
    model.train(numpy_module.training)
    return model


def _convert(layer, where):
    """Translate one NumPy layer; ``where`` is its position ("model.2") for error messages."""
    twin = registry.twin_for_numpy_layer(layer)
    if twin is not None:
        return twin.to_torch(layer, where)
    converter = _CONVERTERS.get(type(layer))
    if converter is None:
        raise ConversionError(
            f"from_numpy cannot translate {where} = {type(layer).__name__}: there is no torch counterpart "
            f"here. Supported numpy_nn layers: {', '.join(SUPPORTED_NUMPY_LAYERS)}."
        )
    return converter(layer, where)


def _sequential(layer, where):
    return torch.nn.Sequential(*(_convert(child, f"{where}.{name}") for name, child in layer.named_children()))


def _no_arguments(torch_class):
    """A converter for a layer with nothing to copy (an activation)."""
    return lambda layer, where: torch_class()


def copy_into(torch_parameter, array):
    """Copy a NumPy array into a torch parameter (same shape, same layout), without recording grads."""
    with torch.no_grad():
        torch_parameter.copy_(torch.from_numpy(array))


def _linear(layer, where):
    dtype = torch_dtype(layer.weight.dtype, argument=f"{type(layer).__name__} weight dtype")
    has_bias = layer.bias is not None
    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(torch.nn.Linear, layer.in_features, layer.out_features,
                                    bias=has_bias, dtype=dtype)
    copy_into(twin.weight, layer.weight.data)      # (out, in), same layout
    if has_bias:
        copy_into(twin.bias, layer.bias.data)      # (out,)
    return twin


def _conv2d(layer, where):
    dtype = torch_dtype(layer.weight.dtype, argument=f"{type(layer).__name__} weight dtype")
    has_bias = layer.bias is not None
    twin = torch.nn.utils.skip_init(torch.nn.Conv2d, layer.in_channels, layer.out_channels, layer.kernel_size,
                                    stride=layer.stride, padding=layer.padding, bias=has_bias, dtype=dtype)
    copy_into(twin.weight, layer.weight.data)      # (out, in, kh, kw), same layout
    if has_bias:
        copy_into(twin.bias, layer.bias.data)      # (out,)
    return twin


def _multihead_attention(layer, where):
    dtype = torch_dtype(layer.dtype, argument="MultiheadAttention dtype")
    has_bias = layer.in_proj_bias is not None
    # skip_init: no random initialisation (it would draw from torch's global generator for nothing)
    twin = torch.nn.utils.skip_init(torch.nn.MultiheadAttention, layer.embed_dim, layer.num_heads, bias=has_bias,
                                    batch_first=layer.batch_first, dtype=dtype)
    copy_into(twin.in_proj_weight, layer.in_proj_weight.data)      # (3E, E)
    copy_into(twin.out_proj.weight, layer.out_proj.weight.data)    # (E, E)
    if has_bias:
        copy_into(twin.in_proj_bias, layer.in_proj_bias.data)      # (3E,)
        copy_into(twin.out_proj.bias, layer.out_proj.bias.data)    # (E,)
    return twin


def _attention_tagger(layer, where):
    from .attention_tagger import attention_tagger_from_numpy   # that module imports this one

    return attention_tagger_from_numpy(layer)


def _embedding(layer, where):
    dtype = torch_dtype(layer.weight.dtype, argument=f"{type(layer).__name__} weight dtype")
    twin = torch.nn.utils.skip_init(torch.nn.Embedding, layer.num_embeddings, layer.embedding_dim, dtype=dtype)
    copy_into(twin.weight, layer.weight.data)      # (num_embeddings, embedding_dim)
    return twin


def _recurrent(layer, where):
    """``numpy_nn.RNN`` / ``LSTM`` / ``GRU`` -> the torch layer: same names, shapes, gate order."""
    dtype = torch_dtype(layer.dtype, argument=f"{type(layer).__name__} weight dtype")
    # built on the "meta" device (no random initialisation, which would draw from torch's global
    # generator for nothing), then given real, uninitialised memory; skip_init cannot build an RNN
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                   dtype=dtype, device="meta")
    if isinstance(layer, (numpy_nn.LSTM, numpy_nn.GRU)):
        kind = torch.nn.LSTM if isinstance(layer, numpy_nn.LSTM) else torch.nn.GRU
        twin = kind(layer.input_size, layer.hidden_size, **options)
    else:
        twin = torch.nn.RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity, **options)
    twin = twin.to_empty(device="cpu")
    for name, param in layer.named_parameters():
        copy_into(getattr(twin, name), param.data)
    return twin


# numpy_nn class -> converter(layer, where) returning the torch twin
_CONVERTERS = {
    numpy_nn.Sequential: _sequential,
    numpy_nn.Linear: _linear,
    numpy_nn.MultiheadAttention: _multihead_attention,
    models.AttentionTagger: _attention_tagger,
    numpy_nn.Embedding: _embedding,
    numpy_nn.RNN: _recurrent,
    numpy_nn.LSTM: _recurrent,
    numpy_nn.GRU: _recurrent,
    numpy_nn.Dropout: lambda layer, where: torch.nn.Dropout(layer.p),
    numpy_nn.Conv2d: _conv2d,
    numpy_nn.MaxPool2d: lambda layer, where: torch.nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding),
    numpy_nn.Flatten: lambda layer, where: torch.nn.Flatten(layer.start_dim, layer.end_dim),
    numpy_nn.LeakyReLU: lambda layer, where: torch.nn.LeakyReLU(layer.negative_slope),
    numpy_nn.Softmax: lambda layer, where: torch.nn.Softmax(dim=layer.dim),
    numpy_nn.Step: _no_arguments(Step),
    numpy_nn.Sigmoid: _no_arguments(torch.nn.Sigmoid),
    numpy_nn.Tanh: _no_arguments(torch.nn.Tanh),
    numpy_nn.ReLU: _no_arguments(torch.nn.ReLU),
    numpy_nn.Identity: _no_arguments(torch.nn.Identity),
}
SUPPORTED_NUMPY_LAYERS = tuple(kind.__name__ for kind in _CONVERTERS)


# ------------------------------------------------------------------ ch10: LayerNorm, GELU, GPT
def _layer_norm(layer, where):
    dtype = torch_dtype(layer.dtype, argument="LayerNorm dtype")
    twin = torch.nn.LayerNorm(layer.normalized_shape, eps=layer.eps,
                              elementwise_affine=layer.elementwise_affine, dtype=dtype)
    if layer.elementwise_affine:
        copy_into(twin.weight, layer.weight.data)
        copy_into(twin.bias, layer.bias.data)
    return twin


def _load_numpy_state(twin, layer):
    """Copy a NumPy module's ``state_dict`` into its torch twin (the names are the same)."""
    twin.load_state_dict({name: torch.from_numpy(array) for name, array in layer.state_dict().items()})
    return twin


def _transformer_block(layer, where):
    from .gpt import TransformerBlock

    twin = TransformerBlock(layer.d_model, layer.n_heads, layer.drop_attn.p,
                            dtype=torch_dtype(layer.dtype, argument="TransformerBlock dtype"))
    return _load_numpy_state(twin, layer)


def _gpt(layer, where):
    from .gpt import GPT

    twin = GPT(layer.vocab_size, layer.context_length, layer.d_model, layer.n_heads, layer.n_layers,
               layer.dropout, seed=0, dtype=torch_dtype(layer.dtype, argument="GPT dtype"))
    return _load_numpy_state(twin, layer)


_CONVERTERS.update({
    numpy_nn.LayerNorm: _layer_norm,
    numpy_nn.GELU: lambda layer, where: torch.nn.GELU(approximate=layer.approximate),
    numpy_nn.TransformerBlock: _transformer_block,
    numpy_nn.GPT: _gpt,
})
SUPPORTED_NUMPY_LAYERS = tuple(kind.__name__ for kind in _CONVERTERS)
