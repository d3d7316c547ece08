"""A temperature slider over names sampled from a language model (chapter 8).

``temperature_sampler(model, train_names)`` draws ``n`` names at each temperature once, when the
page is built, and shows them as a picture: new names in colour, names that already occur in the
training set in grey and struck through. In the static book the slider flips between the
precomputed pictures in the browser (``precomputed_widget``: a ``Stack`` of images and ``jslink``);
with ``static=False`` a live kernel redraws on every move, from the same seeded samples.
"""

from __future__ import annotations

import ipywidgets as W

from ..charlm import sample_names
from .static import PAGE_PNG, Axis, figure_png, png_image, precomputed_widget

__all__ = ["TEMPERATURES", "temperature_sampler", "temperature_samples", "render_samples"]

#: the slider's temperatures: from nearly greedy to nearly uniform
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.3, 1.6, 2.0)


def temperature_samples(model, temperatures=TEMPERATURES, *, n=24, seed=0):
    """``{temperature: [n names]}``, each temperature drawn with the same ``seed``."""
    return {t: sample_names(model, n, temperature=t, seed=seed) for t in temperatures}


def render_samples(names, temperature, known, *, columns=4) -> bytes:
    """PNG of ``names`` in ``columns``; names in ``known`` grey and struck through."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows = -(-len(names) // columns)
    fig = Figure(figsize=(7.0, 0.32 * rows + 0.7), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    new = sum(name not in known for name in names)
    ax.text(0.02, 1 - 0.25 / (0.32 * rows + 0.7), f"temperature {temperature}: {new} of {len(names)} "
            f"names are new (not in the training set)", fontsize=11, weight="bold", va="center")
    for i, name in enumerate(names):
        r, c = divmod(i, columns)
        y = 1 - (0.6 + 0.32 * (r + 0.5)) / (0.32 * rows + 0.7)
        seen = name in known
        label = name if name else "(empty)"
        ax.text(0.02 + c / columns, y, label, fontsize=12, family="monospace", va="center",
                color="0.55" if seen else ("#1f4e79", "#2e6b30")[c % 2],
                fontstyle="italic" if seen else "normal")
        if seen:
            ax.plot([0.02 + c / columns, 0.02 + c / columns + 0.0115 * max(len(label), 1)], [y, y],
                    color="0.55", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return figure_png(fig, **PAGE_PNG)


def temperature_sampler(model, train_names, *, temperatures=TEMPERATURES, n=24, seed=0, static=True,
                        default=0.8):
    """A slider over ``temperatures`` showing ``n`` sampled names each (precomputed for the book)."""
    known = frozenset(train_names)
    samples = temperature_samples(model, temperatures, n=n, seed=seed)
    axis = Axis("temperature", tuple(temperatures), default=default)
    if static:
        return precomputed_widget(
            [axis], lambda i: render_samples(samples[temperatures[i]], temperatures[i], known),
            title="Names sampled at different temperatures",
            footer="Low temperature: the most likely letters, again and again. High: closer to random letters.")
    control = axis.make_widget()
    image = png_image(render_samples(samples[default], default, known))

    def redraw(change):
        t = temperatures[change["new"]]
        image.value = render_samples(samples[t], t, known)

    control.observe(redraw, names="index")
    box = W.VBox([control, image])
    box.controls = [control]
    return box
