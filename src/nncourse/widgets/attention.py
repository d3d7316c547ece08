"""``attention_explorer()``: look inside a trained attention model, one head at a time (chapter 9).

Pick an input sequence, a layer and a head (or the mean over heads); the widget shows that head's
attention weights as a heatmap: one row per query position (labelled with the model's output there),
one column per key position (labelled with the input token), darker = more weight. For the reversal
task a trained head shows an anti-diagonal: output position i reads input position L-1-i.

Works with the NumPy ``nncourse.models.AttentionTagger`` and with its torch twin (both keep
``attention_maps`` from their last forward pass). ``static=True`` precomputes every combination
(sequence x layer x head) for the published book; ``static=False`` lets you type any sequence.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from ..validation import boolean
from . import arguments
from ..train.backend import is_torch
from .static import PAGE_PNG, Axis, _image, figure_png, precomputed_widget

__all__ = ["attention_explorer", "attention_maps_for", "draw_attention"]


def attention_maps_for(model, tokens):
    """Run ``model`` on one sequence; return ``(maps, prediction)``: maps (layers, heads, L, L), prediction (L,)."""
    who = "attention_maps_for"
    _check_model(model, who)
    tokens = validation.as_array(tokens, "tokens", who)
    if tokens.dtype.kind not in "iu":
        raise DTypeError(f"{who}: tokens must be integer token ids, got dtype {tokens.dtype}; pass one sequence "
                         f"of ids such as task.X_test[0] (or convert with .astype(int))")
    if tokens.ndim != 1 or tokens.size == 0:
        raise ShapeError(f"{who}: tokens must be one non-empty sequence of ids, shape (length,), got shape "
                         f"{tokens.shape}; for a batch, call it once per row (tokens[0], tokens[1], ...)")
    tokens = tokens.astype(np.int64).reshape(1, -1)
    if is_torch(model):
        import torch

        with torch.no_grad():
            logits = model(torch.from_numpy(tokens)).numpy()
    else:
        logits = model(tokens)
    maps = np.stack([np.asarray(m)[0] for m in model.attention_maps]).astype(np.float64)
    return maps, logits[0].argmax(axis=-1)


def draw_attention(ax, weights, inputs, outputs, title=""):
    """A heatmap of ``weights`` (L queries x S keys) on ``ax``, tokens on both axes; returns the image."""
    who = "draw_attention"
    weights = validation.as_array(weights, "weights", who)
    if weights.dtype.kind != "f":
        raise DTypeError(f"{who}: weights must be float attention weights (rows of probabilities), got dtype "
                         f"{weights.dtype}; convert with weights.astype(float)")
    if weights.ndim != 2 or weights.size == 0:
        raise ShapeError(f"{who}: weights must be one head's (queries, keys) matrix, 2-D and non-empty, got shape "
                         f"{weights.shape}; pick one layer and head, e.g. maps[layer, head]")
    validation.finite(weights, who, argument="weights")
    for name, tokens, size, what in (("inputs", inputs, weights.shape[1], "keys (columns)"),
                                     ("outputs", outputs, weights.shape[0], "queries (rows)")):
        if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__len__") or len(tokens) != size \
                or any(np.ndim(t) != 0 for t in tokens):
            raise ShapeError(f"{who}: {name} must give one token for each of the {size} {what} of weights, got "
                             f"{tokens!r:.60}")
    validation.text(title, "title", who, allow_empty=True)
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(inputs)), [str(t) for t in inputs])
    ax.set_yticks(range(len(outputs)), [str(t) for t in outputs])
    ax.set_xlabel("key position: input token")
    ax.set_ylabel("query position: output token")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=9, y=-0.12)
    return image


class _AttentionFigure:
    def __init__(self):
        self.fig = Figure(figsize=(4.2, 4.2), dpi=80)
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes([0.16, 0.1, 0.8, 0.72])

    def render(self, weights, inputs, outputs, title, **png):
        self.ax.clear()
        draw_attention(self.ax, weights, inputs, outputs, title)
        return figure_png(self.fig, **png)


def _check_model(model, who):
    arguments.model_with(model, who, needs=("attention_maps",),
                         what="an attention model that keeps its attention weights (AttentionTagger, NumPy or torch)",
                         example="models.AttentionTagger(...) trained with train_tagger")
    if not callable(model):
        raise ConfigError(f"{who}: model must be a model to call on the tokens, got {type(model).__name__}")


def _head_view(maps, layer, head):
    """One head's (L, L) weights, or their mean over heads when ``head`` is None."""
    return maps[layer].mean(axis=0) if head is None else maps[layer, head]


def _head_label(head):
    return "mean of heads" if head is None else f"head {head}"


def attention_explorer(model, sequences, *, static=True):
    """Heatmaps of ``model``'s attention for a few ``sequences`` (int array (k, L)), per layer and head.

    ``static=True`` renders ``k x layers x (heads + 1)`` pictures ahead (they work in the book without
    a kernel); ``static=False`` also offers a text box to type a new sequence of tokens.
    """
    static = boolean(static, "static", "attention_explorer")
    arguments.model_with(model, "attention_explorer", needs=("attention_maps",),
                         what="an attention model that keeps its attention weights (AttentionTagger, NumPy or torch)",
                         example="models.AttentionTagger(...) trained with train_tagger")
    static = boolean(static, "static", "attention_explorer")
    sequences = validation.as_array(sequences, "sequences", "attention_explorer")
    if sequences.ndim != 2 or sequences.dtype.kind not in "iu" or len(sequences) == 0:
        raise ConfigError(f"attention_explorer: sequences must be a non-empty int array (k, length), got "
                          f"{sequences.dtype} {sequences.shape}")
    runs = [attention_maps_for(model, s) for s in sequences]
    n_layers, n_heads = runs[0][0].shape[:2]
    heads = list(range(n_heads)) + [None]
    fig = _AttentionFigure()

    def picture(seq_index, layer, head, **png):
        maps, prediction = runs[seq_index]
        title = f"layer {layer}, {_head_label(head)}"
        return fig.render(_head_view(maps, layer, head), sequences[seq_index], prediction, title, **png)

    seq_labels = [" ".join(map(str, s)) for s in sequences]
    if static:
        axes = [Axis("Input", seq_labels, kind="buttons"),
                Axis("Layer", list(range(n_layers)), kind="buttons"),
                Axis("Head", list(range(len(heads))), labels=[_head_label(h) for h in heads], kind="buttons")]
        return precomputed_widget(axes, lambda i, j, k: picture(i, j, heads[k], **PAGE_PNG),
                                  title="Attention weights: rows are queries, columns are keys")

    text = W.Text(value=seq_labels[0], description="Input", continuous_update=False,
                  layout=W.Layout(width="360px"))
    layer_w = W.ToggleButtons(options=list(range(n_layers)), description="Layer")
    head_w = W.ToggleButtons(options=[(_head_label(h), i) for i, h in enumerate(heads)], description="Head")
    message = W.HTML()
    image = _image(b"")
    current = {"run": runs[0], "tokens": sequences[0]}

    def redraw(_=None):
        maps, prediction = current["run"]
        head = heads[head_w.value]
        image.value = fig.render(_head_view(maps, layer_w.value, head), current["tokens"], prediction,
                                 f"layer {layer_w.value}, {_head_label(head)}")

    def new_sequence(_=None):
        try:
            tokens = np.array([int(t) for t in text.value.replace(",", " ").split()], dtype=np.int64)
            current["run"] = attention_maps_for(model, tokens)
            current["tokens"] = tokens
            message.value = ""
        except (ValueError, IndexError) as error:       # not integers, or rejected by the model
            message.value = f"<span style='color:#b00'>{error}</span>"
            return
        redraw()

    text.observe(new_sequence, names="value")
    for w in (layer_w, head_w):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([text, layer_w, head_w, message, image])
