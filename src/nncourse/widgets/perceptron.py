"""``perceptron_stepper()``: watch the perceptron rule move its line, one example at a time.

The perceptron looks at one example, and only if it gets it wrong nudges its weights towards the
right answer: ``w += lr * (target - prediction) * x`` and ``b += lr * (target - prediction)``.
Each frame of this widget is one such look. On AND and OR the line soon separates the 1s from the
0s and stops moving; on XOR it never can, and keeps moving until the epochs run out.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import ConfigError
from ..validation import boolean
from .render import CLASS_COLORS
from . import arguments
from .static import PAGE_PNG, Axis, _image, figure_png, precomputed_widget

__all__ = ["perceptron_stepper", "perceptron_frames"]

GATES = ("and", "or", "nand", "xor")


def perceptron_frames(gate: str = "and", lr: float = 1.0, epochs: int = 6, seed: int = 0) -> list[dict]:
    """The states the perceptron goes through on a truth table: frame 0 is the start.

    Each frame is a dict with ``weight`` (2,), ``bias``, ``epoch`` (counted from 0), ``index`` (the
    example looked at, ``None`` for the start), ``changed`` and ``errors`` (as recorded by
    ``Perceptron.fit``).
    """
    from ..data import truth_table
    from ..models import Perceptron
    if str(gate).lower() not in GATES:
        raise ConfigError(f"gate must be one of {list(GATES)}, got {gate!r}")
    X, y = truth_table(gate)
    p = Perceptron(2, lr=lr, seed=seed)
    start = {"epoch": 0, "index": None, "weight": np.array(p.weight, dtype=float).copy(),
             "bias": float(p.bias), "errors": None}
    steps = p.fit(X, y, epochs=epochs)
    frames = [start] + [dict(s, weight=np.array(s["weight"], dtype=float), bias=float(s["bias"]))
                        for s in steps]
    return frames


class _PerceptronFigure:
    """One reusable figure: four points, the current line, the example being looked at."""

    def __init__(self):
        self.fig = Figure(figsize=(4.6, 3.6), dpi=80)
        FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes([0.12, 0.12, 0.84, 0.72])
        ax.set_xlim(-0.6, 1.6), ax.set_ylim(-0.6, 1.6)
        ax.set_xticks([0, 1]), ax.set_yticks([0, 1])
        ax.set_xlabel("$x_1$"), ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
        self.region = ax.fill([], [], color=CLASS_COLORS[1, :3], alpha=0.15, lw=0)[0]
        (self.line,) = ax.plot([], [], color="0.15", lw=2)
        self.points = ax.scatter([0, 0, 1, 1], [0, 1, 0, 1], s=160, zorder=3, edgecolors="k")
        self.focus = ax.scatter([], [], s=420, facecolors="none", edgecolors="#c2185b",
                                linewidths=2.5, zorder=4)
        self.title = ax.set_title("", fontsize=9)
        self.sup = self.fig.suptitle("", fontsize=10)

    def render(self, gate, frames, k, **png) -> bytes:
        from ..data import truth_table
        X, y = truth_table(gate)
        f = frames[min(k, len(frames) - 1)]
        w, b = f["weight"], f["bias"]
        self.points.set_facecolor(CLASS_COLORS[y])
        # the line w1*x1 + w2*x2 + b = 0, clipped to the view; shade the side predicted as 1
        xs = np.array([-0.6, 1.6])
        corners = np.array([[-0.6, -0.6], [1.6, -0.6], [1.6, 1.6], [-0.6, 1.6]])
        if abs(w[1]) > 1e-12:
            self.line.set_data(xs, -(w[0] * xs + b) / w[1])
        elif abs(w[0]) > 1e-12:
            self.line.set_data([-b / w[0]] * 2, [-0.6, 1.6])
        else:
            self.line.set_data([], [])
        polygon = _half_plane(w, b, corners)
        self.region.set_visible(len(polygon) >= 3)
        if len(polygon) >= 3:
            self.region.set_xy(polygon)
        if f["index"] is None:
            self.focus.set_offsets(np.empty((0, 2)))
            what = "start: random weights"
        else:
            self.focus.set_offsets(X[f["index"]][None])
            x = tuple(int(v) for v in X[f["index"]])
            verdict = "wrong: weights move" if f.get("changed") else "right: no change"
            what = f"epoch {f['epoch'] + 1}, example {x} target {y[f['index']]}: {verdict}"
        self.title.set_text(f"{what}\nw = ({w[0]:+.2f}, {w[1]:+.2f}), b = {b:+.2f}")
        last = len(frames) - 1
        done = "" if k < last else ("  (no mistakes: converged)" if _separates(X, y, w, b)
                                    else "  (epochs used up: not separable)")
        self.sup.set_text(f"{gate.upper()}: step {min(k, last)} of {last}{done}")
        return figure_png(self.fig, **png)


def _separates(X, y, w, b) -> bool:
    return bool(np.all((X @ w + b >= 0).astype(int) == y))


def _half_plane(w, b, corners):
    """The polygon of the view box where ``w . x + b >= 0`` (clip the box by the line)."""
    pts = []
    n = len(corners)
    for i in range(n):
        p, q = corners[i], corners[(i + 1) % n]
        fp, fq = p @ w + b, q @ w + b
        if fp >= 0:
            pts.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            pts.append(p + t * (q - p))
    return np.array(pts) if pts else np.zeros((0, 2))


def perceptron_stepper(gates=("and", "or", "xor"), *, lr: float = 1.0, epochs: int = 6,
                       seed: int = 0, static: bool = True) -> W.Widget:
    """Step through the perceptron rule on logic gates; the line moves as the weights change.

    ``static=True`` (default) precomputes every step of every gate and works in the published book;
    ``static=False`` redraws in Python and also lets you change the learning rate and seed.
    """
    static = boolean(static, "static", "perceptron_stepper")
    gates = arguments.choices(gates, "gates", "perceptron_stepper")
    for i, g in enumerate(gates):
        if not isinstance(g, str) or g.lower() not in GATES:
            raise ConfigError(f"perceptron_stepper: gates[{i}] must be one of {list(GATES)}, got {g!r:.40}")
    gates = [g.lower() for g in gates]
    static = boolean(static, "static", "perceptron_stepper")
    fig = _PerceptronFigure()
    if static:
        runs = {g: perceptron_frames(g, lr, epochs, seed) for g in gates}
        longest = max(len(f) for f in runs.values())
        axes = [Axis("Gate", gates, labels=[g.upper() for g in gates], kind="buttons"),
                Axis("Step", list(range(longest)))]
        return precomputed_widget(axes, lambda i, k: fig.render(gates[i], runs[gates[i]], k, **PAGE_PNG),
                                  footer=f"<small>learning rate {lr:g}, seed {seed}</small>")

    gate_w = W.ToggleButtons(options=[(g.upper(), g) for g in gates], description="Gate")
    lr_w = W.FloatLogSlider(value=lr, base=10, min=-2, max=1, step=0.25, description="lr",
                            continuous_update=False)
    seed_w = W.BoundedIntText(value=seed, min=0, max=10_000, description="seed")
    step_w = W.IntSlider(value=0, min=0, max=1, description="Step")
    play = W.Play(interval=600, min=0, max=1)
    W.jslink((play, "value"), (step_w, "value"))
    image = _image(b"")
    state = {}

    def retrain(_=None):
        state["frames"] = perceptron_frames(gate_w.value, lr_w.value, epochs, seed_w.value)
        last = len(state["frames"]) - 1
        step_w.max = play.max = last
        step_w.value = min(step_w.value, last)
        redraw()

    def redraw(_=None):
        image.value = fig.render(gate_w.value, state["frames"], step_w.value)

    for w in (gate_w, lr_w, seed_w):
        w.observe(retrain, names="value")
    step_w.observe(redraw, names="value")
    retrain()
    return W.VBox([gate_w, W.HBox([lr_w, seed_w]), W.HBox([play, step_w]), image])
