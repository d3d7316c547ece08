"""Training: ``fit`` (one loop for both back ends), ``evaluate``, ``predict`` and ``History``.

- ``loop.py``: ``fit``, ``evaluate``, ``predict`` (and the early stopping);
- ``backend.py``: the back-end adapter, ``is_torch`` and the few things NumPy and torch spell differently;
- ``checks.py``: the pre-flight checks of the arguments;
- ``divergence.py``: the one rule that calls a run diverged (``DIVERGENCE_FACTOR``);
- ``progress.py``: the progress bar; ``history.py``: ``History``.
"""

from .backend import is_torch
from .divergence import DIVERGENCE_FACTOR
from .history import History
from .loop import evaluate, fit, predict

__all__ = ["History", "fit", "evaluate", "predict", "DIVERGENCE_FACTOR", "is_torch"]
