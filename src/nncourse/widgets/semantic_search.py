"""``semantic_search_explorer(...)``: pick a query, see the speeches a sentence-embedding model ranks first
(chapter 20).

One slider picks the query; the picture shows the top ``k`` speeches as bars of cosine similarity, labelled
with the play, the speaker and the speech's first words, and marks the speech the query was written for.
The rankings are computed once from embeddings given to it (no model is run), and every picture is
precomputed, so the slider works in the static book with no kernel.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from .static import PAGE_PNG, Axis, figure_png, precomputed_widget

__all__ = ["semantic_search_explorer", "top_k"]


def top_k(query_embeddings, speech_embeddings, k=5):
    """``(indices, scores)``, each (n_queries, k): the ``k`` speeches with the largest dot product (the cosine
    for unit vectors) for every query, best first (ties: the earlier speech first)."""
    who = "top_k"
    q, s = (_float_matrix(a, name, who) for a, name in ((query_embeddings, "query_embeddings"),
                                                         (speech_embeddings, "speech_embeddings")))
    if q.shape[1] != s.shape[1]:
        raise ShapeError(f"{who}: query_embeddings has width {q.shape[1]} but speech_embeddings {s.shape[1]}: "
                         f"embed both with the same model")
    k = validation.positive_int(k, "k", who)
    if k > s.shape[0]:
        raise ConfigError(f"{who}: k={k} is more than the {s.shape[0]} speeches: use k <= {s.shape[0]}")
    scores = q.astype(np.float64) @ s.astype(np.float64).T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def _float_matrix(a, name, who):
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise DTypeError(f"{who}: {name} must be a float NumPy array (n, width), got "
                         f"{getattr(a, 'dtype', type(a).__name__)}")
    if a.ndim != 2 or 0 in a.shape:
        raise ShapeError(f"{who}: {name} must have shape (n, width) with n, width >= 1, got {a.shape}")
    if not np.isfinite(a).all():
        raise DTypeError(f"{who}: {name} holds NaN or inf: embed the texts again")
    return a


class _SearchFigure:
    def __init__(self, k):
        self.fig = Figure(figsize=(9.0, 0.55 * k + 1.1), dpi=72)
        FigureCanvasAgg(self.fig)

    def render(self, query, labels, scores, is_target, **png) -> bytes:
        fig = self.fig
        fig.clear()
        ax = fig.add_axes([0.56, 0.12, 0.42, 0.72])
        y = np.arange(len(scores))[::-1]
        ax.barh(y, scores, color=["C2" if t else "C0" for t in is_target])
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_xlabel("cosine similarity", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        for yi, v in zip(y, scores):
            ax.text(min(v, 0.9) + 0.01, yi, f"{v:.2f}", va="center", fontsize=7)
        fig.suptitle("\n".join(textwrap.wrap(f"Query: {query}", 110)), fontsize=8, x=0.02, ha="left")
        return figure_png(fig, **png)


def semantic_search_explorer(queries, speech_labels, query_embeddings, speech_embeddings, targets=None, *, k=5):
    """A precomputed widget: one picture per query with its top-``k`` speeches (green: the labelled target).

    ``queries``: list of str; ``speech_labels``: one short str per speech ("hamlet, HAMLET: To be, or...");
    the embeddings (n_queries, width) and (n_speeches, width), unit vectors; ``targets``: the index of each
    query's target speech, or None.
    """
    who = "semantic_search_explorer"
    for name, texts in (("queries", queries), ("speech_labels", speech_labels)):
        if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts \
                or not all(isinstance(t, str) for t in texts):
            raise DTypeError(f"{who}: {name} must be a non-empty list of str, got {type(texts).__name__}")
    if len(queries) > 100:
        raise ConfigError(f"{who}: {len(queries)} queries is too many pictures for a page: pass at most 100")
    indices, scores = top_k(query_embeddings, speech_embeddings, k)
    if len(queries) != indices.shape[0] or len(speech_labels) != speech_embeddings.shape[0]:
        raise ShapeError(f"{who}: {len(queries)} queries and {len(speech_labels)} speech labels, but embeddings of "
                         f"{indices.shape[0]} queries and {speech_embeddings.shape[0]} speeches: give one row each")
    if targets is not None:
        targets = np.asarray(targets)
        if targets.shape != (len(queries),) or targets.dtype.kind not in "iu" \
                or targets.min() < 0 or targets.max() >= len(speech_labels):
            raise ShapeError(f"{who}: targets must be one speech index per query, in [0, {len(speech_labels) - 1}]")
    figure = _SearchFigure(indices.shape[1])
    axes = [Axis("Query", list(range(len(queries))),
                 labels=[textwrap.shorten(q, 60, placeholder="...") for q in queries])]

    def render(i):
        labels = [textwrap.shorten(speech_labels[j], 80, placeholder="...") for j in indices[i]]
        hit = [targets is not None and j == targets[i] for j in indices[i]]
        return figure.render(queries[i], labels, scores[i], hit, **PAGE_PNG)

    return precomputed_widget(axes, render, title="Semantic search over Shakespeare's speeches",
                              footer=f"Top {indices.shape[1]} speeches by cosine similarity of all-MiniLM-L6-v2 "
                                     f"embeddings; green: the speech the query was written for.")
