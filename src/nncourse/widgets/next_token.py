"""A next-token explorer for a pretrained model (chapter 17): temperature, top-k and top-p.

For a few prompts the model's last-position logits are computed once; every combination of the
controls turns them into the distribution one sampling step draws from (``models.llama
.sampling_probabilities``: temperature, then top-k, then top-p) and shows its most likely tokens as
bars. The views sit in nested ``Stack``s ``jslink``-ed to the controls (see ``widgets.static``), so the
widget also works in the static book, with no kernel.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..errors import ConfigError, ShapeError
from .static import Axis

__all__ = ["next_token_explorer", "TEMPERATURES", "TOP_KS", "TOP_PS"]

TEMPERATURES = (0.5, 1.0, 1.5)
TOP_KS = (None, 20, 5, 1)
TOP_PS = (1.0, 0.9, 0.5)


def _bars(probs, token_str, shown):
    order = np.argsort(-probs, kind="stable")[:shown]
    kept = int(np.count_nonzero(probs))
    rows = []
    for i in order:
        p = float(probs[i])
        if p == 0:
            break
        label = html.escape(repr(token_str(int(i))))
        rows.append(f"<tr><td style='font-family:monospace;padding-right:8px'>{label}</td>"
                    f"<td style='width:260px'><div style='background:#4c72b0;height:12px;width:{260 * p:.0f}px'>"
                    f"</div></td><td style='padding-left:6px'>{p:.3f}</td></tr>")
    return (f"<table style='border-collapse:collapse'>{''.join(rows)}</table>"
            f"<small>{kept:,} token{'s' if kept != 1 else ''} can be drawn</small>")


def next_token_explorer(logits_by_prompt, token_str, *, shown=10, temperatures=TEMPERATURES, top_ks=TOP_KS,
                        top_ps=TOP_PS):
    """Build the explorer.

    ``logits_by_prompt``: ``{prompt text: 1-D float array of the last position's logits}`` (one entry
    per prompt, all of the vocabulary's length); ``token_str``: id -> readable token (``tok.token_str``).
    Returns a ``VBox`` with ``.controls``, ``.stack`` and ``.links`` (as ``precomputed_widget``).
    """
    from ..models.llama import sampling_probabilities

    who = "next_token_explorer"
    if not isinstance(logits_by_prompt, dict) or not logits_by_prompt:
        raise ConfigError(f"{who}: logits_by_prompt must be a non-empty dict {{prompt: logits}}, got "
                          f"{type(logits_by_prompt).__name__}")
    if not callable(token_str):
        raise ConfigError(f"{who}: token_str must turn an id into text (tok.token_str), got {token_str!r}")
    if isinstance(shown, bool) or not isinstance(shown, int) or not 1 <= shown <= 50:
        raise ConfigError(f"{who}: shown must be a whole number from 1 to 50, got {shown!r}")
    prompts, rows = list(logits_by_prompt), []
    for prompt in prompts:
        row = np.asarray(logits_by_prompt[prompt], dtype=np.float64)
        if row.ndim != 1 or row.size < 2 or (rows and row.shape != rows[0].shape):
            raise ShapeError(f"{who}: the logits of {prompt!r} must be one row of the vocabulary's length, got "
                             f"shape {row.shape}: take model(ids)[0, -1]")
        rows.append(row)
    axes = [Axis("prompt", prompts, labels=[p if len(p) < 30 else p[:27] + "..." for p in prompts], kind="buttons"),
            Axis("temperature", list(temperatures), default=1.0 if 1.0 in temperatures else None),
            Axis("top-k", list(top_ks), labels=["all" if k is None else str(k) for k in top_ks]),
            Axis("top-p", list(top_ps))]
    controls = [axis.make_widget() for axis in axes]
    links = []

    def leaf(p, t, k, q):
        top_k = None if top_ks[k] is None else min(top_ks[k], rows[p].size)      # a small test vocabulary
        probs = sampling_probabilities(rows[p][None, :], temperatures[t], top_k, top_ps[q])[0]
        return W.HTML(_bars(probs, token_str, shown))

    def build(depth, prefix):
        if depth == len(axes):
            return leaf(*prefix)
        children = [build(depth + 1, prefix + (i,)) for i in range(len(axes[depth].values))]
        stack = W.Stack(children=children, selected_index=axes[depth].default_index())
        links.append(W.jslink((controls[depth], "index"), (stack, "selected_index")))
        return stack

    stack = build(0, ())
    footer = W.HTML("<small>The distribution one sampling step draws from: logits ÷ temperature, then the "
                    "top-k tokens, then the top-p nucleus, renormalised (greedy decoding is top-k = 1). "
                    "Precomputed for every setting.</small>")
    box = W.VBox([W.HTML("<b>Next-token explorer</b>"), *controls, stack, footer])
    box.controls, box.stack, box.links = controls, stack, links
    return box
