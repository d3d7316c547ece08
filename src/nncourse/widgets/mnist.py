"""``mnist_comparison(results)``: test accuracy for learning rate x hidden-layer count, explored.

Training MNIST networks takes real time, so this widget trains nothing: the chapter trains the grid
it can afford and passes the results in. ``results`` maps ``(learning_rate, hidden_layers)`` to either

- a number: the test accuracy (0..1), or
- a dict with ``"accuracy"`` (test accuracy) and optionally ``"history"``: a mapping (for example an
  ``nncourse.train.History``) with per-epoch lists ``"accuracy"``, ``"val_accuracy"``,
  ``"loss"``, ``"val_loss"``; its curves are shown next to the table.

Example::

    results = {(0.01, 1): 0.95, (0.1, 1): 0.97, (0.01, 2): 0.96, (0.1, 2): 0.975}
    mnist_comparison(results)
"""

from __future__ import annotations

import math
import numbers

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import ConfigError
from ..validation import boolean
from .static import PAGE_PNG, Axis, figure_png, png_image, precomputed_widget
from .training import format_number

__all__ = ["mnist_comparison"]


def _normalise(results):
    """Check ``results`` and return (sorted lrs, sorted layer counts, {key: (accuracy, history)})."""
    if not hasattr(results, "items") or not results:
        raise ConfigError("mnist_comparison: results must be a non-empty dict {(learning_rate, hidden_layers): "
                          f"accuracy or {{'accuracy': ..., 'history': ...}}}}, got {type(results).__name__}")
    table = {}
    for key, value in results.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], numbers.Real)
                and isinstance(key[1], numbers.Integral)):
            raise ConfigError(f"mnist_comparison: the keys of results must be (learning_rate, hidden_layers) "
                              f"like (0.01, 2), got {key!r}")
        history = None
        if isinstance(value, numbers.Real):
            acc = float(value)
        elif hasattr(value, "get") and "accuracy" in value and isinstance(value["accuracy"], numbers.Real):
            acc, history = float(value["accuracy"]), value.get("history")
        else:
            raise ConfigError(f"mnist_comparison: results[{key!r}] must be an accuracy or a dict with "
                              f"'accuracy' (and optionally 'history'), got {value!r:.80}")
        if not (math.isnan(acc) or 0.0 <= acc <= 1.0):
            raise ConfigError(f"mnist_comparison: results[{key!r}] accuracy must be between 0 and 1 "
                              f"(a fraction, not a percentage), got {acc}")
        table[(float(key[0]), int(key[1]))] = (acc, history)
    lrs = sorted({k[0] for k in table})
    layers = sorted({k[1] for k in table})
    return lrs, layers, table


class _ComparisonFigure:
    def __init__(self, lrs, layers, table):
        self.lrs, self.layers, self.table = lrs, layers, table
        self.has_history = any(h is not None for _, h in table.values())
        self.fig = Figure(figsize=(8.4, 3.4), dpi=80)
        FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes([0.09, 0.16, 0.38, 0.7])
        grid = np.array([[table.get((lr, n), (np.nan, None))[0] for lr in lrs] for n in layers])
        finite = grid[np.isfinite(grid)]
        lo = float(finite.min()) if finite.size else 0.0
        ax.imshow(grid, cmap="viridis", vmin=lo, vmax=1.0 if not finite.size else float(finite.max()),
                  origin="lower", aspect="auto")
        for i in range(len(layers)):
            for j in range(len(lrs)):
                v = grid[i, j]
                ax.text(j, i, "–" if np.isnan(v) else f"{v:.1%}", ha="center", va="center",
                        fontsize=8, color="white" if (np.isnan(v) or v < (lo + 1) / 2) else "black")
        ax.set_xticks(range(len(lrs)), [f"{v:g}" for v in lrs], fontsize=8)
        ax.set_yticks(range(len(layers)), [str(n) for n in layers], fontsize=8)
        ax.set_xlabel("learning rate", fontsize=9)
        ax.set_ylabel("hidden layers", fontsize=9)
        ax.set_title("test accuracy", fontsize=9)
        (self.box,) = ax.plot([], [], color="#c2185b", lw=2.5)
        self.side = self.fig.add_axes([0.58, 0.16, 0.39, 0.7])

    def render(self, i_layers, i_lr, **png) -> bytes:
        n, lr = self.layers[i_layers], self.lrs[i_lr]
        self.box.set_data([i_lr - .5, i_lr + .5, i_lr + .5, i_lr - .5, i_lr - .5],
                          [i_layers - .5, i_layers - .5, i_layers + .5, i_layers + .5, i_layers - .5])
        side = self.side
        side.clear()
        acc, history = self.table.get((lr, n), (float("nan"), None))
        if history is not None:
            for key, style in (("accuracy", "-"), ("val_accuracy", "--")):
                values = history.get(key) if hasattr(history, "get") else None
                if values is not None and len(values):
                    side.plot(np.arange(1, len(values) + 1), values, style, label=key.replace("_", " "))
            side.set_xlabel("epoch", fontsize=9)
            side.xaxis.set_major_locator(MaxNLocator(integer=True))
            side.set_ylabel("accuracy", fontsize=9)
            side.legend(fontsize=8, loc="lower right")
        else:       # no curves: accuracy against learning rate, one line per layer count
            for m in self.layers:
                ys = [self.table.get((v, m), (np.nan, None))[0] for v in self.lrs]
                side.plot(self.lrs, ys, marker="o", lw=2.5 if m == n else 1,
                          alpha=1 if m == n else 0.35, label=f"{m} hidden")
            side.set_xscale("log")
            side.set_xlabel("learning rate", fontsize=9)
            side.legend(fontsize=7, loc="lower left")
        side.tick_params(labelsize=8)
        side.grid(alpha=0.3)
        if (lr, n) not in self.table:
            what = "not run"
        elif math.isnan(acc):
            what = "diverged (no accuracy)"
        else:
            what = f"test accuracy {acc:.2%}"
        side.set_title(f"lr {lr:g}, {n} hidden layer{'s' if n != 1 else ''}: {what}", fontsize=9)
        return figure_png(self.fig, **png)


def mnist_comparison(results, *, static: bool = True) -> W.Widget:
    """A table of test accuracies with a learning-rate and a layer-count slider picking one run.

    ``static=True`` (default) renders every cell's picture now (works in the published book);
    ``static=False`` renders on demand in Python.
    """
    static = boolean(static, "static", "mnist_comparison")
    lrs, layers, table = _normalise(results)
    static = boolean(static, "static", "mnist_comparison")
    fig = _ComparisonFigure(lrs, layers, table)
    if static:
        axes = [Axis("Hidden layers", layers), Axis("Learning rate", lrs, labels=[format_number(v) for v in lrs])]
        return precomputed_widget(axes, lambda i, j: fig.render(i, j, **PAGE_PNG))
    layers_w = W.SelectionSlider(options=[(str(n), i) for i, n in enumerate(layers)],
                                 description="Hidden layers", style={"description_width": "initial"})
    lr_w = W.SelectionSlider(options=[(format_number(v), j) for j, v in enumerate(lrs)],
                             description="Learning rate", style={"description_width": "initial"})
    image = png_image(fig.render(0, 0))

    def redraw(_=None):
        image.value = fig.render(layers_w.value, lr_w.value)

    layers_w.observe(redraw, names="value")
    lr_w.observe(redraw, names="value")
    return W.VBox([layers_w, lr_w, image])
