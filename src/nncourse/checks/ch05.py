"""Checks for the chapter 5 exercises: optimizers.

Use them at the end of each exercise::

    from nncourse.checks import ch05 as check
    check.sgd_momentum_step(sgd_momentum_step)

``sgd_momentum_step``, ``adam_step``, ``bowl_gradient``, ``race`` and ``divergence``. The update rules
are PyTorch's (``torch.optim.SGD`` with ``momentum``, ``torch.optim.Adam``); the step functions are
compared with plain NumPy formulas on single steps and with the torch optimizers over several steps.

The 2-D bowl of the exercises is ``f(p) = ½·(p₀² + 20·p₁²)``: a valley twenty times steeper across
(p₁) than along (p₀), the shape that makes plain gradient descent zig-zag.
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check, fmt

__all__ = ["sgd_momentum_step", "adam_step", "bowl_gradient", "race", "divergence"]

BOWL_CURVATURE = np.array([1.0, 20.0])
START = np.array([-4.0, 1.0])
RACE_STEPS = 40
RACE_SETTINGS = {
    "sgd": {"lr": 0.09},
    "momentum": {"lr": 0.05, "momentum": 0.7},
    "adam": {"lr": 0.5},
}


def bowl(p):
    """The exercises' bowl ½·(p₀² + 20·p₁²)."""
    p = np.asarray(p, dtype=np.float64)
    return 0.5 * float(np.sum(BOWL_CURVATURE * p**2))


def _bowl_grad(p):
    return BOWL_CURVATURE * np.asarray(p, dtype=np.float64)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


_IN_PLACE_HINT = ("return new arrays: v_new = momentum * v + g, then p_new = p - lr * v_new (Adam likewise: m_new = "
                  "beta1 * m + (1 - beta1) * g, ...). With v *= momentum, p -= ... or m[:] = ... the caller's arrays "
                  "change too: a loop that keeps every p (the race's paths) then holds one array, many times over.")


# --------------------------------------------------------------------------------------------------
# Exercise 1: SGD with momentum
# --------------------------------------------------------------------------------------------------


def _momentum(p, g, v, lr, mu):
    v_new = mu * v + g
    return p - lr * v_new, v_new


@check("sgd_momentum_step")
def sgd_momentum_step(t: Tester, sgd_momentum_step) -> None:
    """``sgd_momentum_step(p, g, v, lr, momentum) -> (p_new, v_new)``: v = μ·v + g; p = p − lr·v (torch's rule)."""
    import torch

    t.callable(sgd_momentum_step, "sgd_momentum_step")
    rng = _rng(50)
    cases = [
        # (lr never equals 1 − momentum, so that the two wrong conventions below stay distinguishable)
        ("the first step (v = 0), lr = 0.05, momentum = 0.9", rng.normal(size=3), rng.normal(size=3), np.zeros(3), 0.05, 0.9),
        ("a step with v ≠ 0, lr = 0.1, momentum = 0.9", rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), 0.1, 0.9),
        ("a (2, 2) parameter, lr = 0.3, momentum = 0.5", rng.normal(size=(2, 2)), rng.normal(size=(2, 2)),
         rng.normal(size=(2, 2)), 0.3, 0.5),
        ("momentum = 0 (plain SGD), lr = 0.05", rng.normal(size=4), rng.normal(size=4), np.zeros(4), 0.05, 0.0),
    ]
    for description, p, g, v, lr, mu in cases:
        result = t.values(t.call(sgd_momentum_step, p, g, v, lr, mu, mutation_hint=_IN_PLACE_HINT),
                          "the step", "p_new, v_new")
        want_p, want_v = _momentum(p, g, v, lr, mu)
        what = f"for {description}: v_new"
        t.close(t.ndarray(result[1], what), want_v, what, mistakes=[
            (mu * v + lr * g, "that is the other convention, v = μ·v + lr·g (momentum applied to the lr-scaled step). "
                              "PyTorch keeps the learning rate out of the buffer: v = μ·v + g, then p = p − lr·v. "
                              "(The two differ as soon as the learning rate changes during training.)"),
            (mu * v + (1 - mu) * g, "that is a moving average (as in Adam's m); torch's SGD adds the whole gradient: "
                                    "v = μ·v + g."),
            (v + mu * g, "μ multiplies the old velocity, not the gradient: v = μ·v + g."),
            (g, "the velocity remembers the past: v = μ·v + g, not just g."),
            (mu * v - g, "add the gradient to the velocity, v = μ·v + g; the minus sign belongs in the parameter update."),
        ], shape_hint="v_new has the shape of p.")
        what = f"for {description}: p_new"
        t.close(t.ndarray(result[0], what), want_p, what, mistakes=[
            (p + lr * want_v, "wrong sign in the update: step against the gradient, p − lr·v."),
            (p - lr * g, "update with the new velocity, p − lr·v, not with the gradient alone (that is plain SGD)."),
            (p - lr * v, "update with the new velocity v = μ·v + g (compute it first), not the old one."),
            (p - want_v, "multiply the velocity by the learning rate: p − lr·v."),
            (p - lr * (mu * v + lr * g), "the velocity collects raw gradients, v = μ·v + g; lr multiplies only in "
                                         "p − lr·v."),
        ], shape_hint="p_new has the shape of p.")

    # Three steps in a row must reproduce torch.optim.SGD(momentum=0.9).
    p0, grads = rng.normal(size=3), rng.normal(size=(3, 3))
    param = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    p, v = p0.copy(), np.zeros(3)
    for g in grads:
        param.grad = torch.tensor(g)
        opt.step()
        p, v = t.values(t.call(sgd_momentum_step, p, g, v, 0.1, 0.9), "the step", "p_new, v_new")
        p, v = t.array(p, "p_new"), t.array(v, "v_new")
    t.close(p, param.detach().numpy(), "p after three steps, compared with torch.optim.SGD(lr=0.1, momentum=0.9)")


# --------------------------------------------------------------------------------------------------
# Exercise 2: Adam
# --------------------------------------------------------------------------------------------------


def _adam(p, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, *, correct=True, eps_inside=False):
    """PyTorch's Adam step; ``correct=False`` and ``eps_inside=True`` are two classic mistakes."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    with np.errstate(divide="ignore", invalid="ignore"):  # t = 0 (a mistake) divides by zero
        m_hat = m / (1 - b1**t) if correct else m
        v_hat = v / (1 - b2**t) if correct else v
        denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return p - lr * m_hat / denominator, m, v


@check("adam_step")
def adam_step(t: Tester, adam_step) -> None:
    """``adam_step(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> (p_new, m_new, v_new)``."""
    import torch

    t.callable(adam_step, "adam_step")
    rng = _rng(51)
    cases = [
        ("the first step (t = 1, m = v = 0), lr = 0.1", rng.normal(size=3), rng.normal(size=3), np.zeros(3),
         np.zeros(3), 1, dict(lr=0.1)),
        ("step t = 5 with m, v ≠ 0, lr = 0.01", rng.normal(size=3), rng.normal(size=3), 0.1 * rng.normal(size=3),
         0.01 * rng.random(3), 5, dict(lr=0.01)),
        ("step t = 3 of a (2, 2) parameter, beta1 = 0.8, beta2 = 0.99", rng.normal(size=(2, 2)),
         rng.normal(size=(2, 2)), 0.1 * rng.normal(size=(2, 2)), 0.1 * rng.random((2, 2)), 3,
         dict(lr=0.05, beta1=0.8, beta2=0.99)),
        ("tiny gradients (about 1e-4) with eps = 1e-4, t = 2", rng.normal(size=3), 1e-4 * rng.normal(size=3),
         np.zeros(3), 1e-9 * rng.random(3), 2, dict(lr=0.1, eps=1e-4)),
    ]
    for description, p, g, m, v, step, options in cases:
        args = dict(lr=options.get("lr", 1e-3), b1=options.get("beta1", 0.9), b2=options.get("beta2", 0.999),
                    eps=options.get("eps", 1e-8))
        result = t.values(t.call(adam_step, p, g, m, v, step, **options, mutation_hint=_IN_PLACE_HINT, errors=[
            (TypeError, "unexpected keyword", "keep the signature adam_step(p, g, m, v, t, lr=1e-3, beta1=0.9, "
                                              "beta2=0.999, eps=1e-8)."),
        ]), "the step", "p_new, m_new, v_new")
        want_p, want_m, want_v = _adam(p, g, m, v, step, **args)
        b1, b2 = args["b1"], args["b2"]
        what = f"for {description}: m_new"
        t.close(t.ndarray(result[1], what), want_m, what, mistakes=[
            (want_m / (1 - b1**step), "return the raw moment m = β₁·m + (1 − β₁)·g (is the factor 1 − β₁ there?); "
                                      "the bias-corrected m̂ is only used for this step's update, and the next "
                                      "step continues from m."),
            (b1 * m + g, "m is a moving average: m = β₁·m + (1 − β₁)·g (you left out the factor 1 − β₁)."),
            (b1 * g + (1 - b1) * m, "β₁ belongs with the old average: m = β₁·m + (1 − β₁)·g."),
        ], shape_hint="m_new has the shape of p.")
        what = f"for {description}: v_new"
        got_v = t.ndarray(result[2], what)
        negative = np.any(got_v < 0) if got_v.shape == want_v.shape else False
        t.close(got_v, want_v, what, mistakes=[
            (b2 * v - (1 - b2) * g**2, "v adds the squared gradient, it never subtracts it: v = β₂·v + (1 − β₂)·g² "
                                       "(a negative v has no square root in the update)."),
            (b2 * v + (1 - b2) * g, "v averages the squared gradient: v = β₂·v + (1 − β₂)·g²."),
            (b2 * v + (1 - b2) * np.abs(g), "v averages the squared gradient g², not |g|."),
            (want_v / (1 - b2**step), "return the raw moment v = β₂·v + (1 − β₂)·g² (is the factor 1 − β₂ there?); "
                                      "the bias-corrected v̂ is only used for this step's update."),
            (b2 * v + g**2, "v is a moving average: v = β₂·v + (1 − β₂)·g²."),
        ], shape_hint="v_new has the shape of p.",
            hint=("your v has negative entries, but v averages squares (g² ≥ 0, and it starts at 0), so it is never "
                  "negative: check the signs in v = β₂·v + (1 − β₂)·g²." if negative else None))
        what = f"for {description}: p_new"
        t.close(t.ndarray(result[0], what), want_p, what, mistakes=[
            (lambda: _adam(p, g, m, v, step, **args, correct=False)[0],
             "you left out the bias correction: m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ). Without it the first "
             "steps are far too small, because m and v start at 0."),
            (lambda: p + (p - want_p), "wrong sign: step against the gradient, p − lr·m̂ / (√v̂ + eps)."),
            (lambda: _adam(p, g, m, v, step, **args, eps_inside=True)[0],
             "eps goes outside the square root, like torch: p − lr·m̂ / (√v̂ + eps)."),
            (lambda: _adam(p, g, m, v, step + 1, **args)[0],
             "use t as given for the bias correction (1 − β₁ᵗ): the first step is t = 1."),
            (lambda: _adam(p, g, m, v, step - 1, **args)[0],
             "use t as given for the bias correction (1 − β₁ᵗ), not t − 1."),
            (lambda: p - args["lr"] * (want_m / (1 - b1**step)) / (want_v / (1 - b2**step) + args["eps"]),
             "divide by the square root of v̂: p − lr·m̂ / (√v̂ + eps)."),
        ], nonfinite_hint="t counts the steps from 1: with t = 0 the bias correction divides by 1 − β⁰ = 0.",
            shape_hint="p_new has the shape of p.")

    # Four steps in a row must reproduce torch.optim.Adam.
    p0, grads = rng.normal(size=3), rng.normal(size=(4, 3))
    param = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.Adam([param], lr=0.05)
    p, m, v = p0.copy(), np.zeros(3), np.zeros(3)
    for step, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        opt.step()
        p, m, v = (t.array(a, name) for a, name in zip(
            t.values(t.call(adam_step, p, g, m, v, step, lr=0.05), "the step", "p_new, m_new, v_new"), ("p_new", "m_new", "v_new")))
    t.close(p, param.detach().numpy(), "p after four steps (t = 1, 2, 3, 4), compared with torch.optim.Adam(lr=0.05)")


# --------------------------------------------------------------------------------------------------
# Exercise 3: the race on a bowl
# --------------------------------------------------------------------------------------------------


@check("bowl_gradient")
def bowl_gradient(t: Tester, bowl_grad) -> None:
    """``bowl_grad(p)``: the gradient (p₀, 20·p₁) of f(p) = ½·(p₀² + 20·p₁²)."""
    t.callable(bowl_grad, "bowl_grad")
    for p in (np.array([-4.0, 1.0]), np.array([0.5, -0.25]), np.array([3.0, 0.0])):
        what = f"bowl_grad({fmt(p)})"
        got = t.ndarray(t.call(bowl_grad, p), what)
        t.close(got, _bowl_grad(p), what, mistakes=[
            (2 * _bowl_grad(p), "the ½ in front cancels the 2 from differentiating the squares: ∂f/∂p₀ = p₀, "
                                "∂f/∂p₁ = 20·p₁."),
            (p, "each coordinate has its own curvature: ∂f/∂p₁ = 20·p₁."),
            (_bowl_grad(p)[::-1], "the steep direction is the second coordinate: (p₀, 20·p₁)."),
            (0.5 * BOWL_CURVATURE * p**2, "that is each term of f itself; differentiate: (p₀, 20·p₁)."),
            (np.array([20.0 * p[0], p[1]]), "the factor 20 belongs to the second coordinate: (p₀, 20·p₁)."),
        ], shape_hint="return one partial derivative per coordinate: an array of shape (2,).")


def _race(reset_velocity=False, adam_fixed_t=False, adam_t0=False):
    paths = {}
    p, v = START.copy(), np.zeros(2)
    path = [p]
    for _ in range(RACE_STEPS):
        p, _ = _momentum(p, _bowl_grad(p), np.zeros(2), RACE_SETTINGS["sgd"]["lr"], 0.0)
        path.append(p)
    paths["sgd"] = np.array(path)
    p, v, path = START.copy(), np.zeros(2), [START.copy()]
    for _ in range(RACE_STEPS):
        p, v = _momentum(p, _bowl_grad(p), v, RACE_SETTINGS["momentum"]["lr"], RACE_SETTINGS["momentum"]["momentum"])
        if reset_velocity:
            v = np.zeros(2)
        path.append(p)
    paths["momentum"] = np.array(path)
    p, m, v, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for step in range(1, RACE_STEPS + 1):
        t_used = 1 if adam_fixed_t else (step - 1 if adam_t0 else step)
        p, m, v = _adam(p, _bowl_grad(p), m, v, t_used, lr=RACE_SETTINGS["adam"]["lr"])
        path.append(p)
    paths["adam"] = np.array(path)
    return paths


@check("race")
def race(t: Tester, race) -> None:
    """``race()``: the paths of plain SGD, momentum and Adam on the bowl, each of shape (41, 2)."""
    t.callable(race, "race")
    paths = t.call(race)
    if not isinstance(paths, dict):
        t.fail(f"race() should return a dict {{'sgd': ..., 'momentum': ..., 'adam': ...}}, yours returns "
               f"{type(paths).__name__}")
    missing = [k for k in ("sgd", "momentum", "adam") if k not in paths]
    if missing:
        t.fail(f"race() has no path for {', '.join(map(repr, missing))}", "return all three: sgd, momentum and adam.")
    want = _race()
    shape = (RACE_STEPS + 1, 2)
    path_shape_hint = (f"each path is an array of shape {shape}: the start and the point after each of the "
                       f"{RACE_STEPS} steps (np.array(list_of_points)).")
    for key in ("sgd", "momentum", "adam"):
        path = t.array(paths[key], f"the {key} path", shape=shape, shape_hint=path_shape_hint)
        if np.all(path == path[-1]):
            t.fail(f"every point of the {key} path is the same, {fmt(path[-1])}: the path holds one array "
                   f"{RACE_STEPS + 1} times", "a step changes p in place (p -= ..., v *= ...), so every point appended "
                   "to the path is the same array: return new arrays from the step functions (p_new = p - lr * v).")
    sgd = t.array(paths["sgd"], "the sgd path", shape=shape, shape_hint=path_shape_hint)
    t.close(sgd, want["sgd"], "the sgd path", mistakes=[
        (want["momentum"], "the sgd path is plain gradient descent: momentum = 0."),
    ], hint=f"plain SGD is sgd_momentum_step with momentum = 0, lr = {RACE_SETTINGS['sgd']['lr']}, "
            f"starting from {fmt(START)}, with v starting at zeros.")
    mom = t.array(paths["momentum"], "the momentum path", shape=shape, shape_hint=path_shape_hint)
    t.close(mom, want["momentum"], "the momentum path", mistakes=[
        (lambda: _race(reset_velocity=True)["momentum"],
         "keep the velocity from step to step: p, v = sgd_momentum_step(p, bowl_grad(p), v, ...), and pass the "
         "returned v on. Starting from v = 0 every time makes it plain SGD."),
    ], hint=f"use lr = {RACE_SETTINGS['momentum']['lr']} and momentum = {RACE_SETTINGS['momentum']['momentum']}, "
            "starting from v = zeros(2), and evaluate the gradient at the current p.")
    adam = t.array(paths["adam"], "the adam path", shape=shape, shape_hint=path_shape_hint)
    t.close(adam, want["adam"], "the adam path", mistakes=[
        (lambda: _race(adam_fixed_t=True)["adam"], "count the steps: t = 1, 2, 3, ... (the bias correction depends on it)."),
        (lambda: _race(adam_t0=True)["adam"], "the first Adam step is t = 1, not t = 0."),
    ], hint=f"use lr = {RACE_SETTINGS['adam']['lr']} and the default betas, with m and v starting at zeros and "
            f"t = 1, 2, ..., {RACE_STEPS}.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: a learning rate that diverges
# --------------------------------------------------------------------------------------------------

DIVERGENCE_STEPS = 100


def _gd_final_loss(lr, steps=DIVERGENCE_STEPS):
    p = START.copy()
    with np.errstate(all="ignore"):
        for _ in range(steps):
            p = p - lr * _bowl_grad(p)
        return bowl(p)


@check("divergence")
def divergence(t: Tester, lr_edge, lr_diverge, lr_stable) -> None:
    """The edge 2 / 20 = 0.1; a learning rate above it that diverges, one below it that does not."""
    for value, name in [(lr_edge, "lr_edge"), (lr_diverge, "lr_diverge"), (lr_stable, "lr_stable")]:
        t.require(value, name)
    edge = t.scalar(lr_edge, "lr_edge")
    t.close(edge, 0.1, "lr_edge", mistakes=[
        (2.0, "that is the edge of the flat direction (curvature 1); the steep one (curvature 20) diverges first: "
              "2 / 20."),
        (1 / 20, "a step diverges when |1 − lr·λ| > 1, that is lr > 2/λ: 2 / 20, not 1 / 20 (1/λ is the fastest "
                 "convergence, not the edge)."),
        (2 / 40, "the curvature of ½·20·p₁² is 20 (the second derivative), not 40."),
    ], hint="along p₁ one step multiplies p₁ by (1 − 20·lr); it grows when |1 − 20·lr| > 1.")
    start = bowl(START)
    big = t.scalar(lr_diverge, "lr_diverge")
    small = t.scalar(lr_stable, "lr_stable")
    for value, name in [(big, "lr_diverge"), (small, "lr_stable")]:
        if not value > 0:
            t.fail(f"{name} is {fmt(value)}: a learning rate must be positive")
    if not small < big:
        t.fail(f"lr_stable = {fmt(small)} should be smaller than lr_diverge = {fmt(big)}",
               "find a learning rate that diverges, then a smaller one that does not.")
    t.ok()
    final = _gd_final_loss(big)
    if np.isclose(big, 0.1):
        t.fail(f"lr_diverge = {fmt(big)} is exactly at the edge: p₁ flips sign every step without growing or shrinking",
               "go a little above it, e.g. 0.11: then |1 − 20·lr| > 1 and the loss explodes.")
    if np.isfinite(final) and final <= 1e3 * start:
        t.fail(f"with lr_diverge = {fmt(big)}, {DIVERGENCE_STEPS} steps of gradient descent from {fmt(START)} end at "
               f"loss {fmt(final)} (it started at {fmt(start)}): that does not diverge",
               "the steep direction p₁ (curvature 20) decides: a learning rate above 2 / 20 = 0.1 diverges.")
    t.ok()
    final = _gd_final_loss(small)
    if not (np.isfinite(final) and final < start):
        t.fail(f"with lr_stable = {fmt(small)} the loss grows from {fmt(start)} to {fmt(final)}: it diverges too",
               "below the edge 2 / 20 = 0.1 gradient descent on this bowl converges: try 0.05.")
    t.ok()
