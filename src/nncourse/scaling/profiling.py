"""Helpers for chapter 15's "where the time goes": a dataset that is slow to read, and a profile summary.

``SlowDataset`` stands in for data that costs time to load (decoding images, tokenising text): it
serves the rows of some tensors, and each item waits ``delay`` seconds. It lives in the package, not in
the notebook, so DataLoader worker processes can import it on every platform (macOS and Windows start
workers with *spawn*, which cannot find a class defined in a notebook).

``time_by_label(prof, labels)`` reads the total CPU time of each ``torch.profiler.record_function``
block out of a finished profile.
"""

from __future__ import annotations

import time

from torch.utils.data import Dataset

from ..errors import ConfigError
from ..validation import finite_number

__all__ = ["SlowDataset", "time_by_label"]


class SlowDataset(Dataset):
    """The rows of ``tensors`` (all of the same length), each taking ``delay`` seconds to read."""

    def __init__(self, *tensors, delay: float = 0.001):
        if not tensors or any(not hasattr(t, "__len__") or not hasattr(t, "__getitem__") for t in tensors) \
                or any(len(t) != len(tensors[0]) for t in tensors):
            raise ConfigError("SlowDataset needs one or more tensors (or arrays) with the same number of rows, "
                              "such as SlowDataset(x, y).")
        delay = finite_number(delay, "delay", "SlowDataset", minimum=0)
        self.tensors = tensors
        self.delay = delay

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, i):
        time.sleep(self.delay)                    # the cost of reading and decoding one example
        return tuple(t[i] for t in self.tensors)


def time_by_label(prof, labels) -> dict[str, float]:
    """Seconds of CPU time spent inside each ``record_function(label)`` block of profile ``prof``."""
    if not callable(getattr(prof, "key_averages", None)):
        raise ConfigError(f"time_by_label: prof must be a finished torch.profiler.profile (the object of "
                          f"'with torch.profiler.profile() as prof:'), got {type(prof).__name__}.")
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (list, tuple)) or not labels \
            or not all(isinstance(label, str) and label for label in labels):
        raise ConfigError(f"time_by_label: labels must be a non-empty list of record_function names, such as "
                          f"['data', 'step'], got {labels!r:.60}.")
    totals = {e.key: e.cpu_time_total for e in prof.key_averages()}
    missing = [label for label in labels if label not in totals]
    if missing:
        raise ConfigError(f"time_by_label: no record_function block named {missing} in the profile; wrap "
                          f"that part of the step in torch.profiler.record_function({missing[0]!r}).")
    return {label: totals[label] / 1e6 for label in labels}     # the profiler counts microseconds
