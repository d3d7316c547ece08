"""Checks for the chapter 11 exercises: generalization (dropout, the L2 gradient, early stopping, shifts).

Use them at the end of each exercise::

    from nncourse.checks import ch11 as check
    check.dropout_forward(dropout_forward)

``dropout_forward``, ``dropout_backward``, ``l2_gradient``, ``should_stop``, ``best_epoch`` and
``shift_image``. Expected values come from PyTorch (the L2 gradient, by autograd), from
``nncourse.data.augment.shift_images`` or from the rules of the chapter, written out below; the wrong
answers the checks recognise are written out in NumPy next to their hints.

Dropout's randomness is handed over, so that there is one right answer: ``u`` holds one uniform number
in [0, 1) per value, and a value is *kept* where ``u >= p`` (probability ``1 - p``), as in the chapter.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .framework import Tester, check
from .formatting import fmt

__all__ = ["dropout_forward", "dropout_backward", "l2_gradient", "should_stop", "best_epoch", "shift_image"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _args_text(args) -> str:
    return ", ".join(fmt(np.asarray(a)) if isinstance(a, (list, tuple)) else fmt(a) for a in args)


def _rule_check(t: Tester, fn, name: str, cases, rule, mistakes, answer) -> None:
    """Run ``fn`` on every case, then compare with ``rule``. A wrong answer is recognised by the pattern
    of its answers over *all* the cases (one boolean or epoch number alone says too little); the
    message names the first case that differs. ``answer(t, value, what)`` checks and converts a result."""
    gots = [answer(t, t.call(fn, *args), f"{name}({_args_text(args)})") for args in cases]
    wants = [rule(*args) for args in cases]
    for i, (args, got, want) in enumerate(zip(cases, gots, wants)):
        if got != want:
            what = f"{name}({_args_text(args)})"
            patterns = [([wrong(*a) for a in cases], hint) for wrong, hint in mistakes]
            # the mistake that gives every one of the learner's answers; else the first that agrees up to here
            for pattern, hint in patterns:
                if pattern == gots:
                    t.fail(f"{what} should be {fmt(want)}, yours returns {fmt(got)}", hint)
            if len({repr(g) for g in gots}) == 1 and len({repr(w) for w in wants}) > 1:
                t.fail(f"{what} should be {fmt(want)}, yours returns {fmt(got)}, and {fmt(got)} for every "
                       f"other case too", "the answer must be computed from the losses: a fixed value (a "
                       "hard-coded answer, or a loop that never runs) cannot follow the curve.")
            for pattern, hint in patterns:
                if pattern[:i + 1] == gots[:i + 1]:
                    t.fail(f"{what} should be {fmt(want)}, yours returns {fmt(got)}", hint)
            t.equal(got, want, what)      # no known mistake: the generic message
    t.ok(len(cases))


# --------------------------------------------------------------------------------------------------
# Exercises 1 and 2: inverted dropout, forward and backward
# --------------------------------------------------------------------------------------------------

_DROPOUT_CASES = [(0.2, True), (0.6, True), (0.2, False), (0.6, False)]


def _dropout_inputs(seed: int, p: float):
    rng = _rng(seed)
    x = rng.normal(size=(4, 6))
    u = rng.random(size=(4, 6))
    u[0, :2] = p            # u == p exactly: kept (u >= p), as torch keeps with probability 1 - p
    return x, u


def _forward_mistakes(x, u, p, training, *, backward=False):
    keep, kept_p = u >= p, u < p
    word = "the gradient" if backward else "the output"
    if training:
        return [
            (x * keep, "inverted dropout scales the values it keeps by 1 / (1 - p), so that their expectation is "
                       f"unchanged and evaluation mode needs no correction: {word} is x * keep / (1 - p)."),
            (x * keep / p, "divide by the probability of *keeping* a value, 1 - p, not by the drop rate p."),
            (x * keep * (1 - p), "multiplying by (1 - p) is the old, non-inverted dropout, which scales at test "
                                 "time; inverted dropout divides by (1 - p) in training instead."),
            (x * kept_p / (1 - p), "u < p keeps a share p of the values; a value is kept where u >= p, which "
                                   "happens with probability 1 - p."),
            (x * (u > p) / (1 - p), "a value whose u equals p exactly is kept: compare u >= p, not u > p (torch "
                                    "keeps a value with probability 1 - p, and P(u >= p) = 1 - p)."),
            (x / (1 - p), "the mask is missing: the values where u < p must be zeroed."),
            (x, "in training mode (training=True) dropout zeroes the values where u < p and scales the rest."),
        ]
    return [
        (x * keep / (1 - p), "in evaluation mode (training=False) dropout is the identity: "
                             + ("the gradient passes unchanged." if backward else "return x unchanged.")),
        (x * (1 - p), "inverted dropout already scaled in training, so evaluation mode needs no factor: "
                      + ("the gradient passes unchanged." if backward else "return x unchanged.")),
        (x / (1 - p), "in evaluation mode nothing is dropped and nothing is scaled: "
                      + ("the gradient passes unchanged." if backward else "return x unchanged.")),
        (x * keep, "in evaluation mode (training=False) no value is dropped: "
                   + ("the gradient passes unchanged." if backward else "return x unchanged.")),
    ]


@check("dropout_forward")
def dropout_forward(t: Tester, dropout_forward) -> None:
    """``dropout_forward(x, u, p, training) -> y``: inverted dropout, keeping the values where ``u >= p``."""
    t.callable(dropout_forward, "dropout_forward")
    for i, (p, training) in enumerate(_DROPOUT_CASES):
        x, u = _dropout_inputs(110 + i, p)
        got = t.ndarray(t.call(dropout_forward, x, u, p, training), "dropout_forward", shape=x.shape)
        want = x * (u >= p) / (1 - p) if training else x
        mode = "training" if training else "evaluation"
        t.close(got, want, f"dropout_forward(x, u, p={p}, training={training}) ({mode} mode)", rtol=1e-12,
                atol=1e-12, mistakes=_forward_mistakes(x, u, p, training))


@check("dropout_backward")
def dropout_backward(t: Tester, dropout_backward) -> None:
    """``dropout_backward(grad_y, u, p, training) -> grad_x`` for the forward pass above."""
    import torch

    t.callable(dropout_backward, "dropout_backward")
    for i, (p, training) in enumerate(_DROPOUT_CASES):
        x, u = _dropout_inputs(120 + i, p)
        grad_y = _rng(130 + i).normal(size=x.shape)
        # the reference by autograd: y = x * keep / (1 - p) in training, y = x in evaluation
        xt = torch.tensor(x, requires_grad=True)
        y = xt * torch.from_numpy((u >= p).astype(np.float64)) / (1 - p) if training else xt * 1.0
        y.backward(torch.from_numpy(grad_y))
        want = xt.grad.numpy()
        got = t.ndarray(t.call(dropout_backward, grad_y, u, p, training), "dropout_backward", shape=x.shape)
        mistakes = _forward_mistakes(grad_y, u, p, training, backward=True)
        if training:
            mistakes = [(grad_y, "the values dropped in the forward pass did not reach the output, so their "
                                 "gradient is 0: multiply grad_y by the same mask, then by 1 / (1 - p).")] \
                + [m for m in mistakes if m[0] is not grad_y]
        mode = "training" if training else "evaluation"
        t.close(got, want, f"dropout_backward(grad_y, u, p={p}, training={training}) ({mode} mode)", rtol=1e-12,
                atol=1e-12, mistakes=mistakes)


# --------------------------------------------------------------------------------------------------
# Exercise 3: the gradient of the L2 penalty
# --------------------------------------------------------------------------------------------------


@check("l2_gradient")
def l2_gradient(t: Tester, l2_gradient) -> None:
    """``l2_gradient(grad, w, weight_decay) -> grad + weight_decay * w``: the gradient of
    ``L(w) + weight_decay / 2 * ||w||^2``, given ``grad``, the gradient of ``L``."""
    import torch

    t.callable(l2_gradient, "l2_gradient")
    rng = _rng(111)
    for shape, lam in [((3, 4), 0.01), ((5,), 0.1), ((2, 3), 0.5)]:
        grad, w = rng.normal(size=shape), rng.normal(size=shape)
        # the reference by autograd: a loss whose gradient is `grad`, plus the penalty
        wt = torch.tensor(w, requires_grad=True)
        ((wt * torch.from_numpy(grad)).sum() + lam / 2 * (wt ** 2).sum()).backward()
        want = wt.grad.numpy()
        got = t.ndarray(t.call(l2_gradient, grad, w, lam), "l2_gradient", shape=shape)
        t.close(got, want, f"l2_gradient(grad, w, weight_decay={lam}) for arrays of shape {shape}", rtol=1e-12,
                atol=1e-14, mistakes=[
                    (grad + 2 * lam * w, "the penalty is weight_decay / 2 * ||w||^2: the 1/2 cancels the 2 of the "
                                         "derivative, so its gradient is weight_decay * w."),
                    (grad - lam * w, "the sign: the penalty grows with |w|, so its gradient + weight_decay * w "
                                     "points away from zero; the descent step then pulls the weights towards zero."),
                    (lam * w, "that is the penalty's gradient alone: add it to the loss's gradient, grad + weight_decay * w."),
                    (grad + lam * np.sign(w), "weight_decay * sign(w) is the gradient of the L1 penalty "
                                              "weight_decay * sum|w|; the L2 penalty's is weight_decay * w."),
                    (grad + lam, "the penalty's gradient depends on each weight: weight_decay * w, not the constant "
                                 "weight_decay."),
                    (grad * (1 - lam), "weight decay shrinks the *weights*, not the gradient: add weight_decay * w to grad."),
                    (grad + lam / 2 * w ** 2, "that adds the penalty itself; its gradient, the derivative of "
                                              "weight_decay / 2 * w**2, is weight_decay * w."),
                ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: the early-stopping rule
# --------------------------------------------------------------------------------------------------


def _epochs_since_best(losses, *, lower=lambda a, b: a < b) -> int:
    """Epochs since the best loss (strictly lower than every earlier one; a NaN never improves)."""
    best, since = math.inf, 0
    for loss in losses:
        if lower(loss, best):
            best, since = loss, 0
        else:
            since += 1
    return since


def _should_stop(losses, patience):
    return _epochs_since_best(losses) >= patience


def _never_reset(losses) -> int:
    """Every epoch without improvement since the start, the count never set back to 0 (wrong)."""
    best, count = math.inf, 0
    for loss in losses:
        if loss < best:
            best = loss
        else:
            count += 1
    return count


def _since_first_as_best(losses) -> int:
    """Epochs since the best, with best started from the first loss even if it is NaN (wrong)."""
    best, since = losses[0], 0
    for loss in losses[1:]:
        if loss < best:
            best, since = loss, 0
        else:
            since += 1
    return since


def _rising_run(losses) -> int:
    run = 0
    for before, after in zip(losses, losses[1:]):
        run = run + 1 if after >= before else 0
    return run


_STOP_CASES = [
    ([1.0, 0.8, 0.7], 2),
    ([1.0, 0.8, 0.9, 0.95], 2),
    ([1.0, 0.8, 0.9], 2),
    ([1.0, 0.8, 0.9, 0.85, 0.86], 3),
    ([1.0, 0.8, 0.8, 0.8], 2),
    ([0.5], 1),
    ([0.9, 1.0, 1.1], 2),
    ([1.0, 0.9, 0.8, 0.7, 0.6], 10),
    ([1.0, float("nan"), float("nan")], 2),
    ([0.7, 0.6, 0.65], 1),
    ([1.0, 1.1, 0.9, 1.0], 2),              # an improvement after a bad epoch sets the count back to 0
    ([1.0, 1.1, 1.2, 1.3], 2),              # 3 epochs without improvement: more than patience, still stop
    ([float("nan"), 1.0, 0.9], 2),          # a diverged first epoch is no best to beat
]

_STOP_MISTAKES = [
    (lambda losses, patience: _rising_run(losses) >= patience,
     "compare each loss with the *best* so far, not with the epoch before: a loss that falls a little after "
     "rising is still no improvement if it stays above the best (0.8, 0.9, 0.85: 0.85 is worse than 0.8)."),
    (lambda losses, patience: _epochs_since_best(losses) > patience,
     "one epoch too late: patience=k allows k epochs without improvement, and training stops after the "
     "k-th of them (epochs since the best >= patience)."),
    (lambda losses, patience: _epochs_since_best(losses) >= patience - 1,
     "one epoch too early: stop only once patience epochs *in a row* have not improved (epochs since the "
     "best >= patience), not already after patience - 1."),
    (lambda losses, patience: _epochs_since_best(losses, lower=lambda a, b: a <= b) >= patience,
     "an equal loss is not an improvement: only a strictly lower loss resets the count (use <, not <=)."),
    (lambda losses, patience: len(losses) - 1 - int(np.argmax(losses)) >= patience,
     "a *lower* validation loss is better: count the epochs since the lowest one."),
    (lambda losses, patience: len(losses) - 1 - int(np.argmin(losses)) >= patience,
     "np.argmin picks a NaN as the minimum; a diverged epoch (NaN loss) never counts as an improvement. "
     "Compare with `loss < best`, which is False for NaN, or use np.nanargmin."),
    (lambda losses, patience: len(losses) >= patience,
     "count the epochs since the best loss, not all the epochs so far."),
    (lambda losses, patience: _never_reset(losses) >= patience,
     "set the count back to 0 whenever the loss improves: patience counts the epochs *in a row* without "
     "improvement (1.0, 1.1, 0.9, 1.0 has one such epoch since the best, 0.9, not two)."),
    (lambda losses, patience: _epochs_since_best(losses) == patience,
     "use >=, not ==: once patience epochs have passed without improvement the answer stays True, also "
     "when more epochs than patience have passed (a caller may ask late)."),
    (lambda losses, patience: _since_first_as_best(losses) >= patience,
     "starting from best = val_losses[0] takes a NaN first epoch as the best, and nothing is ever lower than "
     "NaN: start from best = math.inf (NaN < inf is False, so a diverged epoch never counts)."),
]


def _a_bool(t: Tester, value, what: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    t.fail(f"{what} should return True or False, yours returns {type(value).__name__} {fmt(value)}",
           "return the comparison itself, e.g. return since_best >= patience.")


@check("should_stop")
def should_stop(t: Tester, should_stop) -> None:
    """``should_stop(val_losses, patience) -> bool``: True once the validation loss has not improved (become
    strictly lower than the best so far) for ``patience`` epochs in a row."""
    t.callable(should_stop, "should_stop")
    _rule_check(t, should_stop, "should_stop", _STOP_CASES, _should_stop, _STOP_MISTAKES, _a_bool)


# --------------------------------------------------------------------------------------------------
# Exercise 5: the epoch whose weights to keep, from a learning curve
# --------------------------------------------------------------------------------------------------


def _best_epoch(train_losses, val_losses):
    best, epoch = math.inf, None
    for i, loss in enumerate(val_losses):
        if loss < best:
            best, epoch = loss, i + 1
    return epoch


_NAN = float("nan")
_BEST_CASES = [
    ([2.0, 1.2, 0.8, 0.5, 0.3, 0.2, 0.25], [2.1, 1.5, 1.3, 1.4, 1.3, 1.6, 1.7]),
    ([1.5, 1.0, 0.8, 0.6, 0.5], [1.0, 0.7, _NAN, 0.6, 0.9]),
    ([1.0, 0.6, 0.4, 0.3], [1.2, 0.9, 0.8, 0.75]),
    ([0.9, 0.5, 0.2], [0.8, 0.9, 1.1]),
    ([1.2, 0.8, 0.6], [_NAN, 0.9, 0.7]),     # a diverged first epoch is never the best
]


def _best_from_first(train_losses, val_losses):
    """The best epoch with best started from the first loss, even if it is NaN (wrong)."""
    best, epoch = val_losses[0], 1
    for i, loss in enumerate(val_losses[1:], start=2):
        if loss < best:
            best, epoch = loss, i
    return epoch

_BEST_MISTAKES = [
    (lambda tr, va: int(np.argmin(va)),
     "epochs are counted from 1 (the first epoch is epoch 1), while np.argmin counts from 0: add 1."),
    (lambda tr, va: int(np.argmin(tr)) + 1,
     "that is the epoch with the lowest *training* loss, which keeps falling as the network overfits; "
     "choose on the validation loss."),
    (lambda tr, va: int(np.argmax(va)) + 1, "a *lower* validation loss is better: look for the minimum."),
    (lambda tr, va: len(va), "that is the last epoch; early stopping keeps the weights of the epoch with the "
                             "lowest validation loss."),
    (lambda tr, va: len(va) - int(np.argmin(va[::-1])),
     "when two epochs tie, keep the earlier one: a later epoch with the same loss is no improvement."),
    (lambda tr, va: int(np.argmin(va)) + 1,
     "np.argmin picks a NaN as the minimum; a diverged epoch (NaN loss) is never the best. Use np.nanargmin, "
     "or compare with `loss < best`, which is False for NaN."),
    (lambda tr, va: next((i for i in range(1, len(va)) if va[i] > va[i - 1]), len(va)) + 1,
     "that is the epoch at which the validation loss first rose; the weights to keep are those of the epoch "
     "before it, the best one."),
    (_best_from_first,
     "starting from best = val_losses[0] takes a NaN first epoch as the best, and nothing is ever lower than "
     "NaN: start from best = math.inf (NaN < inf is False, so a diverged epoch is never the best)."),
]


def _an_epoch(t: Tester, value, what: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)) and not isinstance(value, (bool, np.bool_)):
        t.fail(f"{what} should return an epoch number (an int), yours returns {fmt(value)}",
               "return the epoch's number (1 for the first epoch), not its loss.")
    t.fail(f"{what} should return an epoch number (an int), yours returns {type(value).__name__} {fmt(value)}",
           "return one integer: the number of the epoch, counted from 1.")


@check("best_epoch")
def best_epoch(t: Tester, best_epoch) -> None:
    """``best_epoch(train_losses, val_losses) -> int``: the epoch (counted from 1) whose weights early
    stopping keeps: the first with the lowest validation loss, NaN never counting."""
    t.callable(best_epoch, "best_epoch")
    _rule_check(t, best_epoch, "best_epoch", _BEST_CASES, _best_epoch, _BEST_MISTAKES, _an_epoch)


# --------------------------------------------------------------------------------------------------
# Exercise 6: shifting a digit
# --------------------------------------------------------------------------------------------------


def _roll(image, dy, dx):
    return np.roll(image, (dy, dx), axis=(0, 1))


def _shift_edge(image, dy, dx):
    """The move with the uncovered border copied from the nearest edge pixels (np.pad mode='edge'; wrong)."""
    H, W = image.shape
    padded = np.pad(image, ((abs(dy), abs(dy)), (abs(dx), abs(dx))), mode="edge")
    return padded[abs(dy) - dy:abs(dy) - dy + H, abs(dx) - dx:abs(dx) - dx + W]


@check("shift_image")
def shift_image(t: Tester, shift_image) -> None:
    """``shift_image(image, dy, dx) -> moved``: the (H, W) image moved down by ``dy`` and right by ``dx``
    whole pixels (negative: up, left), the uncovered border 0."""
    from ..data.augment import shift_images

    t.callable(shift_image, "shift_image")
    image = _rng(112).random(size=(6, 5)) + 0.1           # no zero pixel, so that every move shows
    for dy, dx in [(1, 2), (-2, 1), (0, -3), (2, 0), (-1, -1), (0, 0), (7, 0)]:
        want = shift_images(image[None, None], dy, dx)[0, 0]
        got = t.ndarray(t.call(shift_image, image, dy, dx), "shift_image", shape=image.shape)
        t.close(got, want, f"shift_image(image of shape (6, 5), dy={dy}, dx={dx})", rtol=0, atol=0, mistakes=[
            (_roll(image, dy, dx), "np.roll wraps around: what leaves one side comes back on the other. What "
                                   "moves out of the frame is lost, and the uncovered border is background, 0."),
            (lambda: shift_images(image[None, None], dx, dy)[0, 0],
             "dy moves the rows (axis 0, down), dx the columns (axis 1, right): the two are swapped."),
            (lambda: shift_images(image[None, None], -dy, -dx)[0, 0],
             "the direction: a positive dy moves the digit *down* (row r goes to row r + dy), a positive dx to "
             "the right."),
            (lambda: _shift_edge(image, dy, dx),
             "the uncovered border copies the edge pixels (np.pad's mode='edge'): it must be background, 0; pad "
             "with zeros (np.pad's default, mode='constant') or start from np.zeros_like(image)."),
            (lambda: _roll(image, dx, dy),
             "dy moves the rows (axis 0), dx the columns (axis 1), and np.roll wraps around: fill the uncovered "
             "border with 0 instead."),
        ])
