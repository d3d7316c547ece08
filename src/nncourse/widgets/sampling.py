"""Chapter 8's widgets: a temperature slider over sampled names, and the next-character distribution
of several models after a chosen prefix.

``temperature_sampler(model, train_names)`` draws ``n`` names at each temperature once, when the
page is built, and shows them as a picture: new names in colour, names that already occur in the
training set in grey and struck through. In the static book the slider flips between the
precomputed pictures in the browser (``precomputed_widget``: a ``Stack`` of images and ``jslink``);
with ``static=False`` a live kernel redraws on every move, from the same seeded samples.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from .. import validation
from ..errors import ConfigError
from ..validation import boolean
from ..models.charlm import next_char_probs, sample_names
from ..train.backend import is_torch_object
from ..data.names import VOCAB
from . import arguments
from .static import PAGE_PNG, Axis, figure_png, png_image, precomputed_widget

__all__ = ["TEMPERATURES", "PREFIXES", "temperature_sampler", "temperature_samples", "render_samples",
           "next_char_explorer", "render_next_char"]

def _check_name_model(model, who):
    """The models of chapter 8 (NumPy, or the counting model): they say what they see by ``kind``."""
    if is_torch_object(model):
        raise ConfigError(f"{who} samples with the NumPy models; got the torch twin {type(model).__name__}: "
                          f"pass the NumPy model it was made from")
    arguments.model_with(model, who, needs=("kind",),
                         what="a character-level name model from nncourse.models.charlm (BigramCounts, "
                              "BigramNet, WindowMLP or RecurrentLM)",
                         example="e.g. charlm.BigramCounts().fit(splits.train)")
    if getattr(model, "kind", None) not in ("counts", "window", "sequence"):
        raise ConfigError(f"{who} expects a character-level name model from nncourse.models.charlm, got "
                          f"{type(model).__name__} with kind={model.kind!r}")


def _temperatures(values, who):
    """``values`` as a tuple of temperatures, each a finite number > 0."""
    values = tuple(arguments.choices(values, "temperatures", who))
    for i, t in enumerate(values):
        validation.positive_float(t, f"temperatures[{i}]", who)
    return values


#: the slider's temperatures: from nearly greedy to nearly uniform
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.3, 1.6, 2.0)


def temperature_samples(model, temperatures=TEMPERATURES, *, n=24, seed=0):
    """``{temperature: [n names]}``, each temperature drawn with the same ``seed``."""
    who = "temperature_samples"
    _check_name_model(model, who)
    temperatures = _temperatures(temperatures, who)
    return {t: sample_names(model, n, temperature=t, seed=seed) for t in temperatures}


def render_samples(names, temperature, known, *, columns=4) -> bytes:
    """PNG of ``names`` in ``columns``; names in ``known`` grey and struck through."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    who = "render_samples"
    if isinstance(names, str) or not all(isinstance(name, str) for name in names) or not len(names):
        raise ConfigError(f"{who}: names must be a non-empty list of strings, got {names!r:.60}")
    validation.positive_float(temperature, "temperature", who)
    if isinstance(known, str) or not hasattr(known, "__contains__"):
        raise ConfigError(f"{who}: known must be a set (or list) of names, got {type(known).__name__}")
    columns = validation.positive_int(columns, "columns", who)
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
    static = boolean(static, "static", "temperature_sampler")
    who = "temperature_sampler"
    _check_name_model(model, who)
    known = arguments.names_collection(train_names, "train_names", who)
    if not known:
        raise ConfigError(f"{who}: train_names is empty, so no sampled name could be marked as already seen: "
                          f"pass the names the model was trained on, such as splits.train")
    temperatures = _temperatures(temperatures, who)
    n = validation.positive_int(n, "n", who)
    static = validation.boolean(static, "static", who)
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


#: the prefixes of ``next_char_explorer``: the empty start, and surname beginnings with a clear pattern
PREFIXES = ("", "mc", "sch", "van", "ander", "q", "smit", "o")


def render_next_char(models, prefix, *, top=None) -> bytes:
    """PNG: one bar per symbol and model, P(next symbol | prefix)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    who = "render_next_char"
    _check_models(models, who)
    validation.text(prefix, "prefix", who, allow_empty=True)
    fig = Figure(figsize=(8.0, 2.9), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(models)
    colours = ("#9e9e9e", "#2e6b30", "#c55a11", "#1f4e79")
    for m, (name, model) in enumerate(models.items()):
        p = next_char_probs(model, prefix)
        ax.bar(np.arange(len(VOCAB)) + (m - (len(models) - 1) / 2) * width, p, width, label=name,
               color=colours[m % len(colours)])
    ax.set_xticks(range(len(VOCAB)), ["end"] + list(VOCAB.symbols[1:]), fontsize=9)
    ax.set_xlim(-0.6, len(VOCAB) - 0.4)
    ax.set_ylabel("P(next)")
    ax.set_title("after the start of a name" if not prefix else f"after '{prefix}'", fontsize=11)
    ax.legend(fontsize=8, ncol=len(models), loc="upper right")
    fig.tight_layout()
    return figure_png(fig, **PAGE_PNG)


def _check_models(models, who):
    arguments.mapping(models, "models", who, example="{'bigram': bigram_model, 'LSTM': lstm_model}")
    for name, model in models.items():
        _check_name_model(model, f"{who}: models[{name!r}]")


def next_char_explorer(models, *, prefixes=PREFIXES):
    """Buttons over ``prefixes``; each shows P(next symbol | prefix) for every model in ``models``
    (a dict ``name -> NumPy model``), precomputed so that it works in the static book."""
    who = "next_char_explorer"
    _check_models(models, who)
    prefixes = arguments.choices(prefixes, "prefixes", who)
    for i, prefix in enumerate(prefixes):
        validation.text(prefix, f"prefixes[{i}]", who, allow_empty=True)
        VOCAB.encode(prefix)                              # a clear error for letters outside a-z
    labels = [repr(p) if p else "(start)" for p in prefixes]
    axis = Axis("prefix", tuple(range(len(prefixes))), labels=labels, kind="buttons")
    return precomputed_widget([axis], lambda i: render_next_char(models, prefixes[i]),
                              title="What comes next? The models' distributions after a prefix")
