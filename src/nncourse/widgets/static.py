"""Widgets that keep working in a static web page, with no Python kernel behind them.

In a live notebook a slider can call Python and redraw. In the published book there is no Python,
only the widget *state* saved in the page. What still works there is a link made in JavaScript:
``ipywidgets.jslink`` copies one widget's value into another widget's value in the browser.

So the static widgets precompute every picture at build time and put them in a ``Stack`` (a
container that shows one child, ``selected_index``), and ``jslink`` a slider's index to the
stack's ``selected_index``. One slider, one Stack is easy. Two sliders (say learning rate x number
of layers) cannot be combined into one index by jslink, so the stacks are *nested*: the outer
Stack follows the first slider and each of its children is a Stack following the second slider::

    outer Stack (selected_index <- layers slider)
      ├── Stack for 0 layers   (selected_index <- learning-rate slider)
      │     ├── Image (lr 0.001) ├── Image (lr 0.01) ...
      ├── Stack for 1 layer    (selected_index <- learning-rate slider)
      ...

``precomputed_widget`` builds this for any number of axes.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import math
import numbers

import ipywidgets as W
import numpy as np

from ..errors import ConfigError
from ..validation import boolean, text

__all__ = ["Axis", "precomputed_widget", "figure_png", "png_image"]


@dataclass(frozen=True)
class Axis:
    """One slider of a precomputed widget: its label, the values, how each value is shown.

    ``kind`` is ``"slider"`` (a ``SelectionSlider``, whose readout shows the value's label) or
    ``"buttons"`` (``ToggleButtons``, for a few named choices).

    There is no play button: in the built book the theme's Font Awesome script swaps the ``<i>`` icons
    for SVG, and the widget manager's ``Play`` view then throws on every change of its value, which
    breaks the link from the slider to the pictures (seen in headless Chromium). Live widgets may use
    one (``perceptron_stepper(static=False)``).
    """

    label: str
    values: Sequence
    labels: Sequence[str] | None = None
    kind: str = "slider"
    default: object = None

    def __post_init__(self):
        text(self.label, "label", "Axis", allow_empty=True)
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__len__") or not len(self.values):
            raise ConfigError(f"Axis {self.label!r} needs a non-empty list of values to choose from, got "
                              f"{self.values!r}: give at least one value")
        for i, value in enumerate(self.values):
            if not (value is None or isinstance(value, (str, numbers.Number))):
                raise ConfigError(f"Axis {self.label!r}: values[{i}] is a {type(value).__name__} ({value!r:.40}); "
                                  f"each of the values must be one choice (a number, a string or None): give the "
                                  f"choices as a flat list, and their captions as labels")
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value):
                raise ConfigError(f"Axis {self.label!r}: values[{i}] is NaN, which equals no value, so the "
                                  f"widget could never select it; leave it out of the values")
        if self.labels is not None:
            if isinstance(self.labels, (str, bytes)) or not hasattr(self.labels, "__len__") \
                    or any(not isinstance(label, str) for label in self.labels):
                raise ConfigError(f"Axis {self.label!r}: labels must be a list of strings, one caption per value, "
                                  f"got {self.labels!r:.60}; or leave labels out to show the values themselves")
            self.option_labels()                       # one label per value
        if self.kind not in ("slider", "buttons"):
            raise ConfigError(f"Axis {self.label!r}: kind must be 'slider' or 'buttons', got {self.kind!r}")
        self.default_index()                           # the default is one of the values

    def option_labels(self) -> list[str]:
        labels = [str(v) for v in self.values] if self.labels is None else list(self.labels)
        if len(labels) != len(self.values):
            raise ConfigError(f"Axis {self.label!r}: {len(self.values)} values but {len(labels)} labels; give "
                              f"one label per value (or leave labels out to show the values themselves)")
        return labels

    def default_index(self) -> int:
        if self.default is None:
            return 0
        for i, v in enumerate(self.values):
            if v == self.default:
                return i
        raise ConfigError(f"Axis {self.label!r}: default {self.default!r} is not one of {list(self.values)}")

    def make_widget(self) -> W.Widget:
        options = list(zip(self.option_labels(), range(len(self.values))))
        index = self.default_index()
        style = {"description_width": "initial"}
        if self.kind == "buttons":
            return W.ToggleButtons(options=options, index=index, description=self.label, style=style)
        if self.kind == "slider":
            return W.SelectionSlider(options=options, index=index, description=self.label,
                                     continuous_update=True, style=style,
                                     layout=W.Layout(width="420px"))
        raise ConfigError(f"Axis kind must be 'slider' or 'buttons', got {self.kind!r}")


def figure_png(fig, *, compress_level: int = 1, draw: bool = True, palette: bool = False) -> bytes:
    """Draw a Matplotlib figure (Agg) and return PNG bytes.

    Faster than ``fig.savefig``: the canvas is drawn once and the pixels handed straight to Pillow.
    ``compress_level=1`` is quick (live widgets); pages use ``palette=True``, which reduces the
    picture to 256 colours first: about a quarter of the bytes, and a page holds dozens of them.
    ``draw=False`` encodes the canvas as it is (after blitting, see ``PlaygroundFigure``).
    """
    who = "figure_png"
    draw = boolean(draw, "draw", who)
    palette = boolean(palette, "palette", who)
    from matplotlib.figure import Figure
    if not isinstance(fig, Figure):
        raise ConfigError(f"{who}: fig must be a Matplotlib Figure, got {type(fig).__name__}; for an Axes "
                          f"pass its figure (ax.figure)")
    if not hasattr(fig.canvas, "buffer_rgba"):      # a Figure() made without pyplot has no pixels yet: use Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
    if isinstance(compress_level, bool) or not isinstance(compress_level, numbers.Integral) \
            or not 0 <= compress_level <= 9:
        raise ConfigError(f"{who}: compress_level must be a whole number from 0 (no compression) to 9 (smallest "
                          f"file), got {compress_level!r}; 1 is quick, 6 is what pages use")
    from PIL import Image
    if draw:
        fig.canvas.draw()
    picture = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
    if palette:
        picture = picture.quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    picture.save(out, format="png", compress_level=compress_level)
    return out.getvalue()


#: how the static widgets encode their pictures (small, since a page holds dozens)
PAGE_PNG = dict(compress_level=6, palette=True)


def png_image(png: bytes, **layout) -> W.Image:
    """An ``ipywidgets.Image`` holding PNG bytes (scaled to its container's width at most)."""
    if not isinstance(png, (bytes, bytearray)) or not png:
        got = "empty bytes" if isinstance(png, (bytes, bytearray)) else type(png).__name__
        raise ConfigError(f"png_image: png must be the bytes of a PNG picture, got {got}; make them with "
                          f"figure_png(fig)")
    return _image(png, **layout)


def _image(png, **layout) -> W.Image:
    """``png_image`` without the check: also an empty placeholder (``b""``) that a live widget fills later."""
    return W.Image(value=png, format="png", layout=W.Layout(max_width="100%", height="auto", **layout))


def precomputed_widget(axes: Sequence[Axis], render: Callable[..., bytes], *, title: str = "",
                       footer: str = "") -> W.VBox:
    """A widget whose sliders flip between precomputed PNGs, and that works without a kernel.

    ``render(i, j, ...)`` is called once per combination of value *indices* (one per axis) and must
    return PNG bytes. The returned ``VBox`` holds the axis widgets then the nested Stacks; its
    ``.controls`` attribute lists the axis widgets, ``.stack`` is the outer Stack and ``.links`` the
    ``jslink`` objects.
    """
    who = "precomputed_widget"
    if isinstance(axes, Axis):
        raise ConfigError(f"{who}: axes must be a list of Axis, got one Axis: write [Axis(...)]")
    if not isinstance(axes, (list, tuple)) or not axes or any(not isinstance(a, Axis) for a in axes):
        raise ConfigError(f"{who}: axes must be a non-empty list of Axis objects (one per slider), such as "
                          f"[Axis('lr', [0.1, 0.3])], got {axes!r:.60}")
    if not callable(render):
        raise ConfigError(f"{who}: render must be a function of the axes' value indices that returns PNG bytes "
                          f"(e.g. lambda i: figure_png(draw(i))), got {type(render).__name__}")
    text(title, "title", who, allow_empty=True)
    text(footer, "footer", who, allow_empty=True)
    controls = [a.make_widget() for a in axes]
    links = []
    rows = list(controls)

    def build(depth: int, prefix: tuple) -> W.Widget:
        if depth == len(axes):
            return png_image(render(*prefix))
        children = [build(depth + 1, prefix + (i,)) for i in range(len(axes[depth].values))]
        stack = W.Stack(children=children, selected_index=axes[depth].default_index())
        # the browser copies the control's index into this stack's selected_index (and back)
        links.append(W.jslink((controls[depth], "index"), (stack, "selected_index")))
        return stack

    stack = build(0, ())
    parts = ([W.HTML(f"<b>{title}</b>")] if title else []) + rows + [stack]
    if footer:
        parts.append(W.HTML(footer))
    box = W.VBox(parts)
    box.controls, box.stack, box.links = controls, stack, links
    return box


def count_frames(axes: Sequence[Axis]) -> int:
    """How many pictures ``precomputed_widget`` will render (the product of the axis lengths)."""
    return len(list(itertools.product(*[range(len(a.values)) for a in axes])))
