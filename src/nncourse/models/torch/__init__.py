"""The PyTorch twins of ``nncourse.models``, with the same class names and the same starting weights::

    from nncourse.models import GPT                 # NumPy
    from nncourse.models.torch import GPT           # its torch twin

``torch_nn.from_numpy`` / ``numpy_nn.from_torch`` translate a trained model either way (the pairs are
declared in the NumPy model's file). One line per model.
"""

from .attention_tagger import AttentionTagger  # noqa: F401
from .bert import BertEncoder  # noqa: F401
from .charlm import BigramNet, RecurrentLM, WindowMLP  # noqa: F401
from .gpt import GPT  # noqa: F401
from .llama import Llama  # noqa: F401
from .resnet import BasicBlock, ResNet  # noqa: F401
