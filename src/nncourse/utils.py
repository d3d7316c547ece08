"""Small helpers shared by the whole package."""

import numbers
import os

import numpy as np

from .errors import ConfigError


def as_rng(seed=None, rng=None):
    """Return a ``numpy.random.Generator``.

    Pass either ``rng`` (an existing Generator, used as is) or ``seed`` (an int, or ``None`` for fresh
    entropy). Every random choice in the course goes through one of these, so that a seed reproduces it.
    """
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0), got "
                              f"{type(rng).__name__}; or pass seed=<int> instead")
        return rng
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ConfigError(f"seed must be a whole number >= 0 (or None for fresh randomness), got {seed!r}")
    return np.random.default_rng(seed)


def default_file_mode():
    """The mode a new file gets from ``open()``: ``0o666`` minus the process umask (usually 0o644).

    ``tempfile.mkstemp`` creates files with mode 0o600 (private), so a file written to a temporary
    name and renamed into place keeps 0o600 unless it is given this mode first.
    """
    mask = _current_umask()
    return 0o666 & ~mask


def _current_umask():
    try:  # Linux: read it without changing it (os.umask can only be read by setting it)
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish(temporary, target):
    """Give ``temporary`` the normal file mode and rename it to ``target`` (atomic on one file system)."""
    os.chmod(temporary, default_file_mode())
    os.replace(temporary, target)


def unwritable_folder_message(folder, error, *, what="files", fix=None):
    """The message for a folder the course cannot write into (a read-only cache, a missing permission)."""
    fix = fix or "choose a writable folder"
    return (f"cannot write {what} to {folder}: {error.strerror or error}. The folder is read-only or not "
            f"yours; {fix}.")
