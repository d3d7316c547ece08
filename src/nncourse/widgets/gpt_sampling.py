"""A sampling explorer for a names GPT (chapter 10): temperature, top-k and a prefix.

Every combination of the three controls is sampled once, when the widget is built, and shown as a
short list of names. The lists sit in nested ``Stack``s whose ``selected_index`` is ``jslink``-ed to
the controls (see ``widgets.static``), so the widget also works in the static book, with no kernel.
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import validation
from . import arguments
from ..models.gpt_training import sample_names
from .static import Axis

__all__ = ["sampling_explorer", "TEMPERATURES", "TOP_KS", "PREFIXES"]

TEMPERATURES = (0.5, 0.8, 1.0, 1.5, 2.0)
TOP_KS = (None, 10, 5, 2, 1)
PREFIXES = ("", "b", "mc", "st", "wil")


def _names_html(names, known):
    """The names as a small grid; names that exist in ``known`` (a set) are shown in bold."""
    cells = []
    for name in names:
        text = html.escape(name) if name else "<i>(empty)</i>"
        cells.append(f"<b>{text}</b>" if name in known else text)
    items = "".join(f"<li style='width:9em;display:inline-block'>{c}</li>" for c in cells)
    return f"<ul style='columns:1;list-style:none;padding-left:0;font-family:monospace'>{items}</ul>"


def sampling_explorer(model, known_names=(), *, n=12, seed=0, temperatures=TEMPERATURES, top_ks=TOP_KS,
                      prefixes=PREFIXES):
    """Build the explorer for a trained names GPT (either back end).

    ``known_names``: names shown in bold when sampled (e.g. the held-out test set). Each combination
    uses the same ``seed``, so moving one control changes only what that control changes.
    Returns a ``VBox`` with ``.controls``, ``.stack`` and ``.links`` (as ``precomputed_widget``).
    """
    who = "sampling_explorer"
    arguments.model_with(model, who, needs=("generate",), what="a names GPT (nncourse GPT, NumPy or torch)",
                         example="the GPT chapter 10 trains with train_gpt")
    known = arguments.names_collection(known_names, "known_names", who)
    n = validation.positive_int(n, "n", who)
    temperatures, top_ks, prefixes = (tuple(arguments.choices(v, k, who)) for k, v in
                                      (("temperatures", temperatures), ("top_ks", top_ks), ("prefixes", prefixes)))
    for i, t in enumerate(temperatures):
        validation.positive_float(t, f"temperatures[{i}]", who)
    for i, k in enumerate(top_ks):
        if k is not None:
            validation.positive_int(k, f"top_ks[{i}]", who)
    for i, p in enumerate(prefixes):
        validation.text(p, f"prefixes[{i}]", who, allow_empty=True)
    axes = [Axis("temperature", list(temperatures), default=1.0 if 1.0 in temperatures else None),
            Axis("top-k", list(top_ks), labels=["all" if k is None else str(k) for k in top_ks]),
            Axis("prefix", list(prefixes), labels=[p or "(none)" for p in prefixes], kind="buttons")]
    controls = [axis.make_widget() for axis in axes]
    links = []

    def leaf(t, k, p):
        names = sample_names(model, n, prefix=prefixes[p], temperature=temperatures[t], top_k=top_ks[k], seed=seed)
        return W.HTML(_names_html(names, known))

    def build(depth, prefix):
        if depth == len(axes):
            return leaf(*prefix)
        children = [build(depth + 1, prefix + (i,)) for i in range(len(axes[depth].values))]
        stack = W.Stack(children=children, selected_index=axes[depth].default_index())
        links.append(W.jslink((controls[depth], "index"), (stack, "selected_index")))
        return stack

    stack = build(0, ())
    footer = W.HTML("<small>Bold: a real surname from the held-out test set. "
                    f"{n} samples per setting, precomputed with seed {seed}.</small>")
    box = W.VBox([W.HTML("<b>Sampling from the names GPT</b>"), *controls, stack, footer])
    box.controls, box.stack, box.links = controls, stack, links
    return box
