"""``rotary_explorer()``: rotary positions, one pair of features at a time (chapter 16).

Two sliders: the query's position m and which pair i of features to look at (each pair turns at its own
frequency w_i = theta^(-2i/D)). Each picture shows

* left: the plane of pair i, with the query's pair before rotation (faint), the query rotated by m·w_i and
  the key rotated by n·w_i (the key sits at a fixed position n);
* right: the attention score q_m · k_n as a function of the distance m − n, for pair i alone (a cosine of
  (m − n)·w_i) and for the whole head (the sum over every pair), with the current m − n marked. The
  curves are computed with the key at n = 0 and checked at the key's position n: they depend on m − n only.

Everything is precomputed with ``nncourse.numpy_nn.functional.rotary``, so the sliders work in the static
book with no kernel.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError, ShapeError
from ..utils import as_rng
from ..numpy_nn.functional import rotary, rotary_frequencies
from .static import PAGE_PNG, Axis, figure_png, precomputed_widget

__all__ = ["rotary_explorer", "relative_scores"]


def relative_scores(q, k, distances, theta=10000.0):
    """``(per_pair, total)``: the score of the rotated query at position d against the key at position 0,
    for every distance d, pair by pair (len(distances), D/2) and summed (len(distances),)."""
    who = "relative_scores"
    for name, v in (("q", q), ("k", k)):
        if not isinstance(v, np.ndarray) or v.ndim != 1 or v.dtype.kind != "f" or v.size % 2 or not v.size:
            raise ShapeError(f"{who}: {name} must be a 1-D float array of even length (one head's features), got "
                             f"{getattr(v, 'shape', type(v).__name__)}")
        validation.finite(v, who, argument=name)
    if q.shape != k.shape:
        raise ShapeError(f"{who}: q and k must have the same length, got {q.shape} and {k.shape}")
    if not isinstance(distances, np.ndarray) or distances.ndim != 1 or distances.dtype.kind not in "iu" \
            or not distances.size or np.abs(distances).max() > 10**6:
        raise ShapeError(f"{who}: distances must be a non-empty 1-D integer array (np.arange(-8, 9)) within "
                         f"±1,000,000, got {distances!r}")
    D = q.shape[-1]
    half = D // 2
    base = max(0, -int(distances.min()))                          # keep every position >= 0
    qs = rotary(np.repeat(q[None, :], len(distances), axis=0), distances + base, theta)     # (n, D)
    ks = rotary(k[None, :], np.array([base]), theta)                                         # (1, D)
    per_pair = qs[:, :half] * ks[:, :half] + qs[:, half:] * ks[:, half:]                     # (n, D/2)
    return per_pair, per_pair.sum(axis=1)


class _RotaryFigure:
    def __init__(self):
        self.fig = Figure(figsize=(9.0, 3.6), dpi=72)
        FigureCanvasAgg(self.fig)

    def render(self, q, k, m, n, pair, theta, distances, per_pair, total, **png) -> bytes:
        fig = self.fig
        fig.clear()
        D = q.shape[0]
        half = D // 2
        w = rotary_frequencies(D, theta)[pair]
        left, right = fig.add_axes([0.03, 0.24, 0.3, 0.64]), fig.add_axes([0.43, 0.15, 0.55, 0.7])
        qm = rotary(q[None], np.array([m]), theta)[0]
        kn = rotary(k[None], np.array([n]), theta)[0]
        radius = 1.15 * max(np.hypot(q[pair], q[pair + half]), np.hypot(k[pair], k[pair + half]))
        circle = np.linspace(0, 2 * np.pi, 100)
        left.plot(radius / 1.15 * np.cos(circle), radius / 1.15 * np.sin(circle), color="0.9", lw=0.8)
        for vec, colour, label, alpha in ((q, "C0", "query, position 0", 0.3), (qm, "C0", f"query at m = {m}", 1.0),
                                          (kn, "C3", f"key at n = {n}", 1.0)):
            left.annotate("", xy=(vec[pair], vec[pair + half]), xytext=(0, 0),
                          arrowprops=dict(arrowstyle="-|>", color=colour, alpha=alpha, lw=2))
            left.plot([], [], color=colour, alpha=alpha, lw=2, label=label)
        left.set_xlim(-radius, radius)
        left.set_ylim(-radius, radius)
        left.set_aspect("equal")
        left.set_xticks([])
        left.set_yticks([])
        left.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.01), ncol=1, frameon=False)
        left.set_title(f"pair {pair}: features {pair} and {pair + half}\nturns {w:.3g} rad per position",
                       fontsize=8)
        right.plot(distances, total, color="0.3", lw=1.5, label="whole head (sum over pairs)")
        right.plot(distances, per_pair[:, pair], color="C2", lw=1.5, label=f"pair {pair} alone")
        d = m - n
        j = int(np.flatnonzero(distances == d)[0])
        right.plot([d], [total[j]], "o", color="0.3")
        right.plot([d], [per_pair[j, pair]], "o", color="C2")
        right.axvline(d, color="C0", lw=0.8, ls="--")
        right.axhline(0, color="0.8", lw=0.6)
        right.set_xlabel("distance m − n (query position − key position)", fontsize=8)
        right.set_ylabel("score q_m · k_n", fontsize=8)
        right.tick_params(labelsize=7)
        right.legend(fontsize=7, loc="upper right")
        right.set_title(f"score at m − n = {d}: {total[j]:+.2f} (the same for every m, n with this distance)",
                        fontsize=8)
        return figure_png(fig, **png)


def rotary_explorer(positions=range(0, 11), pairs=(0, 1, 2, 4, 7), *, head_dim=16, key_position=4,
                    theta=100.0, seed=0):
    """A precomputed widget: the query's position (slider) x the pair of features (slider).

    ``theta`` defaults to 100 (instead of Llama's 10000) so that the slow pairs visibly turn within a few
    positions; the picture is the same at any theta, only the frequencies change.
    """
    who = "rotary_explorer"
    for name, values in (("positions", positions), ("pairs", pairs)):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ConfigError(f"{who}: {name} must be a sequence of whole numbers (e.g. range(0, 11)), got {values!r}")
    positions = [validation.non_negative_int(p, "positions", who) for p in positions]
    head_dim = validation.positive_int(head_dim, "head_dim", who)
    if head_dim > 512 or (positions and max(positions) > 10**5):
        raise ConfigError(f"{who}: head_dim={head_dim} (at most 512) or a position in positions (at most 100,000) is "
                          f"too large for a picture")
    if head_dim % 2:
        raise ConfigError(f"{who}: head_dim must be even (features turn in pairs), got {head_dim}")
    pairs = [validation.non_negative_int(i, "pairs", who) for i in pairs]
    if not positions or not pairs or max(pairs) >= head_dim // 2:
        raise ConfigError(f"{who}: positions and pairs must be non-empty, and pairs must be < head_dim / 2 = "
                          f"{head_dim // 2}; got positions={positions}, pairs={pairs}")
    if len(positions) * len(pairs) > 200:
        raise ConfigError(f"{who}: {len(positions)} x {len(pairs)} pictures is too many for a page; pass at most "
                          f"200 combinations")
    key_position = validation.non_negative_int(key_position, "key_position", who)
    if key_position > 10**5:
        raise ConfigError(f"{who}: key_position={key_position} is too large for a picture (at most 100,000)")
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not 1 < theta < float("inf"):
        raise ConfigError(f"{who}: theta must be a finite number > 1, got {theta!r}")
    rng = as_rng(seed)
    q, k = rng.normal(size=head_dim), rng.normal(size=head_dim)
    span = max(abs(p - key_position) for p in positions) + 4
    distances = np.arange(-span, span + 1)
    per_pair, total = relative_scores(q, k, distances, theta)
    figure = _RotaryFigure()
    axes = [Axis("Query position m", positions, default=positions[min(6, len(positions) - 1)]),
            Axis("Pair i", pairs, labels=[f"{i} (w = {rotary_frequencies(head_dim, theta)[i]:.3g})" for i in pairs])]

    def render(i_position, i_pair):
        return figure.render(q, k, positions[i_position], key_position, pairs[i_pair], theta, distances,
                             per_pair, total, **PAGE_PNG)

    return precomputed_widget(axes, render, title="Rotary positions: one pair of features at a time",
                              footer=f"Head of {head_dim} features, theta = {theta:g}, key at position "
                                     f"n = {key_position}. The score depends on m − n only.")
