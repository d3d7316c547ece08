"""``optimizer_race()``: several optimizers start from the same point of a 2-D loss surface.

Two surfaces, both classic trouble spots for plain gradient descent:

- ``"bowl"``: an elongated (ill-conditioned) quadratic ``0.5 * (x**2 + 20 * y**2)``. Steep across,
  flat along: a learning rate small enough not to bounce across the valley crawls along it.
- ``"rosenbrock"``: ``(1 - x)**2 + 100 * (y - x**2)**2``, a curved, flat-bottomed banana valley with
  its minimum at (1, 1).

All racers share one learning rate, on purpose: the same number means different things to
different optimizers (Adam's steps are about ``lr`` long whatever the gradient, SGD's are
``lr * gradient``), which is why each has its own good range.
The optimizers are the course's own ``nncourse.numpy_nn.optim`` classes, driven by hand: the
gradient of the surface is written into ``Parameter.grad``, then ``step()``.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError
from ..validation import boolean
from . import arguments
from .static import PAGE_PNG, Axis, _image, figure_png, precomputed_widget
from .training import format_number

__all__ = ["optimizer_race", "race", "SURFACES", "RACERS"]


def _bowl(p):
    x, y = p
    return 0.5 * (x * x + 20 * y * y), np.array([x, 20 * y])


def _rosenbrock(p):
    x, y = p
    f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return f, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


#: name -> (function returning (value, gradient), start, view box (x0, x1, y0, y1), minimum)
SURFACES = {
    "bowl": (_bowl, (-4.5, 1.5), (-5.0, 5.0, -2.5, 2.5), (0.0, 0.0)),
    "rosenbrock": (_rosenbrock, (-1.5, 2.0), (-2.0, 2.0, -1.0, 3.0), (1.0, 1.0)),
}

#: label -> (optimizer class name in numpy_nn.optim, extra arguments), and a colour for each
RACERS = {
    "SGD": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "RMSprop": ("RMSprop", {}),
    "Adam": ("Adam", {}),
}
_COLORS = {"SGD": "#333333", "momentum": "#e07b00", "RMSprop": "#2b7bba", "Adam": "#c2185b"}


def race(surface: str = "bowl", lr: float = 0.01, steps: int = 150) -> dict:
    """Run every racer: ``{label: (path (k, 2) array, final loss, step it diverged at or None)}``."""
    from ..numpy_nn import Parameter, optim
    _check_surface(surface, "surface", "race")
    lr = validation.positive_float(lr, "lr", "race")
    steps = validation.positive_int(steps, "steps", "race")
    fn, start, _, _ = SURFACES[surface]
    out = {}
    for label, (cls, extra) in RACERS.items():
        p = Parameter(np.array(start, dtype=np.float64))
        opt = getattr(optim, cls)([p], lr=lr, **extra)
        path, diverged = [p.data.copy()], None
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(steps):
                _, grad = fn(p.data)
                p.grad = grad
                opt.step()
                if not np.all(np.isfinite(p.data)) or np.abs(p.data).max() > 1e4:
                    diverged = k + 1
                    break
                path.append(p.data.copy())
            final = fn(path[-1])[0] if diverged is None else float("inf")
        out[label] = (np.array(path), float(final), diverged)
    return out


def _check_surface(surface, name, who):
    if not isinstance(surface, str) or surface not in SURFACES:
        raise ConfigError(f"{who}: {name} must be one of {list(SURFACES)}, got {surface!r:.40}")


class _RaceFigure:
    def __init__(self):
        self.fig = Figure(figsize=(6.4, 3.9), dpi=80)
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes([0.07, 0.1, 0.62, 0.8])
        self.surface = None
        self.lines = {}

    def _draw_surface(self, surface):
        ax = self.ax
        ax.clear()
        fn, start, (x0, x1, y0, y1), minimum = SURFACES[surface]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 120), np.linspace(y0, y1, 120))
        fz = fn(np.array([gx, gy]))[0]
        ax.contourf(gx, gy, np.log10(fz + 1e-3), levels=20, cmap="Greys_r", alpha=0.55)
        ax.contour(gx, gy, np.log10(fz + 1e-3), levels=12, colors="white", linewidths=0.5)
        ax.plot(*minimum, marker="*", ms=14, color="gold", mec="k", zorder=5)
        ax.plot(*start, marker="o", ms=6, color="k", zorder=5)
        ax.set_xlim(x0, x1), ax.set_ylim(y0, y1)
        ax.set_xticks([]), ax.set_yticks([])
        self.lines = {label: ax.plot([], [], marker=".", ms=3, lw=1.3, color=_COLORS[label],
                                     label=label)[0] for label in RACERS}
        self.title = ax.set_title("", fontsize=9)
        self.surface = surface

    def render(self, surface, lr, steps, **png) -> bytes:
        if surface != self.surface:
            self._draw_surface(surface)
        results = race(surface, lr, steps)
        for label, (path, final, diverged) in results.items():
            self.lines[label].set_data(path[:, 0], path[:, 1])
            outcome = f"diverged at step {diverged}" if diverged else f"loss {final:.2g}"
            self.lines[label].set_label(f"{label}: {outcome}")
        self.ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        self.title.set_text(f"{surface}, learning rate {lr:g}, {steps} steps")
        return figure_png(self.fig, **png)


def optimizer_race(surfaces=("bowl", "rosenbrock"),
                   learning_rates=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3), *,
                   steps: int = 150, static: bool = True) -> W.Widget:
    """SGD, momentum, RMSprop and Adam racing on a 2-D surface, with a learning-rate slider.

    ``static=True`` (default) precomputes ``surfaces x learning_rates`` pictures (works in the
    published book); ``static=False`` recomputes in Python for any learning rate and step count.
    """
    static = boolean(static, "static", "optimizer_race")
    surfaces = arguments.choices(surfaces, "surfaces", "optimizer_race")
    learning_rates = arguments.choices(learning_rates, "learning_rates", "optimizer_race")
    for i, s in enumerate(surfaces):
        _check_surface(s, f"surfaces[{i}]", "optimizer_race")
    for i, lr in enumerate(learning_rates):
        validation.positive_float(lr, f"learning_rates[{i}]", "optimizer_race")
    steps = validation.positive_int(steps, "steps", "optimizer_race")
    static = boolean(static, "static", "optimizer_race")
    fig = _RaceFigure()
    if static:
        lrs = list(learning_rates)
        axes = [Axis("Surface", surfaces, kind="buttons"),
                Axis("Learning rate", lrs, labels=[format_number(v) for v in lrs],
                     default=0.01 if 0.01 in lrs else None)]
        return precomputed_widget(axes, lambda i, j: fig.render(surfaces[i], lrs[j], steps, **PAGE_PNG))

    surface_w = W.ToggleButtons(options=surfaces, description="Surface")
    lr_w = W.FloatLogSlider(value=0.01, base=10, min=-4, max=0, step=0.1, description="lr",
                            readout_format=".3g", continuous_update=False)
    steps_w = W.IntSlider(value=steps, min=10, max=1000, step=10, description="steps",
                          continuous_update=False)
    image = _image(b"")

    def redraw(_=None):
        image.value = fig.render(surface_w.value, lr_w.value, steps_w.value)

    for w in (surface_w, lr_w, steps_w):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([surface_w, W.HBox([lr_w, steps_w]), image])
