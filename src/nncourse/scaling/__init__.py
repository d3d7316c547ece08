"""Chapter 15, scaling up: devices, data parallelism (from scratch, then with torch.distributed),
gradient accumulation and checkpoints.

Modules:

- ``device.py``: ``pick_device`` (cuda, mps or cpu), ``to_device``, ``to_numpy``, ``check_same_device``,
  ``require_cpu``, ``loader_settings``; ``DeviceError``.
- ``data_parallel.py`` (NumPy only): shards, simulated workers, ``all_reduce_mean``, ``ring_all_reduce``
  with its byte counter.
- ``accumulation.py``: ``accumulate_gradients`` / ``accumulated_step`` (torch or ``numpy_nn``).
- ``checkpoint.py``: atomic ``save_checkpoint`` / ``load_checkpoint`` with optimizer, scheduler and RNG
  state; ``latest_checkpoint``.
- ``resumable.py``: a demo run that checkpoints, can be SIGKILLed and resumes (``python -m``).
- ``ddp.py``: ``train_ddp`` (``DistributedDataParallel``, gloo, 127.0.0.1, a deadline), ``train_single``;
  ``python -m nncourse.scaling.ddp`` also runs under ``torchrun``; ``WorkerError``.
- ``memory.py``: the arithmetic of the scaling calculator (bytes for weights, gradients, Adam; FLOPs).

``data_parallel`` and ``memory`` never import torch; the others do.
"""

from .data_parallel import *  # noqa: F403
from .device import *  # noqa: F403
from .accumulation import *  # noqa: F403
from .checkpoint import *  # noqa: F403
