"""A neural network written from scratch in NumPy, with PyTorch's names and semantics.

Every layer keeps its ``forward`` and ``backward`` side by side; read ``layers.py`` and
``activations.py`` first, then ``losses.py`` and ``optim.py``.
"""

from .parameter import *  # noqa: F401,F403  Parameter
from .module import *  # noqa: F401,F403  Module
from . import init  # noqa: F401  weight initialisers by name
from .layers import *  # noqa: F401,F403  Linear, Dropout, Sequential
from .activations import *  # noqa: F401,F403  Step, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity
from .losses import *  # noqa: F401,F403  MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss
from . import optim, lr_scheduler  # noqa: F401
from .optim import *  # noqa: F401,F403  SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW
from .perceptron import *  # noqa: F401,F403  Perceptron
from .builders import *  # noqa: F401,F403  mlp, ACTIVATIONS
from .gradcheck import *  # noqa: F401,F403  gradcheck, numerical_gradient
from .convert import *  # noqa: F401,F403  from_torch
