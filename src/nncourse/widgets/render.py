"""Draw a ``PlaygroundResult``: decision boundary with train/test points, loss curves, accuracy.

The playground redraws after every click, so drawing must be cheap. Three tricks:

1. The figure is built **once**; afterwards only its artists are updated (new pixels for the
   boundary image, new positions for the points, new data for the loss lines).
2. **Blitting**: most of the figure (axes frames, ticks, tick labels, legends) does not change
   between clicks, and text is the slowest thing Matplotlib draws. So that static part is drawn
   once and saved as a pixel *background*; a redraw pastes the background and draws only the
   changing artists on top. The background is redrawn only when the loss axis' limits change
   (they are rounded to a few "nice" values so that this is rare).
3. The boundary is a coarse 60 x 60 grid of predictions shown with bilinear smoothing.

The figure lives on an Agg canvas (no pyplot), so it never pops up or leaks in a notebook.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import validation
from ..errors import ConfigError
from .static import figure_png
from .training import PlaygroundResult, format_number

__all__ = ["PlaygroundFigure", "CLASS_COLORS", "nice_limit"]

#: class 0, class 1 (orange / blue, distinguishable with the common colour-vision deficiencies)
CLASS_COLORS = np.array([[0.90, 0.50, 0.05, 1.0], [0.13, 0.40, 0.75, 1.0]])

_NICE = np.array([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])


def nice_limit(value: float) -> float:
    """The smallest of 0.5, 1, 2, 5, 10, 20, ... that is at least ``value`` (axis tops change rarely)."""
    value = validation.finite_number(value, "value", "nice_limit")
    i = int(np.searchsorted(_NICE, value))
    return float(_NICE[i]) if i < len(_NICE) else float(value)


def _check_result(result, who):
    if not isinstance(result, PlaygroundResult):
        raise ConfigError(f"{who}: result must be the PlaygroundResult that train_playground returns, got "
                          f"{type(result).__name__}; write figure.render(train_playground(settings))")


def _boundary_cmap() -> ListedColormap:
    """A pale orange-white-blue map: the background says which class the network predicts."""
    t = np.linspace(0, 1, 256)[:, None]
    white = np.ones(3)
    orange, blue = CLASS_COLORS[0, :3], CLASS_COLORS[1, :3]
    lo = white + (orange - white) * (1 - 2 * np.minimum(t, 0.5)) * 0.55
    hi = white + (blue - white) * (2 * np.maximum(t, 0.5) - 1) * 0.55
    return ListedColormap(np.where(t < 0.5, lo, hi))


class PlaygroundFigure:
    """A reusable two-panel figure. ``render(result) -> PNG bytes`` updates it and draws it."""

    def __init__(self, width: float = 8.4, height: float = 3.5, dpi: int = 80):
        width = validation.positive_float(width, "width (inches)", "PlaygroundFigure")
        height = validation.positive_float(height, "height (inches)", "PlaygroundFigure")
        dpi = validation.positive_int(dpi, "dpi", "PlaygroundFigure")
        self.fig = fig = Figure(figsize=(width, height), dpi=dpi)
        self.canvas = FigureCanvasAgg(fig)
        self.ax_map = ax = fig.add_axes([0.03, 0.14, 0.40, 0.70])
        self.ax_loss = lx = fig.add_axes([0.55, 0.14, 0.43, 0.70])

        # -- the parts that change on every redraw ("dynamic" artists) --
        self.image = ax.imshow(np.full((2, 2), 0.5), origin="lower", extent=(0, 1, 0, 1),
                               cmap=_boundary_cmap(), vmin=0, vmax=1, interpolation="bilinear",
                               aspect="auto")
        self.train_points = ax.scatter([], [], s=16, edgecolors="white", linewidths=0.5)
        self.test_points = ax.scatter([], [], s=22, facecolors="none", linewidths=1.4)
        self.map_title = ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", fontsize=9)
        self.diverged_text = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                     va="center", fontsize=9, color="#b00020",
                                     bbox=dict(facecolor="white", edgecolor="#b00020"))
        (self.train_line,) = lx.plot([], [], color="0.2", lw=1.5)
        (self.test_line,) = lx.plot([], [], color="#c2185b", lw=1.5, ls="--")
        self.loss_title = lx.text(0.5, 1.03, "", transform=lx.transAxes, ha="center", fontsize=9)
        self.suptitle = fig.text(0.01, 0.95, "", fontsize=10, ha="left")
        self._dynamic = [self.image, *ax.spines.values(), self.train_points, self.test_points,
                         self.map_title, self.diverged_text, self.train_line, self.test_line,
                         self.loss_title, self.suptitle]

        # -- the parts that stay (drawn into the background) --
        ax.set_xticks([]), ax.set_yticks([])
        marker = dict(marker="o", ls="", markersize=5)
        fig.legend([Line2D([], [], mfc="0.4", mec="white", **marker),
                    Line2D([], [], mfc="none", mec="0.4", mew=1.4, **marker)],
                   ["train points", "test points (hollow)"], loc="lower left",
                   bbox_to_anchor=(0.03, 0.0), ncols=2, fontsize=7, frameon=False)
        lx.set_xlabel("epoch", fontsize=8, labelpad=1)
        lx.set_ylabel("cross-entropy loss", fontsize=8)
        lx.tick_params(labelsize=7)
        lx.legend([Line2D([], [], color="0.2"), Line2D([], [], color="#c2185b", ls="--")],
                  ["train loss", "test loss"], fontsize=7, loc="upper right")
        lx.grid(alpha=0.3)
        self._background = None
        self._background_key = None

    def update(self, result) -> None:
        """Move every dynamic artist to show ``result`` (no new artists are created)."""
        _check_result(result, "PlaygroundFigure.update")
        s = result.settings
        self.image.set_data(result.grid)
        self.image.set_extent(result.extent)
        self.ax_map.set_xlim(result.extent[:2])
        self.ax_map.set_ylim(result.extent[2:])
        self.train_points.set_offsets(result.X_train)
        self.train_points.set_facecolor(CLASS_COLORS[result.y_train])
        self.test_points.set_offsets(result.X_test)
        self.test_points.set_edgecolor(CLASS_COLORS[result.y_test])
        self.test_points.set_facecolor("none")

        epochs = np.arange(len(result.train_loss))
        self.train_line.set_data(epochs, result.train_loss)
        self.test_line.set_data(epochs, result.test_loss)
        finite = [v for v in list(result.train_loss) + list(result.test_loss) if np.isfinite(v)]
        self.ax_loss.set_xlim(0, max(s.epochs, 1))
        self.ax_loss.set_ylim(0, nice_limit(max(finite) if finite else 1.0))

        layers = "no hidden layer" if s.hidden_layers == 0 else (
            f"{s.hidden_layers} hidden layer{'s' if s.hidden_layers > 1 else ''} of {s.neurons}")
        self.suptitle.set_text(f"{s.dataset}, {layers}, {s.activation}, {s.optimizer} "
                               f"lr={format_number(s.learning_rate)}, batch {s.batch_size}"
                               + (f", L2 {s.l2:g}" if s.l2 else "") + f" ({s.backend})")
        self.diverged_text.set_visible(bool(result.diverged))
        if result.diverged:
            self.diverged_text.set_text(result.message.replace(": ", ":\n", 1))
            self.map_title.set_text("diverged")
            self.loss_title.set_text(f"stopped at epoch {result.diverged_epoch}")
        else:
            self.map_title.set_text(f"accuracy: train {result.train_accuracy:.0%}, "
                                    f"test {result.test_accuracy:.0%}")
            self.loss_title.set_text(f"after {len(result.train_loss) - 1} epochs: train "
                                     f"{result.train_loss[-1]:.3f}, test {result.test_loss[-1]:.3f}")

    def draw(self) -> None:
        """Draw the canvas: paste the saved background, then draw the dynamic artists on top."""
        key = (self.ax_loss.get_xlim(), self.ax_loss.get_ylim())
        if key != self._background_key:
            visible = [a.get_visible() for a in self._dynamic]
            for a in self._dynamic:
                a.set_visible(False)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._background_key = key
            for a, v in zip(self._dynamic, visible):
                a.set_visible(v)
        else:
            self.canvas.restore_region(self._background)
        for a in self._dynamic:
            if a.get_visible():
                self.fig.draw_artist(a)

    def render(self, result, **png) -> bytes:
        """Update the figure for ``result``, draw it and return it as PNG bytes.

        ``png``: options for ``figure_png`` (the static page uses ``PAGE_PNG``: smaller files).
        """
        _check_result(result, "PlaygroundFigure.render")
        self.update(result)
        self.draw()
        return figure_png(self.fig, draw=False, **png)
