"""Chapter 13: the computational graph of a small ``Value`` expression, drawn, and its backward pass
stepped through one node at a time.

``draw_graph(root)`` draws every node as a box (its name or operation, its value from the forward pass,
its gradient) with arrows from inputs to outputs, inputs on the left. ``backward_frames(root)`` replays
``root.backward()`` one node at a time and records the gradients after each step;
``backward_stepper(root)`` turns the frames into a slider (static: precomputed pictures in a ``Stack``
that the slider switches in the browser, so it works in the published book).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from .. import validation
from ..autograd.value import Value, topological_order
from ..errors import ConfigError
from .static import PAGE_PNG, Axis, figure_png, png_image, precomputed_widget

__all__ = ["draw_graph", "backward_frames", "backward_stepper", "Frame"]

DONE, PENDING, CURRENT = "#c7e9c0", "#f0f0f0", "#fdd49e"     # final gradient, not yet, just computed
MAX_STEPPER_NODES = 30     # one picture per node, each showing every node: 30 nodes take a few seconds
MAX_GRAPH_NODES = 200      # one picture: beyond this the boxes no longer fit a page


def _check_root(root, who):
    if not isinstance(root, Value):
        raise ConfigError(f"{who} expects a Value (an expression built from nncourse.autograd.Value) as root, got "
                          f"{type(root).__name__}; for a Tensor graph count its nodes instead of drawing them")


def _check_size(order, limit, who, advice):
    if len(order) > limit:
        raise ConfigError(f"{who}: the graph has {len(order)} nodes, more than max_nodes={limit} that it can draw "
                          f"in a few seconds; {advice}")


def _name(node):
    if node.label:
        return node.label
    return node._op or "const"


def layout(root):
    """Positions: x = longest path from an input, inputs just left of their first use; y spread
    within each column."""
    order = topological_order(root)
    depth = {}
    for node in order:                                      # parents come first
        depth[id(node)] = 1 + max((depth[id(p)] for p in node._parents), default=-1)
    for node in reversed(order):                            # an input sits just left of its first use
        if not node._parents:
            uses = [depth[id(n)] for n in order if any(p is node for p in n._parents)]
            depth[id(node)] = min(uses, default=1) - 1
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for x, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[id(node)] = (x, (len(nodes) - 1) / 2 - i)
    return order, pos


def draw_graph(root, ax=None, *, grads=None, done=(), current=None, show_grad=True, title=""):
    """Draw the graph of ``root``. ``grads`` (id -> number) overrides the ``.grad`` shown on the nodes;
    nodes whose id is in ``done`` are green (their gradient is final), ``current`` is orange.
    Graphs of more than ``MAX_GRAPH_NODES`` nodes are refused (they would not fit a page)."""
    _check_root(root, "draw_graph")
    _check_size(topological_order(root), MAX_GRAPH_NODES, "draw_graph",
                "draw one part of the expression (one term of the loss) instead")
    show_grad = validation.boolean(show_grad, "show_grad", "draw_graph")
    validation.text(title, "title", "draw_graph", allow_empty=True)
    order, pos = layout(root)
    if current is not None and (isinstance(current, bool) or current not in {id(node) for node in order}):
        raise ConfigError(f"draw_graph: current must be None or id(node) of a node of this graph (the node to "
                          f"show in orange), got {current!r:.40}")
    if ax is None:
        width = 1.9 * (1 + max(x for x, _ in pos.values()))
        height = 1.2 * (1 + max(y for _, y in pos.values()) - min(y for _, y in pos.values()))
        _, ax = plt.subplots(figsize=(max(width, 4), max(height, 2.2)))
    for node in order:
        x1, y1 = pos[id(node)]
        for parent in node._parents:
            x0, y0 = pos[id(parent)]
            ax.annotate("", xy=(x1 - 0.38, y1), xytext=(x0 + 0.38, y0),
                        arrowprops=dict(arrowstyle="->", color="0.45", lw=1))
    for node in order:
        x, y = pos[id(node)]
        grad = node.grad if grads is None else grads.get(id(node))
        colour = CURRENT if id(node) == current else (DONE if id(node) in done else PENDING)
        if not show_grad:
            colour = "white"
        ax.add_patch(FancyBboxPatch((x - 0.38, y - 0.3), 0.76, 0.6, boxstyle="round,pad=0.02",
                                    facecolor=colour, edgecolor="0.3", lw=1))
        op = f" ({node._op})" if node.label and node._op else ""
        lines = [f"{_name(node)}{op}", f"value {node.data:.3g}"]
        if show_grad:
            lines.append("grad  ?" if grad is None else f"grad {grad:.3g}")
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8, family="monospace")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.45, max(ys) + 0.45)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


@dataclass(frozen=True)
class Frame:
    """The gradients after one step of the backward pass."""

    grads: dict          # id(node) -> gradient so far (None: not reached yet)
    done: frozenset      # ids of the nodes whose gradient is final
    current: int | None  # id of the node whose backward function just ran
    caption: str


def backward_frames(root):
    """Replay ``root.backward()`` one node at a time; the graph's gradients are left as they were."""
    _check_root(root, "backward_frames")
    order = topological_order(root)
    saved = {id(n): n.grad for n in order}
    try:
        for node in order:
            node.grad = 0.0
        reached = set()
        frames = [Frame({}, frozenset(), None, "forward pass done: every node knows its value")]
        root.grad = 1.0
        reached.add(id(root))
        done = set()
        for node in reversed(order):
            node._backward()
            done.add(id(node))
            reached.update(id(p) for p in node._parents)
            grads = {id(n): n.grad for n in order if id(n) in reached}
            if node._parents:
                names = ", ".join(_name(p) for p in node._parents)
                caption = f"{_name(node)}: chain rule sends grad {node.grad:.3g} on to {names}"
            else:
                caption = f"{_name(node)} is an input: its gradient {node.grad:.3g} is final"
            if node is root:
                caption = f"start: d {_name(root)} / d {_name(root)} = 1; " + caption
            frames.append(Frame(grads, frozenset(done), id(node), caption))
        return frames
    finally:
        for node in order:
            node.grad = saved[id(node)]


def _frame_png(root, frame, figsize):
    fig, ax = plt.subplots(figsize=figsize)
    draw_graph(root, ax, grads=frame.grads, done=frame.done, current=frame.current, title=frame.caption)
    fig.tight_layout()
    png = figure_png(fig, **PAGE_PNG)
    plt.close(fig)
    return png


def backward_stepper(root, *, static=True, figsize=(8, 3.4), max_nodes=MAX_STEPPER_NODES):
    """A slider over the steps of ``root``'s backward pass (step 0: after the forward pass).

    It draws one picture per node of the graph, so a graph of more than ``max_nodes`` nodes (30 by
    default: a few seconds) is refused at once with a ``ConfigError`` rather than drawn for minutes.
    """
    who = "backward_stepper"
    _check_root(root, who)
    static = validation.boolean(static, "static", who)
    max_nodes = validation.positive_int(max_nodes, "max_nodes", who)
    if not (isinstance(figsize, (tuple, list)) and len(figsize) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < v <= 50 for v in figsize)):
        raise ConfigError(f"{who}: figsize must be (width, height) in inches, two numbers in (0, 50], got "
                          f"{figsize!r}; e.g. figsize=(8, 3.4)")
    _check_size(topological_order(root), max_nodes, who,
                "step through a smaller expression (one term of the loss, or a neuron), draw the whole graph "
                "once with draw_graph(root), or raise max_nodes (about 0.1 s per node per picture)")
    frames = backward_frames(root)
    labels = [f"{i}" for i in range(len(frames))]
    if static:
        return precomputed_widget([Axis("backward step", list(range(len(frames))), labels)],
                                  lambda i: _frame_png(root, frames[i], figsize),
                                  footer="green: gradient final; orange: the node whose backward just ran")
    image = png_image(_frame_png(root, frames[0], figsize))
    slider = W.IntSlider(0, 0, len(frames) - 1, description="backward step")
    slider.observe(lambda change: setattr(image, "value", _frame_png(root, frames[change["new"]], figsize)),
                   names="value")
    return W.VBox([slider, image])
