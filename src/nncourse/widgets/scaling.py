"""The scaling calculator of chapter 15: model size, tokens per worker, workers and dtype -> compute per
step, bytes per all-reduce, and memory for weights, gradients and Adam's state.

Plain arithmetic (``nncourse.scaling.memory``), so every setting is computed when the widget is built
and shown as a small HTML table; the tables sit in nested ``Stack``s ``jslink``-ed to the controls
(see ``widgets.static``), and the calculator works in the static book with no kernel.
"""

from __future__ import annotations

import ipywidgets as W

from .. import validation
from ..errors import ConfigError
from ..scaling.memory import BYTES_PER_NUMBER, human_bytes, human_flops, scaling_figures
from . import arguments
from .static import Axis

__all__ = ["scaling_calculator", "calculator_table", "MODEL_SIZES", "TOKENS", "WORKERS", "DTYPES"]

MODEL_SIZES = (1_000_000, 10_000_000, 124_000_000, 350_000_000, 1_300_000_000, 7_000_000_000)
MODEL_LABELS = ("1M", "10M", "124M (GPT-2)", "350M", "1.3B", "7B")
TOKENS = (1024, 4096, 16384, 65536)
WORKERS = (1, 2, 4, 8, 16, 64)
DTYPES = ("float32", "bfloat16")


def calculator_table(n_params: int, tokens: int, world_size: int, dtype: str) -> str:
    """The HTML table the calculator shows for one setting."""
    validation.positive_int(tokens, "tokens", "calculator_table")  # scaling_figures calls it tokens_per_worker
    f = scaling_figures(n_params, tokens, world_size, dtype)
    rows = [
        ("compute per worker per step", human_flops(f["flops_per_worker"]), "6 × parameters × tokens"),
        ("compute per step, all workers", human_flops(f["flops_per_step"]),
         f"{f['tokens_per_step']:,} tokens per step"),
        ("sent per worker per all-reduce", human_bytes(f["allreduce_bytes_per_worker"]),
         "2 (W − 1) / W × gradient bytes"),
        ("weights", human_bytes(f["memory_weights"]), f"{n_params:,} × {dtype}"),
        ("gradients", human_bytes(f["memory_gradients"]), "one per weight"),
        ("Adam state (m and v)", human_bytes(f["memory_optimizer"]), "two per weight"),
        ("total per worker (no activations)", human_bytes(f["memory_total"]), "each worker holds it all"),
    ]
    body = "".join(f"<tr><td>{a}</td><td style='text-align:right'><b class='calc-{i}'>{b}</b></td>"
                   f"<td><small>{c}</small></td></tr>" for i, (a, b, c) in enumerate(rows))
    return f"<table class='scaling-calculator'>{body}</table>"


def _whole_numbers(values, name, who):
    """``values`` as a non-empty list of whole numbers >= 1."""
    values = arguments.choices(values, name, who)
    for i, value in enumerate(values):
        validation.positive_int(value, f"{name}[{i}]", who)
    return values


def scaling_calculator(*, model_sizes=MODEL_SIZES, model_labels=MODEL_LABELS, tokens=TOKENS,
                       workers=WORKERS, dtypes=DTYPES):
    """The static calculator: a ``VBox`` with ``.controls``, ``.stack`` and ``.links``."""
    who = "scaling_calculator"
    model_sizes, tokens, workers = (_whole_numbers(values, name, who) for name, values in
                                    (("model_sizes", model_sizes), ("tokens", tokens), ("workers", workers)))
    model_labels = arguments.choices(model_labels, "model_labels", who)
    if any(not isinstance(label, str) for label in model_labels) or len(model_labels) != len(model_sizes):
        raise ConfigError(f"{who}: model_labels must be one string per model size ({len(model_sizes)} of them), got "
                          f"{model_labels!r:.60}")
    dtypes = arguments.choices(dtypes, "dtypes", who)
    for i, dtype in enumerate(dtypes):
        if not isinstance(dtype, str) or dtype not in BYTES_PER_NUMBER:
            raise ConfigError(f"{who}: dtypes[{i}] must be one of {', '.join(BYTES_PER_NUMBER)}, got {dtype!r:.40}")
    axes = [Axis("parameters", list(model_sizes), labels=list(model_labels),
                 default=model_sizes[min(2, len(model_sizes) - 1)]),
            Axis("tokens per worker", list(tokens), labels=[f"{t:,}" for t in tokens]),
            Axis("workers", list(workers), default=workers[1] if len(workers) > 1 else None),
            Axis("dtype", list(dtypes), kind="buttons")]
    controls = [axis.make_widget() for axis in axes]
    links = []

    def build(depth, prefix):
        if depth == len(axes):
            m, t, w, d = prefix
            return W.HTML(calculator_table(model_sizes[m], tokens[t], workers[w], dtypes[d]))
        children = [build(depth + 1, prefix + (i,)) for i in range(len(axes[depth].values))]
        stack = W.Stack(children=children, selected_index=axes[depth].default_index())
        links.append(W.jslink((controls[depth], "index"), (stack, "selected_index")))
        return stack

    stack = build(0, ())
    footer = W.HTML("<small>Data parallelism: every worker holds the whole model, its gradients and "
                    "Adam's state; activations come on top. 1 KiB = 1024 bytes.</small>")
    box = W.VBox([W.HTML("<b>Scaling calculator</b>"), *controls, stack, footer])
    box.controls, box.stack, box.links = controls, stack, links
    return box
