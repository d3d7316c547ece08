"""The PyTorch twin of ``nncourse.numpy_nn``: the same networks, built from the same numbers.

``mlp(...)`` builds the NumPy network first and converts it, so with the same ``seed`` both back
ends start from identical weights and can be compared number for number::

    import nncourse.numpy_nn as nn_np, nncourse.torch_nn as nn_t
    a = nn_np.mlp([2, 8, 1], "tanh", seed=3)
    b = nn_t.mlp([2, 8, 1], "tanh", seed=3)     # a torch.nn.Sequential with a's weights

``from_numpy(module)`` converts any NumPy network made of the shared layers; ``numpy_nn.from_torch``
goes the other way. ``Step`` (the perceptron's threshold) and ``TransformerBlock`` have no torch
counterpart, so they are defined here, each declaring its NumPy twin in its own file.

Modules, laid out like ``numpy_nn``: ``activation.py`` (``Step``), ``transformer.py``
(``TransformerBlock``), ``lora.py`` (``LoRALinear``), ``dtypes.py``, ``convert.py`` (``from_numpy``),
``builders.py`` (``mlp``);
``clip_grad_norm_`` is torch's own. The complete models' torch twins live in ``nncourse.models.torch``.
This package imports ``numpy_nn``; ``numpy_nn`` never imports it.
"""

from .activation import *  # noqa: F403  Step
from .dtypes import *  # noqa: F403  numpy_dtype, torch_dtype
from .convert import *  # noqa: F403  from_numpy, supported_numpy_layers
from .builders import *  # noqa: F403  mlp
from torch.nn.utils import clip_grad_norm_  # noqa: F401  torch's own: the twin of numpy_nn.clip_grad_norm_
from .transformer import *  # noqa: F403  TransformerBlock
from .lora import *  # noqa: F403  LoRALinear (ch. 18; its NumPy twin declares the pair)
