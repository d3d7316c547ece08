"""The scaling calculator: its arithmetic (checked against numbers worked out by hand) and its static
widget (one precomputed table per setting, nested Stacks jslink-ed to every control)."""

import ipywidgets as W
import pytest

from nncourse.errors import ConfigError
from nncourse.scaling import memory
from nncourse.widgets import scaling as calc


def test_memory_by_hand():
    m = memory.training_memory(1_000_000, "float32", "adam")
    assert m == {"weights": 4_000_000, "gradients": 4_000_000, "optimizer": 8_000_000, "total": 16_000_000}
    assert memory.training_memory(1_000_000, "bfloat16")["total"] == 8_000_000
    assert memory.training_memory(10, "float32", "sgd")["total"] == 80
    assert memory.training_memory(10, "float32", "momentum")["optimizer"] == 40


def test_compute_and_allreduce_by_hand():
    f = memory.scaling_figures(124_000_000, 4096, 8, "float32")
    assert f["flops_per_worker"] == 6 * 124_000_000 * 4096
    assert f["flops_per_step"] == 8 * f["flops_per_worker"] and f["tokens_per_step"] == 8 * 4096
    assert f["allreduce_bytes_per_worker"] == 2 * 7 * 124_000_000 * 4 // 8      # 2 (W-1)/W x 496 MB
    assert memory.scaling_figures(10, 1, 1)["allreduce_bytes_per_worker"] == 0   # one worker: nothing to send


def test_human_units():
    assert memory.human_bytes(512) == "512 B"
    assert memory.human_bytes(1536) == "1.5 KiB"
    assert memory.human_bytes(16 * 2**30) == "16 GiB"
    assert memory.human_flops(3.2e12) == "3.2 TFLOP"
    assert memory.human_flops(12) == "12 FLOP"


def test_bad_inputs():
    with pytest.raises(ConfigError, match="unknown dtype 'int8'.*float32"):
        memory.training_memory(10, "int8")
    with pytest.raises(ConfigError, match="unknown optimizer 'lion'.*adam"):
        memory.training_memory(10, "float32", "lion")
    with pytest.raises(ConfigError, match="n_params must be a positive whole number"):
        memory.training_memory(0)
    with pytest.raises(ConfigError, match="world_size must be a positive whole number"):
        memory.scaling_figures(10, 1, 0)
    with pytest.raises(ConfigError, match="cannot be negative"):
        memory.human_bytes(-1)


def test_table_shows_the_figures_of_its_setting():
    html = calc.calculator_table(124_000_000, 4096, 2, "bfloat16")
    assert "3.05 TFLOP" in html and "6.09 TFLOP" in html      # 6 x 124M x 4096, x 2 workers
    assert html.count("237 MiB") == 3                          # all-reduce (2 workers: 1 x size), weights, gradients
    assert "473 MiB" in html and "946 MiB" in html             # Adam's two moments, the total


def _leaves(widget):
    if isinstance(widget, W.Stack):
        for child in widget.children:
            yield from _leaves(child)
    else:
        yield widget


def test_static_calculator_precomputes_every_setting_and_links_every_control():
    box = calc.scaling_calculator()
    sizes = [len(calc.MODEL_SIZES), len(calc.TOKENS), len(calc.WORKERS), len(calc.DTYPES)]
    leaves = list(_leaves(box.stack))
    assert len(leaves) == sizes[0] * sizes[1] * sizes[2] * sizes[3]
    assert all(isinstance(leaf, W.HTML) for leaf in leaves)
    assert len({leaf.value for leaf in leaves}) == len(leaves)                 # every setting differs
    # one jslink per Stack, each from a control's index to the stack's selected_index
    assert len(box.links) == 1 + sizes[0] + sizes[0] * sizes[1] + sizes[0] * sizes[1] * sizes[2]
    assert {link.source[0] for link in box.links} == set(box.controls)
    assert all(link.source[1] == "index" and link.target[1] == "selected_index" for link in box.links)
    # the default selection shows the default setting's table
    m, t, w, d = (c.index for c in box.controls)
    shown = box.stack.children[m].children[t].children[w].children[d]
    assert shown.value == calc.calculator_table(calc.MODEL_SIZES[m], calc.TOKENS[t], calc.WORKERS[w], calc.DTYPES[d])
    assert calc.MODEL_SIZES[m] == 124_000_000 and calc.WORKERS[w] == 2
