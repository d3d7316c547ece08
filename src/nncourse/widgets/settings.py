"""Every playground control, declared once.

``PlaygroundSettings`` is a frozen dataclass: one field per control. Each field carries a ``Control``
in its metadata that says how to show it (label, widget kind, range or choices, log scale). The live
playground builds its widgets by walking this table, so adding a control here is all it takes to get
a slider for it, a check that its value is valid, and a place in ``repr``.

Because the dataclass is frozen and its ``repr`` is a valid Python expression, a configuration can be
copied from the playground into code and reproduced exactly::

    >>> s = PlaygroundSettings(dataset="spiral", hidden_layers=3, learning_rate=0.03)
    >>> eval(repr(s)) == s
    True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

__all__ = ["Control", "PlaygroundSettings", "controls"]


@dataclass(frozen=True)
class Control:
    """How one setting is shown and which values it accepts.

    ``kind`` is one of ``"dropdown"``, ``"toggle"`` (a row of buttons), ``"slider"`` (float),
    ``"int_slider"``, ``"choice_slider"`` (a slider over ``choices``) or ``"int_text"``.
    For sliders ``low``/``high`` bound the value (inclusive) and ``step`` is the slider's step; with
    ``log=True`` the slider moves through powers of ten and ``step`` is in the exponent.
    """

    label: str
    kind: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""


def _setting(default, control: Control):
    return field(default=default, metadata={"control": control})


DATASETS = ("xor", "circles", "moons", "spiral", "blobs")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam")
BACKENDS = ("numpy", "torch")
BATCH_SIZES = (1, 4, 8, 16, 32, 64, 128, 256, 1024)


@dataclass(frozen=True)
class PlaygroundSettings:
    """All the choices that define one playground run: data, network, training.

    Every field is validated on creation (a ``ConfigError`` says which field, the allowed values and
    what was given). Use ``dataclasses.replace(settings, learning_rate=0.1)`` or
    ``settings.replace(learning_rate=0.1)`` to change one value.
    """

    dataset: str = _setting("xor", Control("Data set", "dropdown", choices=DATASETS))
    noise: float = _setting(
        0.2, Control("Noise", "slider", 0.0, 0.5, 0.05,
                     help="0 = clean, 0.5 = very noisy (scaled to suit each data set)"))
    samples: int = _setting(200, Control("Points", "int_slider", 50, 1000, 50))
    test_fraction: float = _setting(
        0.25, Control("Test share", "slider", 0.1, 0.9, 0.05,
                      help="fraction of the points held out to measure generalisation"))
    hidden_layers: int = _setting(2, Control("Hidden layers", "int_slider", 0, 4, 1))
    neurons: int = _setting(8, Control("Neurons per layer", "int_slider", 1, 32, 1))
    activation: str = _setting("tanh", Control("Activation", "dropdown", choices=ACTIVATIONS))
    learning_rate: float = _setting(
        0.03, Control("Learning rate", "slider", 1e-4, 10.0, 0.1, log=True))
    optimizer: str = _setting("momentum", Control("Optimizer", "dropdown", choices=OPTIMIZERS,
                                                  help="momentum = SGD with momentum 0.9"))
    batch_size: int = _setting(32, Control("Batch size", "choice_slider", choices=BATCH_SIZES))
    epochs: int = _setting(100, Control("Epochs", "int_slider", 1, 500, 1))
    l2: float = _setting(0.0, Control("L2 (weight decay)", "slider", 0.0, 0.1, 0.001))
    backend: str = _setting("numpy", Control("Back end", "toggle", choices=BACKENDS))
    seed: int = _setting(0, Control("Seed", "int_text", 0, 2**31 - 1))

    def __post_init__(self):
        for f in dataclasses.fields(self):
            _check(f, getattr(self, f.name))
            if f.type in ("float", float) and isinstance(getattr(self, f.name), int):
                # 1 and 1.0 are the same setting; store floats so repr and widgets agree
                object.__setattr__(self, f.name, float(getattr(self, f.name)))

    def replace(self, **changes) -> "PlaygroundSettings":
        """A copy with some fields changed (validated like a new one)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(f"PlaygroundSettings has no setting {unknown[0]!r}; the settings are "
                              f"{', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **changes)

    def as_code(self) -> str:
        """Two lines of Python that rebuild exactly this run outside the playground."""
        return ("from nncourse.widgets import PlaygroundSettings, train_playground\n"
                f"result = train_playground({self!r})")


def controls() -> list[tuple[str, Any, Control]]:
    """The control table: ``(name, default, Control)`` for every setting, in display order."""
    return [(f.name, f.default, f.metadata["control"]) for f in dataclasses.fields(PlaygroundSettings)]


def _check(f: dataclasses.Field, value):
    """Raise ``ConfigError`` unless ``value`` is allowed for field ``f``."""
    c: Control = f.metadata["control"]
    where = f"PlaygroundSettings.{f.name}"
    if c.choices:
        if value not in c.choices or isinstance(value, bool):
            raise ConfigError(f"{where} must be one of {list(c.choices)}, got {value!r}")
        return
    want_int = f.type in ("int", int)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            want_int and not float(value).is_integer()):
        raise ConfigError(f"{where} must be {'an integer' if want_int else 'a number'}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be finite, got {value!r}")
    if want_int and not isinstance(value, int):
        raise ConfigError(f"{where} must be an int (like {int(value)}), got {value!r}")
    if c.low is not None and not (c.low <= value <= c.high):
        raise ConfigError(f"{where} must be between {c.low:g} and {c.high:g}, got {value!r}")
