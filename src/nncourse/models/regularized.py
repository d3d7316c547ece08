"""Chapter 11's experiment, in one place: a small MLP trained on MNIST digits with any mix of the
regularizers (dropout, weight decay, early stopping, augmentation), for the chapter, its widget and
the script that precomputes the widget's curves.

``RegularizedRun(...)`` names one setting; ``train_regularized(run, data, seed=...)`` trains it with the
one training loop (``nncourse.train.fit``) and returns ``(model, history)``. ``data`` is
``(X_train, y_train, X_val, y_val)`` rows of 784 pixels (a ``nncourse.data.Split``). Everything is
NumPy float64, seeded: the same call gives the same numbers on every machine up to rounding.

How each technique enters:

- ``dropout=p``: ``nn.mlp(..., dropout=p)``, a ``Dropout`` after every hidden activation;
- ``weight_decay=lam``: ``nn.SGD(..., weight_decay=lam)`` (for SGD this is the L2 penalty
  ``lam / 2 * ||w||^2`` added to the loss, biases included, as torch does);
- ``augment=k``: ``k`` shifted copies of every training digit (``nncourse.data.augmented_copies``),
  made once and shuffled in with the originals;
- ``patience=k``: ``fit(..., patience=k, restore_best=True)`` on the validation loss.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from .. import numpy_nn as nn
from ..validation import boolean, non_negative_int, positive_float, positive_int, probability
from ..data.augmented import augmented_copies
from ..errors import ConfigError
from ..train import fit

__all__ = ["RegularizedRun", "train_regularized", "CURVE_GRID", "regularization_curves"]


@dataclasses.dataclass(frozen=True)
class RegularizedRun:
    """One setting of the chapter's experiment (all regularizers off by default)."""

    n_train: int = 500
    hidden: tuple = (64,)
    dropout: float = 0.0
    weight_decay: float = 0.0
    augment: int = 0            # shifted copies of each training digit
    max_shift: int = 2
    patience: int | None = None
    epochs: int = 20
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 32

    def __post_init__(self):
        for name in ("n_train", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigError(f"RegularizedRun: {name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.augment, bool) or not isinstance(self.augment, numbers.Integral) or self.augment < 0:
            raise ConfigError(f"RegularizedRun: augment is a number of shifted copies (0 for none), "
                              f"got {self.augment!r}")
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, numbers.Real) \
                or not 0 <= self.weight_decay < 1:
            raise ConfigError(f"RegularizedRun: weight_decay must be a number in [0, 1) (typical: 1e-4 to "
                              f"1e-2), got {self.weight_decay!r}")
        who = "RegularizedRun"
        probability(self.dropout, "dropout", who)
        positive_float(self.lr, "lr", who)
        probability(self.momentum, "momentum", who)
        non_negative_int(self.max_shift, "max_shift", who)
        if self.patience is not None:
            positive_int(self.patience, "patience", who)
        if isinstance(self.hidden, (str, bytes)) or not isinstance(self.hidden, (tuple, list)) \
                or not self.hidden or any(isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1
                                          for h in self.hidden):
            raise ConfigError(f"RegularizedRun: hidden must be a tuple of layer widths (whole numbers >= 1), such "
                              f"as (64,) or (128, 64), got {self.hidden!r}")

    def label(self) -> str:
        parts = []
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}")
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        if self.augment:
            parts.append(f"shifts x{self.augment}")
        if self.patience is not None:
            parts.append(f"early stop ({self.patience})")
        return ", ".join(parts) or "no regularization"


def train_regularized(run: RegularizedRun, data, *, seed: int = 0, validation=True):
    """Train ``run`` on the first ``run.n_train`` rows of ``data.X_train``; return ``(model, history)``.

    ``seed`` sets the initial weights, the dropout masks, the shifts and the batch order. The
    validation digits (``data.X_val``) are scored after every epoch (``validation=False`` skips them,
    except that early stopping needs them).
    """
    who = "train_regularized"
    if not isinstance(run, RegularizedRun):
        raise ConfigError(f"{who}: run must be a RegularizedRun, such as RegularizedRun(dropout=0.3), got "
                          f"{type(run).__name__}")
    non_negative_int(seed, "seed", who)
    validation = boolean(validation, "validation", who)
    try:
        X_train, y_train, X_val, y_val = data
    except (TypeError, ValueError):
        raise ConfigError(f"{who}: data must be (X_train, y_train, X_val, y_val), such as a "
                          f"nncourse.data.Split from validation_split, got {type(data).__name__}") from None
    if run.n_train > len(X_train):
        raise ConfigError(f"train_regularized: n_train={run.n_train} but only {len(X_train)} training digits")
    X, y = X_train[:run.n_train].astype(np.float64), y_train[:run.n_train]
    if run.augment:
        X, y = augmented_copies(X, y, run.augment, max_shift=run.max_shift, seed=seed + 1000)
    model = nn.mlp([X.shape[1], *run.hidden, 10], dropout=run.dropout, init="he", seed=seed, dtype=np.float64)
    optimizer = nn.SGD(model.parameters(), lr=run.lr, momentum=run.momentum, weight_decay=run.weight_decay)
    use_val = validation or run.patience is not None
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=run.epochs, batch_size=run.batch_size,
                  validation_data=(X_val.astype(np.float64), y_val) if use_val else None,
                  patience=run.patience, restore_best=run.patience is not None, seed=seed, quiet=True)
    model.eval()
    return model, history


#: the grid of chapter 11's regularization explorer (``nncourse.widgets.regularization_explorer``)
CURVE_GRID = {"n_train": (500, 1000, 2000), "dropout": (0.0, 0.3), "weight_decay": (0.0, 5e-3), "augment": (0, 2)}


def regularization_curves(split, grid=None, *, seed: int = 0, epochs: int = 20) -> dict:
    """Train every setting of ``grid`` (default :data:`CURVE_GRID`) once; return the curves as a plain dict.

    ``split`` is a :class:`nncourse.data.Split`. Each training-set size ``n`` takes a balanced subset of
    ``split``'s training digits (``balanced_subset(..., n, seed=0)``: for 500 it is the chapter's small set),
    and every run is scored on ``split``'s validation digits after every epoch. The result (settings, then
    one entry per run with ``loss``, ``val_loss`` and ``val_accuracy`` per epoch) is what
    ``benchmarks/bench_regularization.py`` stores in ``chapters/results/regularization_curves.json``.
    """
    from ..data.splits import balanced_subset

    who = "regularization_curves"
    if not all(hasattr(split, k) for k in ("X_train", "y_train", "X_val", "y_val")):
        raise ConfigError(f"{who}: split must be a nncourse.data.Split (from validation_split(X, y)), got "
                          f"{type(split).__name__}")
    if grid is not None and not isinstance(grid, dict):
        raise ConfigError(f"{who}: grid must be a dict of lists such as CURVE_GRID, got {type(grid).__name__}")
    grid = dict(CURVE_GRID if grid is None else grid)
    missing = [k for k in CURVE_GRID if k not in grid]
    if missing or set(grid) - set(CURVE_GRID):
        raise ConfigError(f"regularization_curves: the grid needs exactly the keys {list(CURVE_GRID)}, got "
                          f"{list(grid)}")
    runs = []
    for n in grid["n_train"]:
        X, y = balanced_subset(split.X_train, split.y_train, n, seed=0)
        data = (X, y, split.X_val, split.y_val)
        for p in grid["dropout"]:
            for lam in grid["weight_decay"]:
                for copies in grid["augment"]:
                    settings = RegularizedRun(n_train=n, dropout=p, weight_decay=lam, augment=copies, epochs=epochs)
                    _, history = train_regularized(settings, data, seed=seed)
                    runs.append({"n_train": n, "dropout": p, "weight_decay": lam, "augment": copies,
                                 "loss": [round(float(v), 6) for v in history["loss"]],
                                 "val_loss": [round(float(v), 6) for v in history["val_loss"]],
                                 "val_accuracy": [round(float(v), 4) for v in history["val_accuracy"]]})
    return {"settings": {"grid": {k: list(v) for k, v in grid.items()}, "seed": seed, "epochs": epochs,
                         "model": "784-64-10 MLP, He init, float64, SGD lr 0.05 momentum 0.9, batch 32",
                         "validation": f"{len(split.y_val)} digits (validation_split(..., seed=0))"},
            "runs": runs}
