"""The exercise checks of chapter 11 (generalization).

For every check: the solution from solutions/11_generalization.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible
wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncourse.checks import ch11
from check_helpers import assert_hint, run, solution_namespace, stub


def solution() -> dict:
    return solution_namespace("11_generalization")


CHECKS = ["dropout_forward", "dropout_backward", "l2_gradient", "should_stop", "best_epoch", "shift_image"]


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch11, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


# ------------------------------------------------------------------------------- dropout

def _dropout(train, evaluate=lambda x, u, p: x):
    return lambda x, u, p, training: train(x, u, p) if training else evaluate(x, u, p)


_RIGHT = lambda x, u, p: x * (u >= p) / (1 - p)   # noqa: E731


@pytest.mark.parametrize("wrong, needles", [
    (_dropout(lambda x, u, p: x * (u >= p)), ["scales the values it keeps by 1 / (1 - p)"]),
    (_dropout(lambda x, u, p: x * (u >= p) / p), ["probability of *keeping*", "not by the drop rate p"]),
    (_dropout(lambda x, u, p: x * (u >= p) * (1 - p)), ["non-inverted"]),
    (_dropout(lambda x, u, p: x * (u < p) / (1 - p)), ["u < p keeps a share p"]),
    (_dropout(lambda x, u, p: x * (u > p) / (1 - p)), ["u equals p exactly is kept", "u >= p, not u > p"]),
    (_dropout(lambda x, u, p: x / (1 - p)), ["the mask is missing"]),
    (_dropout(lambda x, u, p: x), ["in training mode (training=True)"]),
    (_dropout(_RIGHT, _RIGHT), ["evaluation mode (training=False) dropout is the identity"]),
    (_dropout(_RIGHT, lambda x, u, p: x * (1 - p)), ["already scaled in training"]),
])
def test_dropout_forward_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.dropout_forward, wrong), *needles)


@pytest.mark.parametrize("wrong, needles", [
    (_dropout(lambda g, u, p: g), ["did not reach the output", "same mask"]),
    (_dropout(lambda g, u, p: g * (u >= p)), ["scales the values it keeps by 1 / (1 - p)", "the gradient"]),
    (_dropout(lambda g, u, p: g * (u >= p) / p), ["not by the drop rate p"]),
    (_dropout(lambda g, u, p: g * (u < p) / (1 - p)), ["u < p keeps a share p"]),
    (_dropout(_RIGHT, _RIGHT), ["identity", "the gradient passes unchanged"]),
    (_dropout(_RIGHT, lambda g, u, p: g / (1 - p)), ["nothing is dropped and nothing is scaled"]),
])
def test_dropout_backward_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.dropout_backward, wrong), *needles)


def test_dropout_forward_refuses_a_list_and_an_in_place_change():
    assert_hint(run(ch11.dropout_forward, lambda x, u, p, training: (x * (u >= p) / (1 - p)).tolist()),
                "expected a NumPy array")

    def in_place(x, u, p, training):
        if training:
            x *= (u >= p) / (1 - p)
        return x
    assert_hint(run(ch11.dropout_forward, in_place), "in place")


# ------------------------------------------------------------------------------- l2_gradient

@pytest.mark.parametrize("wrong, needles", [
    (lambda g, w, lam: g + 2 * lam * w, ["the 1/2 cancels the 2"]),
    (lambda g, w, lam: g - lam * w, ["the sign"]),
    (lambda g, w, lam: lam * w, ["the penalty's gradient alone"]),
    (lambda g, w, lam: g + lam * np.sign(w), ["L1 penalty"]),
    (lambda g, w, lam: g + lam, ["not the constant"]),
    (lambda g, w, lam: g * (1 - lam), ["shrinks the *weights*, not the gradient"]),
    (lambda g, w, lam: g + lam / 2 * w ** 2, ["adds the penalty itself"]),
])
def test_l2_gradient_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.l2_gradient, wrong), *needles)


# ------------------------------------------------------------------------------- should_stop

def _since_best(losses, strictly=True):
    best, since = math.inf, 0
    for loss in losses:
        if loss < best or (not strictly and loss <= best):
            best, since = loss, 0
        else:
            since += 1
    return since


def _rising(losses):
    run_length = 0
    for a, b in zip(losses, losses[1:]):
        run_length = run_length + 1 if b >= a else 0
    return run_length


@pytest.mark.parametrize("wrong, needles", [
    (lambda v, k: _rising(v) >= k, ["with the *best* so far, not with the epoch before"]),
    (lambda v, k: _since_best(v) > k, ["one epoch too late"]),
    (lambda v, k: _since_best(v) >= k - 1, ["one epoch too early"]),
    (lambda v, k: _since_best(v, strictly=False) >= k, ["an equal loss is not an improvement"]),
    (lambda v, k: len(v) - 1 - int(np.argmax(v)) >= k, ["a *lower* validation loss is better"]),
    (lambda v, k: len(v) - 1 - int(np.argmin(v)) >= k, ["np.argmin picks a NaN"]),
    (lambda v, k: len(v) >= k, ["not all the epochs"]),
    (lambda v, k: int(_since_best(v) >= k), ["should return True or False"]),
    (lambda v, k: _never_reset(v) >= k, ["set the count back to 0 whenever the loss improves"]),
    (lambda v, k: _since_best(v) == k, ["use >=, not =="]),
    (lambda v, k: _since_first_as_best(v) >= k, ["best = val_losses[0] takes a NaN first epoch"]),
    (lambda v, k: False, ["for every other case too", "a fixed value"]),
    (lambda v, k: True, ["for every other case too", "a fixed value"]),
])
def test_should_stop_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.should_stop, wrong), *needles)


def _never_reset(losses):
    """A learner's count that is never set back to 0."""
    best, bad = math.inf, 0
    for loss in losses:
        if loss < best:
            best = loss
        else:
            bad += 1
    return bad


def _since_first_as_best(losses):
    """A learner's loop that starts from best = losses[0]."""
    best, since = losses[0], 0
    for loss in losses[1:]:
        if loss < best:
            best, since = loss, 0
        else:
            since += 1
    return since


# ------------------------------------------------------------------------------- best_epoch

def _first_best(losses):
    best, epoch = math.inf, None
    for i, loss in enumerate(losses, start=1):
        if loss < best:
            best, epoch = loss, i
    return epoch


@pytest.mark.parametrize("wrong, needles", [
    (lambda tr, va: _first_best(va) - 1, ["counted from 1"]),
    (lambda tr, va: int(np.argmin(va)), ["counted from 1"]),
    (lambda tr, va: int(np.argmin(tr)) + 1, ["lowest *training* loss"]),
    (lambda tr, va: int(np.argmax(va)) + 1, ["look for the minimum"]),
    (lambda tr, va: len(va), ["that is the last epoch"]),
    (lambda tr, va: len(va) - int(np.nanargmin(va[::-1])), ["keep the earlier one"]),
    (lambda tr, va: int(np.argmin(va)) + 1, ["np.argmin picks a NaN"]),
    (lambda tr, va: float(np.nanmin(va)), ["not its loss"]),
    (lambda tr, va: 2, ["for every other case too", "a fixed value"]),
    (lambda tr, va: _best_from_the_first(va), ["best = val_losses[0] takes a NaN first epoch"]),
])
def test_best_epoch_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.best_epoch, wrong), *needles)


def _best_from_the_first(losses):
    """A learner's loop that starts from best = losses[0], epoch 1."""
    best, epoch = losses[0], 1
    for i, loss in enumerate(losses[1:], start=2):
        if loss < best:
            best, epoch = loss, i
    return epoch


# ------------------------------------------------------------------------------- shift_image

def _shift(image, dy, dx):
    from nncourse.data.augment import shift_images
    return shift_images(image[None, None], dy, dx)[0, 0]


@pytest.mark.parametrize("wrong, needles", [
    (lambda im, dy, dx: np.roll(im, (dy, dx), axis=(0, 1)), ["np.roll wraps around"]),
    (lambda im, dy, dx: _shift(im, dx, dy), ["the two are swapped"]),
    (lambda im, dy, dx: _shift(im, -dy, -dx), ["a positive dy moves the digit *down*"]),
    (lambda im, dy, dx: np.roll(im, (dx, dy), axis=(0, 1)), ["dy moves the rows (axis 0), dx the columns",
                                                             "wraps around"]),
    (lambda im, dy, dx: _edge_padded(im, dy, dx), ["mode='edge'", "background, 0"]),
    (lambda im, dy, dx: _shift(im, dy, dx).astype(np.float32), ["float32"]),
])
def test_shift_image_names_the_mistake(wrong, needles):
    assert_hint(run(ch11.shift_image, wrong), *needles)


def _edge_padded(image, dy, dx):
    """A learner's shift that pads with np.pad(mode='edge') and crops."""
    h, w = image.shape
    padded = np.pad(image, ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))), mode="edge")
    rows = slice(0, h) if dy >= 0 else slice(-dy, -dy + h)
    cols = slice(0, w) if dx >= 0 else slice(-dx, -dx + w)
    return padded[rows, cols]
