"""The PyTorch twins of chapter 8's language models (``nncourse.models.charlm``), same names and weights.

Each class takes the NumPy class's arguments, builds the NumPy model (so the same ``seed`` gives the
same starting weights) and translates its layers with ``from_numpy``; the ``state_dict`` names are the
NumPy ones. The pairs are declared in ``models/charlm.py``.
"""

import numpy as np
import torch

from ...errors import DTypeError
from ...torch_nn import from_numpy
from .. import charlm

__all__ = ["BigramNet", "WindowMLP", "RecurrentLM"]


def _check_ids(x, who, width=None):
    """The NumPy twin's checks of the input (``charlm.check_ids``, the same words), on a tensor of ids; the ids'
    range too, since torch's ``Embedding`` would fail with an IndexError."""
    if not isinstance(x, torch.Tensor):
        raise DTypeError(f"{who}: x must be a torch tensor of character ids, got {type(x).__name__}; convert "
                         f"with torch.as_tensor(x)")
    if x.dtype not in (torch.int64, torch.int32):
        raise DTypeError(f"{who}: x must hold integer character ids (torch.int64), got {x.dtype}: convert with "
                         f"x.long()")
    charlm.check_ids(x.detach().cpu().numpy(), who, name="x", width=width, check_range=True)
    return x


class BigramNet(torch.nn.Module):
    """logits = one_hot(previous) @ W, with W a ``torch.nn.Embedding(27, 27)``."""

    kind = "window"
    block_size = 1

    def __init__(self, *, seed=0, dtype=np.float32):
        super().__init__()
        twin = charlm.BigramNet(seed=seed, dtype=dtype)
        self.config = twin.get_config()            # what from_torch rebuilds the NumPy twin from
        self.table = from_numpy(twin.table)

    def forward(self, x):                          # x (N, 1) int
        x = _check_ids(x, "BigramNet.forward", width=1)
        return self.table(x[:, 0])                 # (N, 27)


class WindowMLP(torch.nn.Module):
    """Embed the ``block_size`` previous characters, concatenate, tanh layer, logits."""

    kind = "window"

    def __init__(self, block_size=3, embedding_dim=10, hidden=64, *, seed=0, dtype=np.float32):
        super().__init__()
        twin = charlm.WindowMLP(block_size, embedding_dim, hidden, seed=seed, dtype=dtype)
        self.config = twin.get_config()
        self.block_size = twin.block_size
        self.embedding = from_numpy(twin.embedding)
        self.hidden = from_numpy(twin.hidden)
        self.out = from_numpy(twin.out)

    def forward(self, x):                          # x (N, block) int
        x = _check_ids(x, "WindowMLP.forward", width=self.block_size)
        e = self.embedding(x)                      # (N, block, E)
        return self.out(torch.tanh(self.hidden(e.reshape(len(x), -1))))   # (N, 27)


class RecurrentLM(torch.nn.Module):
    """Embedding -> ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (batch first) -> Linear read-out at every step."""

    kind = "sequence"

    def __init__(self, cell="lstm", embedding_dim=16, hidden=64, num_layers=1, *, nonlinearity="tanh", seed=0,
                 dtype=np.float32):
        super().__init__()
        twin = charlm.RecurrentLM(cell, embedding_dim, hidden, num_layers, nonlinearity=nonlinearity, seed=seed,
                                  dtype=dtype)
        self.config = twin.get_config()
        self.cell = cell
        self.embedding = from_numpy(twin.embedding)
        self.rnn = from_numpy(twin.rnn)
        self.out = from_numpy(twin.out)

    def forward(self, x):                          # x (B, T) int
        x = _check_ids(x, "RecurrentLM.forward")
        h, _ = self.rnn(self.embedding(x))         # (B, T, H)
        return self.out(h)                         # (B, T, 27)
