"""``regularization_explorer(curves)``: choose the training-set size, the dropout rate, the weight decay
and the augmentation; see the training and validation curves (chapter 11).

The curves are precomputed (``nncourse.models.regularized.regularization_curves``, stored by
``benchmarks/bench_regularization.py`` in ``chapters/results/regularization_curves.json``), one picture
per setting, and the controls flip between the pictures in the browser: it works in the published book
with no kernel. Every picture uses the same axes, so that two settings can be compared by eye.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import ConfigError
from .static import PAGE_PNG, Axis, figure_png, precomputed_widget

__all__ = ["regularization_explorer", "curve_table"]

_KEYS = ("n_train", "dropout", "weight_decay", "augment")


def curve_table(curves) -> dict:
    """``{(n_train, dropout, weight_decay, augment): run}`` for the runs of ``curves`` (the JSON's dict),
    after checking that every setting of its grid is there exactly once."""
    if not isinstance(curves, dict) or "runs" not in curves or "settings" not in curves:
        raise ConfigError(f"regularization_explorer: curves must be the dict of "
                          f"chapters/results/regularization_curves.json (keys 'settings' and 'runs'), got "
                          f"{type(curves).__name__}; make it with benchmarks/bench_regularization.py")
    grid = curves["settings"].get("grid") if isinstance(curves["settings"], dict) else None
    if not isinstance(grid, dict) or any(not isinstance(grid.get(k), (list, tuple)) or not grid.get(k)
                                         for k in _KEYS):
        raise ConfigError(f"regularization_explorer: curves['settings']['grid'] must give a list of values for each "
                          f"of {list(_KEYS)}; the file is not one that benchmarks/bench_regularization.py wrote: "
                          f"remake it with that script")
    if not isinstance(curves["runs"], list):
        raise ConfigError(f"regularization_explorer: curves['runs'] must be a list of runs, got "
                          f"{type(curves['runs']).__name__}; remake the file with benchmarks/bench_regularization.py")
    needed = (*_KEYS, "loss", "val_loss", "val_accuracy")
    table = {}
    for i, run in enumerate(curves["runs"]):
        missing = [k for k in needed if not isinstance(run, dict) or k not in run]
        if missing:
            raise ConfigError(f"regularization_explorer: run {i} of the curves lacks {missing}; remake the file "
                              f"with benchmarks/bench_regularization.py")
        key = tuple(run[k] for k in _KEYS)
        if key in table:
            raise ConfigError(f"regularization_explorer: the setting {dict(zip(_KEYS, key))} appears twice in "
                              f"the curves; remake the file with benchmarks/bench_regularization.py")
        table[key] = run
    wanted = [(n, p, lam, a) for n in grid["n_train"] for p in grid["dropout"] for lam in grid["weight_decay"]
              for a in grid["augment"]]
    missing = [dict(zip(_KEYS, k)) for k in wanted if k not in table]
    if missing:
        raise ConfigError(f"regularization_explorer: no curves for {missing[0]} ({len(missing)} settings of the "
                          f"grid missing); remake the file with benchmarks/bench_regularization.py")
    return table


class _CurveFigure:
    def __init__(self, loss_range, accuracy_floor):
        self.fig = Figure(figsize=(9.0, 3.2), dpi=72)
        FigureCanvasAgg(self.fig)
        self.loss_range, self.accuracy_floor = loss_range, accuracy_floor

    def render(self, run, **png) -> bytes:
        fig = self.fig
        fig.clear()
        left, right = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, top=0.82, bottom=0.16,
                                                          wspace=0.25))
        epochs = np.arange(1, len(run["loss"]) + 1)
        left.semilogy(epochs, run["loss"], "o-", ms=3, label="training loss")
        left.semilogy(epochs, run["val_loss"], "s--", ms=3, label="validation loss")
        best = int(np.nanargmin(run["val_loss"])) + 1
        left.axvline(best, color="green", ls=":", lw=1, label=f"lowest validation loss (epoch {best})")
        left.set_ylim(*self.loss_range)
        left.set_xlabel("epoch", fontsize=8)
        left.set_ylabel("cross-entropy", fontsize=8)
        left.legend(fontsize=7, loc="lower left")
        right.plot(epochs, 100 * np.asarray(run["val_accuracy"]), "s--", ms=3, color="C1")
        right.set_ylim(self.accuracy_floor, 100)
        right.set_xlabel("epoch", fontsize=8)
        right.set_ylabel("validation accuracy %", fontsize=8)
        for ax in (left, right):
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        shifts = f"{run['augment']} shifted copies" if run["augment"] else "no augmentation"
        fig.suptitle(f"{run['n_train']:,} digits, dropout {run['dropout']:g}, weight decay {run['weight_decay']:g}, "
                     f"{shifts}: validation accuracy {100 * run['val_accuracy'][-1]:.1f} % after "
                     f"{len(epochs)} epochs", fontsize=9)
        return figure_png(fig, **png)


def regularization_explorer(curves):
    """A precomputed widget: training digits (slider) x dropout x weight decay x augmentation (buttons)."""
    table = curve_table(curves)
    grid = curves["settings"]["grid"]
    losses = np.array([v for run in table.values() for v in run["loss"] + run["val_loss"]], dtype=float)
    losses = losses[np.isfinite(losses) & (losses > 0)]
    accuracies = np.array([v for run in table.values() for v in run["val_accuracy"]], dtype=float)
    floor = 5 * np.floor(np.nanmin(100 * accuracies) / 5) if np.isfinite(accuracies).any() else 0.0
    figure = _CurveFigure((max(losses.min() / 1.5, 1e-4), losses.max() * 1.5), floor)
    axes = [Axis("Training digits", grid["n_train"], labels=[f"{n:,}" for n in grid["n_train"]]),
            Axis("Dropout p", grid["dropout"], labels=[f"{p:g}" for p in grid["dropout"]], kind="buttons"),
            Axis("Weight decay", grid["weight_decay"], labels=[f"{lam:g}" for lam in grid["weight_decay"]],
                 kind="buttons"),
            Axis("Augmentation", grid["augment"],
                 labels=[f"{a} shifted copies" if a else "none" for a in grid["augment"]], kind="buttons")]

    def render(n, p, lam, a):
        key = (grid["n_train"][n], grid["dropout"][p], grid["weight_decay"][lam], grid["augment"][a])
        return figure.render(table[key], **PAGE_PNG)

    return precomputed_widget(axes, render, title="Regularization explorer",
                              footer="Left: training and validation loss per epoch (log scale). Right: validation "
                                     "accuracy. One seed per setting; the chapter's table shows the spread over "
                                     "three.")
