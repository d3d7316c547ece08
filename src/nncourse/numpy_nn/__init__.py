"""A neural network written from scratch in NumPy, with PyTorch's names and semantics.

The modules are laid out as torch lays out ``torch/nn/modules/``, so each class sits where torch keeps
its own:

- layers: ``linear.py`` (``Linear``), ``conv.py`` (``Conv2d``), ``pooling.py`` (``MaxPool2d``),
  ``flatten.py``, ``dropout.py``, ``container.py`` (``Sequential``), ``activation.py`` (the
  activations, ``GELU`` and ``MultiheadAttention``, which torch keeps there too), ``normalization.py``
  (``LayerNorm``), ``sparse.py`` (``Embedding``), ``rnn.py`` (``RNN``, ``LSTM``, ``GRU``),
  ``transformer.py`` (``TransformerBlock``), ``decoder.py`` (chapter 16's ``DecoderBlock``: ``RMSNorm``,
  rotary positions, ``SwiGLU``, ``GroupedQueryAttention`` and the ``KVCache``), ``lora.py`` (chapter 18's
  ``LoRALinear``, a frozen ``Linear`` plus a low-rank update);
- ``functional.py`` (``scaled_dot_product_attention``, as in ``torch.nn.functional``), ``loss.py``,
  ``clip_grad.py`` (``torch/nn/utils/``), ``optim.py`` and ``lr_scheduler.py`` (``torch/optim/``);
- the course's own: ``builders.py`` (``mlp``), ``init.py``, ``gradcheck.py``,
  ``registry.py`` (twins and saving, declared by each layer), ``convert.py`` (``from_torch``).

Complete models (the perceptron, the language models, the attention tagger, the GPT) live in
``nncourse.models``.

Every layer keeps its ``forward`` and ``backward`` side by side: read ``linear.py`` and
``activation.py`` first, then ``loss.py`` and ``optim.py``.

This package imports nothing above it (never ``torch``, ``nncourse.torch_nn`` or ``nncourse.models``):
the twins depend on it, not the other way round. The converters import torch only when called.
"""

from .parameter import *  # noqa: F403  Parameter
from .module import *  # noqa: F403  Module
from . import registry  # noqa: F401  register_twin, twin_of, saveable: converters and io declared per layer
from . import init  # noqa: F401  weight initialisers by name
from .linear import *  # noqa: F403  Linear
from .conv import *  # noqa: F403  Conv2d, conv_output_size, im2col, col2im
from .pooling import *  # noqa: F403  MaxPool2d
from .flatten import *  # noqa: F403  Flatten
from .dropout import *  # noqa: F403  Dropout
from .container import *  # noqa: F403  Sequential
from .activation import *  # noqa: F403  Step, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity, GELU, SiLU, MultiheadAttention
from .batchnorm import *  # noqa: F403  BatchNorm1d, BatchNorm2d
from .normalization import *  # noqa: F403  LayerNorm, RMSNorm
from .sparse import *  # noqa: F403  Embedding
from .rnn import *  # noqa: F403  RNN, LSTM, GRU
from .transformer import *  # noqa: F403  TransformerBlock
from .decoder import *  # noqa: F403  SwiGLU, GroupedQueryAttention, DecoderBlock, KVCache (ch. 16)
from .lora import *  # noqa: F403  LoRALinear, lora_init (ch. 18)
from . import functional  # noqa: F401  scaled_dot_product_attention, attention_forward/backward (torch.nn.functional)
from .functional import scaled_dot_product_attention  # noqa: F401
from .loss import *  # noqa: F403  MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
from .clip_grad import *  # noqa: F403  clip_grad_norm_
from . import optim, lr_scheduler  # noqa: F401
from .optim import *  # noqa: F403  SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW
from .builders import *  # noqa: F403  mlp, ACTIVATIONS
from .gradcheck import *  # noqa: F403  gradcheck, numerical_gradient
from .convert import *  # noqa: F403  from_torch, supported_torch_layers
