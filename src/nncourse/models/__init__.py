"""Every complete model of the course, in NumPy; their torch twins (same names) are in ``nncourse.models.torch``.

- ``perceptron.py`` (chapter 1): ``Perceptron``, with its own learning rule (no torch twin: torch has none);
- ``charlm.py`` (chapter 8): the character-level language models of names, ``BigramCounts``,
  ``BigramNet``, ``WindowMLP``, ``RecurrentLM``, with ``train_lm``, ``evaluate_lm``, ``sample_names``...;
- ``attention_tagger.py`` (chapter 9): ``AttentionTagger``, with ``train_tagger``, ``exact_match``,
  ``predict_tokens``;
- ``gpt.py`` (chapter 10): ``GPT``; ``gpt_training.py``: ``train_gpt``, the batches, sampling and the
  addition task;
- ``regularized.py`` (chapter 11): ``RegularizedRun`` and ``train_regularized``, the chapter's small MLP
  on MNIST digits with any mix of dropout, weight decay, early stopping and shifted copies;
- ``resnet.py`` (chapter 12): ``ResNet`` and ``BasicBlock``; ``deep_signal.py``: the chapter's deep MLP
  experiment, ``signal_through_depth`` (activations and gradients per layer under each initialization).
- ``llama.py`` (chapter 16): ``Llama`` (RMSNorm, rotary positions, SwiGLU, grouped-query attention, Hugging
  Face's module names) with ``generate`` and its KV cache, and ``kv_cache_bytes``.
- ``bert.py`` (chapter 20): ``BertEncoder``, a BERT-style encoder (bidirectional attention with a padding
  mask, post-LayerNorm, Hugging Face's module names) with ``encode`` (mean pooling, L2 norm), and ``mean_pool``.

Each model declares its torch twin and how it is saved in its own file (``numpy_nn.registry``). The
building blocks (layers, losses, optimizers) are in ``nncourse.numpy_nn``, which never imports this package.
"""

from .attention_tagger import *  # noqa: F403  AttentionTagger, train_tagger, exact_match, predict_tokens
from .bert import BertEncoder, mean_pool  # noqa: F401
from .charlm import BigramCounts, BigramNet, RecurrentLM, WindowMLP  # noqa: F401
from .gpt import *  # noqa: F403  GPT
from .llama import Llama, kv_cache_bytes  # noqa: F401
from .perceptron import *  # noqa: F403  Perceptron
from .regularized import RegularizedRun, train_regularized  # noqa: F401
from .resnet import *  # noqa: F403  ResNet, BasicBlock
