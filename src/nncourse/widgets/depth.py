"""``depth_explorer()``: choose a depth, an activation and an initialization; see the activations of
every layer (chapter 12).

Each picture holds the histograms of the activations at six layers spread from the first to the
chosen depth, and the standard deviation of the activations and of the gradients at every layer (log
scale). Everything is precomputed with ``nncourse.models.deep_signal.signal_through_depth`` (the first ``d``
layers of the deepest network are the network of depth ``d``, so one run per activation and init
serves every depth), and the controls flip between pictures in the browser: it works in the
published book with no kernel.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import numbers

from ..errors import ConfigError
from ..validation import positive_int
from .arguments import choices
from ..models.deep_signal import ACTIVATIONS, INITS, signal_through_depth
from .static import PAGE_PNG, Axis, figure_png, precomputed_widget

__all__ = ["depth_explorer", "shown_layers"]

DEPTHS = (5, 10, 20, 50)


def shown_layers(depth, count=6):
    """The layers (1-based) whose histograms are drawn: ``count`` of them from 1 to ``depth``."""
    depth = positive_int(depth, "depth", "shown_layers")
    count = positive_int(count, "count", "shown_layers")
    return sorted({int(round(v)) for v in np.linspace(1, depth, min(count, depth))})


class _DepthFigure:
    def __init__(self):
        self.fig = Figure(figsize=(9.0, 3.6), dpi=72)
        FigureCanvasAgg(self.fig)

    def render(self, signal, depth, **png) -> bytes:
        fig = self.fig
        fig.clear()
        grid = fig.add_gridspec(2, 6, height_ratios=[1, 1.1], hspace=0.7, wspace=0.35,
                                left=0.07, right=0.98, top=0.8, bottom=0.12)
        for k, layer in enumerate(shown_layers(depth)):
            ax = fig.add_subplot(grid[0, k])
            values = signal.activations[layer - 1].ravel()
            spread = float(values.std())
            counts, edges = np.histogram(values, bins=40)
            ax.stairs(counts, edges, fill=True, color="C0")     # faster to draw than ax.hist's 40 patches
            ax.set_title(f"layer {layer}\nstd {spread:.2g}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.set_yticks([])
        ax = fig.add_subplot(grid[1, :])
        layers = np.arange(1, depth + 1)
        ax.semilogy(layers, np.maximum(signal.act_std[:depth], 1e-300), "o-", ms=3, label="activations")
        ax.semilogy(layers, np.maximum(signal.grad_std[:depth] / signal.grad_std[depth - 1], 1e-300), "s-", ms=3,
                    label="gradients (relative to the last layer)")
        low, high = ax.get_ylim()
        if high / low < 100:                                     # at least two decades, so ticks show
            middle = np.sqrt(low * high)
            ax.set_ylim(middle / 10, middle * 10)
        ax.set_xlabel("layer", fontsize=8)
        ax.set_ylabel("std", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="best")
        fig.suptitle(f"{signal.activation}, {INITS[signal.init]}, depth {depth}", fontsize=10, y=0.99)
        return figure_png(fig, **png)


def depth_explorer(depths=DEPTHS, activations=("tanh", "relu"), inits=tuple(INITS), *, width=256, batch=256,
                   seed=0):
    """A precomputed widget: depth (slider) x activation x initialization (buttons)."""
    who = "depth_explorer"
    if isinstance(depths, (str, bytes)) or not isinstance(depths, (list, tuple, range)) or not depths or any(
            isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in depths):
        raise ConfigError(f"{who}: depths must be a list of whole numbers >= 1, such as [5, 10, 20], got {depths!r}")
    depths = sorted(int(d) for d in depths)
    activations = tuple(choices(activations, "activations", who))
    inits = tuple(choices(inits, "inits", who))
    for name, values, allowed in (("activations", activations, ACTIVATIONS), ("inits", inits, tuple(INITS))):
        for i, value in enumerate(values):
            if not isinstance(value, str) or value not in allowed:
                raise ConfigError(f"{who}: unknown {name[:-1]} {value!r:.40} in {name}[{i}]; choose from "
                                  f"{', '.join(allowed)}")
    signals = {(a, i): signal_through_depth(depths[-1], a, i, width=width, batch=batch, seed=seed)
               for a in activations for i in inits}
    figure = _DepthFigure()
    axes = [Axis("Depth", depths, default=depths[min(2, len(depths) - 1)]),
            Axis("Activation", list(activations), kind="buttons"),
            Axis("Init", list(inits), labels=[INITS[i] for i in inits], kind="buttons")]

    def render(d, a, i):
        return figure.render(signals[(activations[a], inits[i])], depths[d], **PAGE_PNG)

    return precomputed_widget(axes, render, title="Activations through depth",
                              footer="Top: histograms of the activations at six layers. Bottom: the standard "
                                     "deviation of the activations and of the gradients at every layer.")
