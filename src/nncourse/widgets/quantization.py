"""``quantization_explorer(weights, table)``: bits against error, one storage format at a time (chapter 19).

Buttons pick a format. Each picture shows

* left: one block of 32 weights (dots), the levels that format can store for that block (grey lines:
  2^bits of them, placed by the block's scale and minimum, or by the float format's spacing), and the
  stored values (crosses);
* middle: the histogram of the rounding error ``dequantized - w`` over the whole matrix, with its relative
  size ``||error|| / ||w||``;
* right: the measured trade-off from ``table`` (bytes per parameter against perplexity, from
  ``benchmarks/bench_quantization.py``), the chosen format highlighted.

Everything is precomputed with ``nncourse.quantization.quantize``, so the buttons work in the static
book with no kernel.
"""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError, DTypeError, ShapeError
from ..quantization import QK, quantize
from .static import PAGE_PNG, Axis, figure_png, precomputed_widget

__all__ = ["quantization_explorer", "block_levels"]

FORMATS = ("bf16", "f16", "int8", "q8_0", "q4_1", "q4_0")


def block_levels(block, kind):
    """The values ``kind`` can store for this block of 32 (the grid its values are rounded to), sorted.

    The float formats have no per-block grid (their levels are spaced by each value's exponent): for them,
    each stored value and its two neighbours in that format."""
    if not isinstance(block, np.ndarray) or block.shape != (QK,):
        raise ShapeError(f"block_levels: block must be a NumPy array of {QK} values, got "
                         f"{getattr(block, 'shape', type(block).__name__)}; pass w[row, 32 * j:32 * (j + 1)]")
    if block.dtype not in (np.float16, np.float32, np.float64):
        raise DTypeError(f"block_levels: block must hold floats (float16, float32 or float64), got dtype "
                         f"{block.dtype}; convert it first: block.astype(np.float32)")
    validation.finite(block, "block_levels", argument="block")
    raw = quantize(block, kind)
    kind = raw.kind
    if kind == "q8_0":
        d = float(raw.raw[:2].copy().view(np.float16)[0])
        return d * np.arange(-127, 128)
    if kind == "q4_0":
        d = float(raw.raw[:2].copy().view(np.float16)[0])
        return np.sort(d * (np.arange(16) - 8))
    if kind == "q4_1":
        d, m = (float(v) for v in raw.raw[:4].copy().view(np.float16))
        return d * np.arange(16) + m
    if kind == "int8":
        return float(raw.scales[0]) * np.arange(-127, 128)
    codes = raw.raw.view(np.uint16).astype(np.int64)                # the stored 16-bit patterns
    neighbours = (np.concatenate([codes - 1, codes, codes + 1]) % 65536).astype(np.uint16)
    if kind == "f16":
        values = neighbours.view(np.float16).astype(np.float32)
    else:                                                             # bfloat16: the top 16 bits of float32
        values = (neighbours.astype(np.uint32) << 16).view(np.float32)
    values = np.unique(values[np.isfinite(values)])
    return np.sort(values[np.isfinite(values)])


class _Figure:
    def __init__(self):
        self.fig = Figure(figsize=(10.5, 3.3), dpi=72)
        FigureCanvasAgg(self.fig)

    def render(self, w, kind, block_index, table, **png) -> bytes:
        fig = self.fig
        fig.clear()
        q = quantize(w, kind)
        back = q.dequantize()
        rows, cols = w.shape
        r, c = divmod(block_index * QK, cols)
        block, stored = w[r, c:c + QK], back[r, c:c + QK]
        levels = block_levels(block, kind) if kind != "int8" else float(q.scales[r]) * np.arange(-127, 128)
        ax1, ax2, ax3 = fig.add_axes([0.05, 0.17, 0.27, 0.68]), fig.add_axes([0.39, 0.17, 0.26, 0.68]), \
            fig.add_axes([0.72, 0.17, 0.26, 0.68])
        lo, hi = float(block.min()), float(block.max())
        pad = 0.08 * (hi - lo or 1.0)
        shown = levels[(levels >= lo - pad) & (levels <= hi + pad)]
        for level in shown[:: max(1, len(shown) // 64)]:
            ax1.axhline(level, color="0.85", lw=0.6)
        ax1.plot(np.arange(QK), block, "o", ms=3.5, color="C0", label="float32 weight")
        ax1.plot(np.arange(QK), stored, "x", ms=4, color="C3", label=f"stored in {kind}")
        ax1.set_ylim(lo - pad, hi + pad)
        ax1.set_xlabel("position in the block", fontsize=8)
        ax1.tick_params(labelsize=7)
        ax1.legend(fontsize=7, loc="upper right")
        grid = f"{len(shown)} levels in its range" if kind not in ("bf16", "f16") else "levels next to each weight"
        ax1.set_title(f"one block of 32: {grid}", fontsize=8)
        error = (back - w).ravel()
        relative = float(np.linalg.norm(error) / np.linalg.norm(w))
        spread = float(np.abs(error).max()) or 1e-12
        ax2.hist(error, bins=np.linspace(-spread, spread, 61), color="C1")
        ax2.set_xlabel("rounding error (stored − float32)", fontsize=8)
        ax2.tick_params(labelsize=7)
        ax2.set_title(f"{kind}: {q.bits_per_value:.2f} bits per weight, relative error {relative:.1e}", fontsize=8)
        names = [k for k in table if k in table]
        x = [table[k]["bytes_per_param"] for k in names]
        y = [table[k]["perplexity"] for k in names]
        ax3.plot(x, y, "o", color="0.6")
        for k, xi, yi in zip(names, x, y):
            ax3.annotate(k, (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7)
        if kind in table:
            ax3.plot([table[kind]["bytes_per_param"]], [table[kind]["perplexity"]], "o", ms=9, color="C3")
        ax3.set_xlabel("bytes per parameter", fontsize=8)
        ax3.set_ylabel("test perplexity", fontsize=8)
        ax3.tick_params(labelsize=7)
        chosen = f"{table[kind]['perplexity']:.2f}" if kind in table else "not measured"
        ax3.set_title(f"the small Llama's perplexity in {kind}: {chosen}", fontsize=8)
        return figure_png(fig, **png)


def quantization_explorer(weights, table, *, formats=FORMATS, block=0):
    """A precomputed widget: buttons pick a storage format; see the module's docstring.

    ``weights``: a float32 matrix whose rows are whole 32-value blocks (a real layer's weight). ``table``:
    ``{format: {"bytes_per_param": ..., "perplexity": ...}}`` (the ``llama`` table of
    ``chapters/results/19_quantization.json``). ``block``: which block of 32 the left panel shows.
    """
    who = "quantization_explorer"
    if not isinstance(weights, np.ndarray) or weights.dtype != np.float32:
        raise DTypeError(f"{who}: weights must be a float32 NumPy matrix, got "
                         f"{getattr(weights, 'dtype', type(weights).__name__)}; pass w.astype(np.float32)")
    if weights.ndim != 2 or weights.shape[1] % QK or weights.size == 0:
        raise ShapeError(f"{who}: weights must be a matrix whose rows are whole blocks of {QK} values, got shape "
                         f"{weights.shape}; pass a layer's weight such as (384, 384)")
    validation.finite(weights, who, argument="weights")
    if not isinstance(table, dict) or not all(isinstance(v, dict) and {"bytes_per_param", "perplexity"} <= set(v)
                                              for v in table.values()):
        raise ConfigError(f"{who}: table must map formats to dicts with 'bytes_per_param' and 'perplexity', got "
                          f"{type(table).__name__}; pass RESULTS['llama'] from chapters/results/19_quantization.json")
    formats = list(formats) if not isinstance(formats, str) else [formats]
    unknown = [k for k in formats if k not in FORMATS]
    if not formats or unknown or len(formats) > 12:
        raise ConfigError(f"{who}: formats must be a few of {list(FORMATS)}, got {formats!r}")
    n_blocks = weights.size // QK
    if isinstance(block, bool) or not isinstance(block, numbers.Integral) or not 0 <= block < n_blocks:
        raise ConfigError(f"{who}: block must be a whole number in 0..{n_blocks - 1} (which block of 32 to show), "
                          f"got {block!r}")
    for kind in formats:
        quantize(weights, kind)                                     # refuses NaN and overflowing scales up front
    figure = _Figure()
    axes = [Axis("Format", formats, kind="buttons")]

    def render(i):
        return figure.render(weights, formats[i], int(block), table, **PAGE_PNG)

    return precomputed_widget(axes, render, title="Bits against error",
                              footer="Left: the levels a format can store for one block, and where each weight "
                                     "lands. Middle: every weight's rounding error. Right: what it costs the "
                                     "model (measured by benchmarks/bench_quantization.py).")
