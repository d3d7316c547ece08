"""Checks for the chapter 12 exercises: deep networks (initialization, batch normalization, residual blocks).

Use them at the end of each exercise::

    from nncourse.checks import ch12 as check
    check.init_std(init_std)

``init_std``, ``batchnorm_forward``, ``running_stats_update``, ``batchnorm_backward`` and
``residual_block_backward``. Expected values come from PyTorch (imported only when a check runs) or
from the formulas of the chapter; the wrong answers the checks recognise are written out in NumPy next
to their hints. Inputs are handed over read-only, so a function that changes its arguments in place
(``running_mean *= 0.9``) is told so instead of silently corrupting the test.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .framework import Tester, check

__all__ = ["init_std", "batchnorm_forward", "running_stats_update", "batchnorm_backward",
           "residual_block_backward"]

# for the running statistics only; elsewhere the framework's hint names the array that was changed
_INPLACE_HINT = ("build new arrays (momentum * mu + (1 - momentum) * running_mean, not running_mean *= ...): "
                 "leave the arrays you receive as they are, because the caller still needs them.")


def _float64(*arrays):
    return [np.asarray(array, dtype=np.float64) for array in arrays]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _numpy_result(t: Tester, value, what: str) -> np.ndarray:
    """The learner must return a NumPy float array (not a list, not a tensor)."""
    if value is None:
        t.fail(f"{what} returned None", "did you forget the return statement?")
    if not isinstance(value, np.ndarray):
        t.fail(f"{what} should return a NumPy array, yours returns {type(value).__name__}",
               "compute with NumPy operations on the arrays you receive.")
    if value.dtype.kind != "f":
        t.fail(f"{what} should return floating-point numbers, yours has dtype {value.dtype}",
               "keep the arithmetic in float (no int casts, no rounding).")
    return value


def _tuple_of(t: Tester, result, count: int, what: str, names: str):
    if not isinstance(result, (tuple, list)) or len(result) != count:
        t.fail(f"{what} should return {count} arrays ({names}), yours returns {type(result).__name__}"
               + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""),
               f"end with: return {names}")
    return [_numpy_result(t, r, what) for r in result]


# --------------------------------------------------------------------------------------------------
# Exercise 1: the standard deviation of Xavier and He initialization
# --------------------------------------------------------------------------------------------------


@check("init_std")
def init_std(t: Tester, init_std) -> None:
    """``init_std(init, fan_in, fan_out) -> float``: the std of normal weights, ``init`` "xavier" or "he"."""
    t.callable(init_std, "init_std")
    # the equal fans last: there Xavier's sqrt(2 / (fan_in + fan_out)) is sqrt(1 / fan_in), and a wrong
    # answer would be told about the other mistake with that value
    for fan_in, fan_out in [(784, 128), (72, 16), (10, 400), (256, 256)]:
        for init in ("xavier", "he"):
            what = f"init_std({init!r}, fan_in={fan_in}, fan_out={fan_out})"
            got = t.call(init_std, init, fan_in, fan_out)
            if isinstance(got, bool) or not isinstance(got, (numbers.Real, np.floating)):
                t.fail(f"{what} should return a number, yours returns {type(got).__name__}",
                       "return the standard deviation as a float, e.g. math.sqrt(...).")
            if init == "xavier":
                want = math.sqrt(2 / (fan_in + fan_out))
                mistakes = [
                    (2 / (fan_in + fan_out), "that is the variance 2 / (fan_in + fan_out): the standard "
                                             "deviation is its square root."),
                    (math.sqrt(6 / (fan_in + fan_out)), "sqrt(6 / (fan_in + fan_out)) is the *bound* of Xavier's "
                                                        "uniform version; for normal weights the std is sqrt(2 / (fan_in + fan_out))."),
                    (math.sqrt(1 / (fan_in + fan_out)), "Xavier's variance is 2 / (fan_in + fan_out), the average "
                                                        "of 1/fan_in and 1/fan_out: a 2 is missing."),
                    (math.sqrt(1 / fan_in), "sqrt(1 / fan_in) keeps only the forward pass (LeCun); Xavier averages "
                                            "the fans: sqrt(2 / (fan_in + fan_out))."),
                    (math.sqrt(2 / fan_in), "that is He's rule (for ReLU); Xavier uses both fans: sqrt(2 / (fan_in + fan_out))."),
                ]
            else:
                want = math.sqrt(2 / fan_in)
                mistakes = [
                    (2 / fan_in, "that is the variance 2 / fan_in: the standard deviation is its square root."),
                    (math.sqrt(1 / fan_in), "ReLU zeroes half of the signal's second moment, so He doubles the "
                                            "variance: 2 / fan_in, not 1 / fan_in."),
                    (math.sqrt(2 / fan_out), "He's rule counts the inputs of a unit, fan_in, not fan_out."),
                    (math.sqrt(2) / fan_in, "the square root applies to the whole fraction: sqrt(2 / fan_in)."),
                    (math.sqrt(2 / (fan_in + fan_out)), "that is Xavier's rule; He (for ReLU) uses sqrt(2 / fan_in)."),
                ]
            if fan_in == fan_out:   # the fans cannot be told apart: skip the hints that need them to differ
                mistakes = [(v, h) for v, h in mistakes if not np.isclose(v, want)]
            t.close(float(got), want, what, rtol=1e-9, atol=0, mistakes=mistakes)


# --------------------------------------------------------------------------------------------------
# Exercise 2: BatchNorm forward, in training and in evaluation mode
# --------------------------------------------------------------------------------------------------


@check("batchnorm_forward")
def batchnorm_forward(t: Tester, batchnorm_forward) -> None:
    """``batchnorm_forward(x, gamma, beta, running_mean, running_var, training, eps=1e-5) -> y`` for (N, C)."""
    import torch

    t.callable(batchnorm_forward, "batchnorm_forward")
    rng = _rng(120)
    eps = 1e-5
    for training in (True, False):
        for description, shape in [("a batch of 6 examples of 3 features", (6, 3)), ("a batch of 2 of 4", (2, 4))]:
            x = rng.normal(2.0, 3.0, size=shape)
            gamma, beta = rng.uniform(0.5, 2.0, size=shape[1]), rng.normal(size=shape[1])
            running_mean, running_var = rng.normal(size=shape[1]), rng.uniform(0.5, 3.0, size=shape[1])
            x, gamma, beta, running_mean, running_var = _float64(x, gamma, beta, running_mean, running_var)
            want = torch.nn.functional.batch_norm(
                torch.from_numpy(np.array(x)), torch.from_numpy(np.array(running_mean)),
                torch.from_numpy(np.array(running_var)), torch.from_numpy(np.array(gamma)),
                torch.from_numpy(np.array(beta)), training=training, eps=eps).numpy()
            got = t.call(batchnorm_forward, x, gamma, beta, running_mean, running_var, training, eps)
            got = _numpy_result(t, got, "batchnorm_forward")
            mode = "training" if training else "evaluation"
            what = f"batchnorm_forward in {mode} mode for {description}"
            mu, var = x.mean(axis=0), x.var(axis=0)
            batch_y = gamma * (x - mu) / np.sqrt(var + eps) + beta
            running_y = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
            x_hat = (x - mu) / np.sqrt(var + eps) if training else (x - running_mean) / np.sqrt(running_var + eps)
            t.close(got, want, what, rtol=1e-6, atol=1e-8, mistakes=[
                (running_y, "in training mode BatchNorm normalises with the statistics of the batch itself "
                            "(x.mean(axis=0), x.var(axis=0)); the running statistics are for evaluation mode."),
                (batch_y, "in evaluation mode (training=False) BatchNorm normalises with running_mean and "
                          "running_var, so that an example's output does not depend on its batch."),
                (lambda: gamma * (x - mu) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta,
                 "the normalisation uses the biased variance (divide by N, np.var's default); the unbiased "
                 "one is only for the running estimate."),
                (lambda: gamma * (x - mu) / (np.sqrt(var) + eps) + beta, "eps goes inside the square root: "
                                                                         "(x - mu) / sqrt(var + eps)."),
                (lambda: gamma * (x - running_mean) / (np.sqrt(running_var) + eps) + beta,
                 "eps goes inside the square root: (x - running_mean) / sqrt(running_var + eps)."),
                (lambda: gamma * (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps) + beta,
                 "that normalises each example over its features (axis 1): LayerNorm. BatchNorm normalises "
                 "each feature over the batch, axis 0."),
                (lambda: (x - mu) / np.sqrt(var + eps), "normalised correctly, but gamma and beta are missing: "
                                                        "y = gamma * x_hat + beta."),
                (lambda: (x - running_mean) / np.sqrt(running_var + eps),
                 "normalised correctly, but gamma and beta are missing: y = gamma * x_hat + beta."),
                (lambda: beta * x_hat + gamma, "gamma and beta are swapped: gamma scales and beta shifts, "
                                               "y = gamma * x_hat + beta."),
            ])


# --------------------------------------------------------------------------------------------------
# Exercise 3: the running statistics
# --------------------------------------------------------------------------------------------------


@check("running_stats_update")
def running_stats_update(t: Tester, running_stats_update) -> None:
    """``running_stats_update(running_mean, running_var, x, momentum=0.1) -> (new_mean, new_var)`` for (N, C)."""
    import torch

    t.callable(running_stats_update, "running_stats_update")
    rng = _rng(121)
    for description, shape, momentum in [("a batch of 5 examples of 3 features, momentum 0.1", (5, 3), 0.1),
                                         ("a batch of 2 examples of 2 features, momentum 0.3", (2, 2), 0.3)]:
        x = rng.normal(1.0, 2.0, size=shape)
        running_mean, running_var = rng.normal(size=shape[1]), rng.uniform(0.5, 2.0, size=shape[1])
        x, running_mean, running_var = _float64(x, running_mean, running_var)
        rm, rv = torch.from_numpy(np.array(running_mean)), torch.from_numpy(np.array(running_var))
        torch.nn.functional.batch_norm(torch.from_numpy(np.array(x)), rm, rv, training=True, momentum=momentum)
        want_mean, want_var = rm.numpy(), rv.numpy()
        result = t.call(running_stats_update, running_mean, running_var, x, momentum, mutation_hint=_INPLACE_HINT)
        got_mean, got_var = _tuple_of(t, result, 2, "running_stats_update", "new_mean, new_var")
        t.in_order([got_mean, got_var], [want_mean, want_var], f"running_stats_update for {description}",
                   "new_mean, new_var", rtol=1e-9, atol=1e-12)
        mu, biased, unbiased = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
        swapped_hint = ("momentum weighs the *new* batch: (1 - momentum) * running + momentum * batch value "
                        "(torch's convention; some libraries use the opposite).")
        t.close(got_mean, want_mean, f"new_mean for {description}", rtol=1e-9, atol=1e-12, mistakes=[
            (lambda: momentum * running_mean + (1 - momentum) * mu, swapped_hint),
            (mu, "that replaces the running mean by the batch mean: it is a moving average, "
                 "(1 - momentum) * running_mean + momentum * mean."),
            (lambda: running_mean + momentum * mu, "the old value is multiplied by (1 - momentum): "
                                                   "(1 - momentum) * running_mean + momentum * mean."),
        ])
        t.close(got_var, want_var, f"new_var for {description}", rtol=1e-9, atol=1e-12, mistakes=[
            (lambda: (1 - momentum) * running_var + momentum * biased,
             "the running variance is an estimate of the population's, so it uses the unbiased batch "
             "variance (divide by N - 1: x.var(axis=0, ddof=1)), unlike the normalisation."),
            (lambda: momentum * running_var + (1 - momentum) * unbiased, swapped_hint),
            (lambda: (1 - momentum) * running_var + momentum * np.sqrt(unbiased),
             "keep variances, not standard deviations: no square root."),
            (unbiased, "that replaces the running variance by the batch's: it is a moving average, "
                       "(1 - momentum) * running_var + momentum * var."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 4: BatchNorm backward (training mode)
# --------------------------------------------------------------------------------------------------


@check("batchnorm_backward")
def batchnorm_backward(t: Tester, batchnorm_backward) -> None:
    """``batchnorm_backward(x, gamma, grad_out, eps=1e-5) -> (grad_x, grad_gamma, grad_beta)``, training mode."""
    import torch

    t.callable(batchnorm_backward, "batchnorm_backward")
    rng = _rng(122)
    eps = 1e-5
    for description, shape in [("a batch of 6 examples of 3 features", (6, 3)), ("a batch of 3 of 5", (3, 5))]:
        x, gamma, grad_out = _float64(rng.normal(1.0, 2.0, size=shape), rng.uniform(0.5, 2.0, size=shape[1]),
                                     rng.normal(size=shape))
        xt = torch.tensor(np.array(x), requires_grad=True)
        gt = torch.tensor(np.array(gamma), requires_grad=True)
        bt = torch.zeros(shape[1], dtype=torch.float64, requires_grad=True)
        torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=eps).backward(
            torch.from_numpy(np.array(grad_out)))
        want_x, want_gamma, want_beta = xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()
        result = t.call(batchnorm_backward, x, gamma, grad_out, eps)
        got_x, got_gamma, got_beta = _tuple_of(t, result, 3, "batchnorm_backward", "grad_x, grad_gamma, grad_beta")
        t.in_order([got_x, got_gamma, got_beta], [want_x, want_gamma, want_beta],
                   f"batchnorm_backward for {description}", "grad_x, grad_gamma, grad_beta", rtol=1e-6, atol=1e-9)
        rstd = 1 / np.sqrt(x.var(axis=0) + eps)
        x_hat = (x - x.mean(axis=0)) * rstd
        g = grad_out * gamma
        t.close(got_beta, want_beta, f"grad_beta for {description}", mistakes=[
            (grad_out, "grad_beta has beta's shape (C,): sum grad_out over the batch, axis 0."),
            (lambda: grad_out.mean(axis=0), "every example adds its gradient to beta: sum over the batch, not mean."),
        ])
        t.close(got_gamma, want_gamma, f"grad_gamma for {description}", mistakes=[
            (grad_out * x_hat, "grad_gamma has gamma's shape (C,): sum grad_out * x_hat over the batch, axis 0."),
            (lambda: (grad_out * x).sum(axis=0), "use the normalised x_hat, not x: y = gamma * x_hat + beta."),
        ])
        t.close(got_x, want_x, f"grad_x for {description}", rtol=1e-6, atol=1e-9, mistakes=[
            (g * rstd, "that treats the batch mean and variance as constants: they depend on every x, which "
                       "adds - mean(g) - x_hat * mean(g * x_hat) inside the bracket (means over the batch)."),
            (grad_out * rstd, "multiply grad_out by gamma first (g = grad_out * gamma), and remember the "
                                        "mean and variance depend on x."),
            (lambda: rstd * (g - g.mean(axis=0)), "the variance depends on x too: subtract x_hat * mean(g * x_hat) as well."),
            (lambda: rstd * (g - x_hat * (g * x_hat).mean(axis=0)), "the mean depends on x too: subtract mean(g) as well."),
            (lambda: rstd * (grad_out - grad_out.mean(axis=0) - x_hat * (grad_out * x_hat).mean(axis=0)),
             "gamma is missing: the gradient reaching x_hat is g = grad_out * gamma."),
            (lambda: rstd * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True)),
             "the means run over the batch (axis 0), where BatchNorm's statistics come from; axis 1 is LayerNorm's."),
            (lambda: rstd * (g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0)),
             "the two corrections are *means* over the batch, not sums: mean(g) and x_hat * mean(g * x_hat) "
             "(the batch mean and variance divide by N, and so do their derivatives)."),
        ])


# --------------------------------------------------------------------------------------------------
# Exercise 5: a residual block's backward pass
# --------------------------------------------------------------------------------------------------


@check("residual_block_backward")
def residual_block_backward(t: Tester, residual_block_backward) -> None:
    """``residual_block_backward(x, W1, W2, grad_y) -> grad_x`` for
    ``y = relu(x + relu(x @ W1.T) @ W2.T)`` (W1 and W2 square)."""
    import torch

    t.callable(residual_block_backward, "residual_block_backward")
    rng = _rng(123)
    for description, N, C in [("a batch of 4, width 5", 4, 5), ("a batch of 2, width 3", 2, 3), ("a batch of 6, width 4", 6, 4)]:
        x, W1, W2, grad_y = _float64(rng.normal(size=(N, C)), rng.normal(size=(C, C)), rng.normal(size=(C, C)),
                                    rng.normal(size=(N, C)))
        xt = torch.tensor(np.array(x), requires_grad=True)
        w1, w2 = torch.from_numpy(np.array(W1)), torch.from_numpy(np.array(W2))
        torch.relu(xt + torch.relu(xt @ w1.T) @ w2.T).backward(torch.from_numpy(np.array(grad_y)))
        want = xt.grad.numpy()
        got = t.call(residual_block_backward, x, W1, W2, grad_y)
        got = _numpy_result(t, got, "residual_block_backward")
        z1 = x @ W1.T
        h = np.maximum(z1, 0)
        s = x + h @ W2.T
        g = grad_y * (s > 0)                                    # through the outer ReLU

        def branch(g_s):
            return ((g_s @ W2) * (z1 > 0)) @ W1

        t.close(got, want, f"residual_block_backward for {description}", rtol=1e-6, atol=1e-9, mistakes=[
            (lambda: branch(g), "that is only the branch's gradient: the identity path adds the gradient "
                                "at the sum itself, grad_x = g + (branch's gradient), g = grad_y * (s > 0)."),
            (g, "that is only the identity path: add the gradient that flows back through the branch "
                "relu(x @ W1.T) @ W2.T."),
            (lambda: grad_y + branch(grad_y), "the ReLU after the sum is missing: first g = grad_y * (s > 0) "
                                              "with s = x + F(x), then g + (branch's gradient of g)."),
            (lambda: g + ((g @ W2.T) * (z1 > 0)) @ W1.T, "a product x @ W.T is multiplied back by W, not W.T: "
                                                         "use (g @ W2) and then (...) @ W1."),
            (lambda: g + (g @ W2) @ W1, "the inner ReLU's mask is missing: multiply by (x @ W1.T > 0) between "
                                        "the two weight matrices."),
            (lambda: g * branch(g), "the two paths add up; they do not multiply."),
        ])
