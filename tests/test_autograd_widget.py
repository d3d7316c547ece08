"""Chapter 13's backward-pass stepper: the frames replay Value.backward() node by node, static and live."""

import ipywidgets as W
import pytest

from nncourse.autograd import Value
from nncourse.errors import ConfigError
from nncourse.widgets.backprop import backward_frames, backward_stepper, layout


def expression():
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    d = e + c
    L = d * f
    L.label = "L"
    return L, (a, b, c, f, e, d)


def test_frames_replay_backward_and_leave_the_graph_as_it_was():
    L, nodes = expression()
    frames = backward_frames(L)
    assert len(frames) == 1 + 7                      # the forward pass, then one frame per node
    assert frames[0].grads == {} and not frames[0].done
    assert all(n.grad == 0.0 for n in nodes)         # the replay restored the gradients it changed
    L.backward()
    last = frames[-1]
    assert last.grads == {id(n): n.grad for n in (*nodes, L)}
    assert last.done == frozenset(id(n) for n in (*nodes, L))
    # a node's gradient is final from the step its own backward function runs, and never changes after
    for i, frame in enumerate(frames[1:], 1):
        for node_id in frame.done:
            assert frame.grads[node_id] == last.grads[node_id], (i, frame.caption)
    assert frames[1].current == id(L) and "d L / d L = 1" in frames[1].caption


def test_layout_puts_inputs_left_of_their_first_use():
    L, (a, b, c, f, e, d) = expression()
    _, pos = layout(L)
    assert pos[id(a)][0] == 0 and pos[id(e)][0] == 1 and pos[id(c)][0] == 1 and pos[id(L)][0] == 3
    assert all(pos[id(p)][0] < pos[id(n)][0] for n in (e, d, L) for p in n._parents)


def test_static_stepper_has_one_picture_per_step_linked_to_the_slider():
    L, _ = expression()
    box = backward_stepper(L)
    images = [child.value for child in box.stack.children]
    assert len(images) == 8 and all(bytes(v[:4]) == b"\x89PNG" for v in images)
    assert len(set(images)) == len(images)
    assert any(isinstance(link, W.widget_link.Link) for link in box.links)
    (control,) = box.controls
    assert [label for label, _ in control.options] == [str(i) for i in range(8)]


def test_live_stepper_redraws():
    L, _ = expression()
    slider, image = backward_stepper(L, static=False).children
    first = image.value
    slider.value = 3
    assert image.value != first


def test_stepper_needs_a_value():
    with pytest.raises(ConfigError, match="expects a Value.*got float"):
        backward_stepper(3.0)
