"""Small complete models built from ``numpy_nn`` layers, each with a PyTorch twin in ``torch_nn``.

``AttentionTagger`` (chapter 9): token and position embeddings, self-attention layers with residual
connections, and a linear classifier at every position; ``train_tagger`` / ``exact_match`` train and
score it (NumPy or torch).
"""

from .attention_tagger import *  # noqa: F401,F403  AttentionTagger, train_tagger, exact_match, predict_tokens
from .resnet import *  # noqa: F401,F403  ResNet, BasicBlock
