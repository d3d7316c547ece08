"""Optimizers: how a gradient becomes a change of the weights.

Each optimizer follows PyTorch's update rule and defaults (``torch.optim``, version 2.x), so that the
NumPy network and its PyTorch twin move by the same numbers. Every ``step()`` is written to read like
the formula in its class docstring. Notation, per parameter ``p`` with gradient ``g``:

* ``lr`` (γ) the learning rate, ``t`` the number of steps taken so far (1 on the first step);
* all operations are element-wise;
* ``weight_decay`` (λ) adds ``λ·p`` to the gradient (an L2 penalty), except in ``AdamW``, which
  shrinks the weights directly ("decoupled" weight decay).

The usual loop, exactly as in PyTorch::

    optimizer = SGD(model.parameters(), lr=0.1)
    for x, y in batches:
        optimizer.zero_grad()                 # gradients accumulate: clear the last ones
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward())    # fills p.grad (NumPy: explicit backward pass)
        optimizer.step()                      # p.data changes in place

Parameters whose ``.grad`` is ``None`` (not used in the last backward pass) are skipped, and so are
frozen ones (``requires_grad=False``), even if a ``.grad`` was set by hand.
"""

import math
import numbers

import numpy as np

from ..errors import ConfigError, ShapeError
from ..validation import boolean

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW"]


# --------------------------------------------------------------------------------------------------
# Checking hyper-parameters (the same rules as torch, plus: the learning rate must be positive)
# --------------------------------------------------------------------------------------------------


def _check_number(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(
            f"{owner}: {name} must be a finite real number, got {value!r} ({type(value).__name__})."
        )


def _check_positive(owner, name, value):
    _check_number(owner, name, value)
    if value <= 0:
        raise ConfigError(
            f"{owner}: {name} must be > 0, got {value!r}. "
            f"Typical values are 1e-3 to 1e-1; a step of size {value!r} never moves the weights "
            f"downhill."
        )


def _check_non_negative(owner, name, value):
    _check_number(owner, name, value)
    if value < 0:
        raise ConfigError(f"{owner}: {name} must be >= 0, got {value!r}. Use 0 to switch it off.")


def _check_fraction(owner, name, value, *, include_one):
    """``value`` must lie in [0, 1] (``include_one``) or [0, 1)."""
    _check_number(owner, name, value)
    upper_ok = value <= 1 if include_one else value < 1
    if value < 0 or not upper_ok:
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ConfigError(f"{owner}: {name} must be in {interval}, got {value!r}.")


def _check_flag(owner, name, value):
    """Switches such as ``nesterov`` must be True or False (a string like "yes" would count as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{owner}: {name} must be True or False, got {value!r} ({type(value).__name__}); "
                          f"write {name}=True or {name}=False without quotes.")
    return bool(value)


def _check_momentum(owner, value):
    """Momentum is the fraction of the last step that is kept: [0, 1), as the maths needs.

    With momentum >= 1 old gradients never fade: the steps grow without bound and the weights blow up
    (torch only checks momentum >= 0; the course is stricter, because that blow-up is silent at first).
    """
    _check_number(owner, "momentum", value)
    if not 0 <= value < 1:
        raise ConfigError(
            f"{owner}: momentum must be in [0, 1), got {value!r}. It is the fraction of the previous "
            f"step kept in the next one: with momentum >= 1 old gradients never fade and the weights "
            f"blow up. Typical values are 0.9 or 0.99; use 0 to switch momentum off."
        )


def _check_betas(owner, betas):
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ConfigError(
            f"{owner}: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}."
        ) from None
    _check_fraction(owner, "betas[0]", beta1, include_one=False)
    _check_fraction(owner, "betas[1]", beta2, include_one=False)
    return (float(beta1), float(beta2))


def _collect_parameters(owner, params):
    """Turn ``model.parameters()`` (a generator) into a list, checking what it holds."""
    if hasattr(params, "parameters") and callable(params.parameters):
        raise ConfigError(
            f"{owner}: params must be the model's parameters, got the model itself "
            f"({type(params).__name__}). Pass model.parameters()."
        )
    if hasattr(params, "data") and hasattr(params, "grad"):
        raise ConfigError(
            f"{owner}: params must be an iterable of Parameters, got a single "
            f"{type(params).__name__}. Wrap it in a list: [{type(params).__name__.lower()}]."
        )
    try:
        params = list(params)
    except TypeError:
        raise ConfigError(
            f"{owner}: params must be an iterable of Parameters (e.g. model.parameters()), "
            f"got {type(params).__name__}."
        ) from None
    if not params:
        raise ConfigError(
            f"{owner}: got an empty parameter list; there is nothing to optimize. "
            f"Did the model's parameters() generator get used up already? Call model.parameters() "
            f"again when you build the optimizer."
        )
    for i, p in enumerate(params):
        if not (hasattr(p, "grad") and isinstance(getattr(p, "data", None), np.ndarray)):
            raise ConfigError(
                f"{owner}: params[{i}] must be a numpy_nn Parameter (with a NumPy .data and a "
                f".grad), got {type(p).__name__}. A torch model needs a torch.optim optimizer."
            )
    if len({id(p) for p in params}) != len(params):
        raise ConfigError(f"{owner}: some parameters appear more than once in params.")
    return params


# --------------------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------------------


def _check_defaults(owner, defaults):
    """The hyper-parameters: a dict of names to settings, every number in it finite (the subclasses check
    their own ranges; this catches a hand-built ``Optimizer(params, {"lr": nan})``)."""
    if not isinstance(defaults, dict):
        raise ConfigError(f"{owner}: defaults must be a dict of hyper-parameters such as {{'lr': 0.1}}, got "
                          f"{type(defaults).__name__} {defaults!r:.40}")
    for key, value in defaults.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
            raise ConfigError(f"{owner}: defaults[{key!r}] must be a finite number, got {value!r}; a NaN or "
                              f"infinite setting turns every parameter into NaN at the first step")


class Optimizer:
    """What every optimizer shares: the parameters, the hyper-parameters and a memory per parameter.

    * ``param_groups``: a list with one dict holding ``"params"`` (the parameter list), ``"lr"`` and
      the other hyper-parameters, as in PyTorch. A learning-rate scheduler changes
      ``param_groups[0]["lr"]``.
    * ``state``: a dict from each parameter to its own dict of running quantities (momentum buffer,
      moving averages, step count), filled on the first ``step()`` that sees that parameter.
    """

    def __init__(self, params, defaults):
        params = _collect_parameters(type(self).__name__, params)
        _check_defaults(type(self).__name__, defaults)
        self.defaults = dict(defaults)
        self.param_groups = [{"params": params, **defaults}]
        self.state = {}

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of the last backward pass (``p.grad = None``, PyTorch's default).

        Backward passes *add* into ``p.grad``, so call this before each new backward pass.
        With ``set_to_none=False`` the gradient arrays are filled with zeros instead.
        """
        set_to_none = boolean(set_to_none, "set_to_none", f"{type(self).__name__}.zero_grad")
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self):
        """Change every parameter that has a gradient by one update (each optimizer defines it)."""
        raise NotImplementedError

    def _parameters_with_gradients(self):
        """Yield ``(p, g, state)`` for each parameter with a gradient.

        ``g`` is the gradient in the parameter's dtype (never modified in place here) and ``state``
        the parameter's own dict in ``self.state`` (empty before its first step).
        """
        for group in self.param_groups:
            for i, p in enumerate(group["params"]):
                if p.grad is None or not getattr(p, "requires_grad", True):
                    continue
                g = np.asarray(p.grad, dtype=p.data.dtype)
                if g.shape != p.data.shape:
                    raise ShapeError(
                        f"{type(self).__name__}.step: params[{i}] has shape {p.data.shape} but its .grad "
                        f"has shape {g.shape}; a gradient must have the shape of its parameter "
                        f"(set p.grad to an array shaped like p.data, or call zero_grad())."
                    )
                yield p, g, self.state.setdefault(p, {})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------------------------------


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD``).

    For each parameter ``p`` with gradient ``g``::

        g ← g + λ·p                              (weight_decay λ, if λ ≠ 0)
        if μ ≠ 0:                                (momentum μ)
            b ← g                     on the first step
            b ← μ·b + (1 − τ)·g       afterwards (dampening τ)
            g ← g + μ·b   if nesterov, else   g ← b
        p ← p − γ·g

    Defaults as in PyTorch: ``lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False``.
    Nesterov momentum needs ``momentum > 0`` and ``dampening = 0``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        _check_positive("SGD", "lr", lr)
        _check_momentum("SGD", momentum)
        _check_fraction("SGD", "dampening", dampening, include_one=True)
        _check_non_negative("SGD", "weight_decay", weight_decay)
        nesterov = _check_flag("SGD", "nesterov", nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ConfigError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r}"
                f" and dampening={dampening!r}. Set e.g. momentum=0.9, or nesterov=False."
            )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=bool(nesterov))
        super().__init__(params, defaults)

    def step(self):
        group = self.param_groups[0]
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p, g, state in self._parameters_with_gradients():
            if weight_decay != 0:
                g = g + weight_decay * p.data
            if mu != 0:
                if "momentum_buffer" not in state:
                    b = state["momentum_buffer"] = g.copy()
                else:
                    b = state["momentum_buffer"]        # b ← μ·b + (1 − τ)·g, in place (no temporaries)
                    b *= mu
                    b += g if tau == 0 else (1 - tau) * g
                g = g + mu * b if nesterov else b
            p.data -= lr * g


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    For each parameter ``p`` with gradient ``g`` (``v``, ``ḡ`` and ``b`` start at zero)::

        g ← g + λ·p                              (weight_decay λ, if λ ≠ 0)
        v ← α·v + (1 − α)·g²                     (smoothing constant α)
        if centered:   ḡ ← α·ḡ + (1 − α)·g;   d ← sqrt(v − ḡ²) + ε
        else:          d ← sqrt(v) + ε
        if μ > 0:      b ← μ·b + g / d;   p ← p − γ·b          (momentum μ)
        else:          p ← p − γ·g / d

    "Centered" divides by an estimate of the gradient's standard deviation instead of its RMS.
    Defaults as in PyTorch: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False``.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        _check_positive("RMSprop", "lr", lr)
        _check_fraction("RMSprop", "alpha", alpha, include_one=False)  # alpha = 1: v stays 0, steps g / eps
        _check_non_negative("RMSprop", "eps", eps)
        _check_non_negative("RMSprop", "weight_decay", weight_decay)
        _check_momentum("RMSprop", momentum)
        centered = _check_flag("RMSprop", "centered", centered)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=bool(centered))
        super().__init__(params, defaults)

    def step(self):
        group = self.param_groups[0]
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        weight_decay, centered = group["weight_decay"], group["centered"]
        for p, g, state in self._parameters_with_gradients():
            if not state:  # first step for this parameter
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p.data)
                if mu > 0:
                    state["momentum_buffer"] = np.zeros_like(p.data)
                if centered:
                    state["grad_avg"] = np.zeros_like(p.data)
            state["step"] += 1

            if weight_decay != 0:
                g = g + weight_decay * p.data
            v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g**2
            if centered:
                g_avg = state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
                d = np.sqrt(v - g_avg**2) + eps
            else:
                d = np.sqrt(v) + eps
            if mu > 0:
                b = state["momentum_buffer"] = mu * state["momentum_buffer"] + g / d
                p.data -= lr * b
            else:
                p.data -= lr * g / d


class Adagrad(Optimizer):
    r"""Adagrad: each weight gets its own step size, shrinking with the sum of its squared gradients.

    For each parameter ``p`` with gradient ``g`` on step ``t`` (``s`` starts at
    ``initial_accumulator_value``)::

        g ← g + λ·p                              (weight_decay λ, if λ ≠ 0)
        γ_t ← γ / (1 + (t − 1)·η)                (lr_decay η)
        s ← s + g²
        p ← p − γ_t · g / (sqrt(s) + ε)

    Defaults as in PyTorch: ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10):
        _check_positive("Adagrad", "lr", lr)
        _check_non_negative("Adagrad", "lr_decay", lr_decay)
        _check_non_negative("Adagrad", "weight_decay", weight_decay)
        _check_non_negative("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        _check_non_negative("Adagrad", "eps", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def step(self):
        group = self.param_groups[0]
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, s0 = group["weight_decay"], group["initial_accumulator_value"]
        for p, g, state in self._parameters_with_gradients():
            if not state:  # first step for this parameter
                state["step"] = 0
                state["sum"] = np.full_like(p.data, s0)
            state["step"] += 1
            t = state["step"]

            if weight_decay != 0:
                g = g + weight_decay * p.data
            lr_t = lr / (1 + (t - 1) * lr_decay)
            s = state["sum"] = state["sum"] + g**2
            p.data -= lr_t * g / (np.sqrt(s) + eps)


class Adadelta(Optimizer):
    r"""Adadelta: step sizes from running averages of squared gradients *and* squared updates.

    For each parameter ``p`` with gradient ``g`` (``v`` and ``u`` start at zero)::

        g ← g + λ·p                              (weight_decay λ, if λ ≠ 0)
        v ← ρ·v + (1 − ρ)·g²                     (decay rate ρ)
        Δ ← sqrt(u + ε) / sqrt(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²
        p ← p − γ·Δ

    The ratio of the two RMS values has the units of the weights, so ``lr`` is just a scale
    factor, 1.0 by default. Defaults as in PyTorch: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _check_positive("Adadelta", "lr", lr)
        _check_fraction("Adadelta", "rho", rho, include_one=True)
        _check_non_negative("Adadelta", "eps", eps)
        _check_non_negative("Adadelta", "weight_decay", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def step(self):
        group = self.param_groups[0]
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p, g, state in self._parameters_with_gradients():
            if not state:  # first step for this parameter
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p.data)
                state["acc_delta"] = np.zeros_like(p.data)
            state["step"] += 1

            if weight_decay != 0:
                g = g + weight_decay * p.data
            v = state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g**2
            delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(v + eps) * g
            state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta**2
            p.data -= lr * delta


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop-style scaling, both corrected for starting at zero.

    For each parameter ``p`` with gradient ``g`` on step ``t`` (``m``, ``v``, ``v_max`` start at 0)::

        g ← g + λ·p                              (weight_decay λ, if λ ≠ 0: an L2 penalty)
          or, with decoupled_weight_decay (AdamW):  p ← p − γ·λ·p
        m ← β₁·m + (1 − β₁)·g                    (first moment: average gradient)
        v ← β₂·v + (1 − β₂)·g²                   (second moment: average squared gradient)
        if amsgrad: v ← v_max ← max(v_max, v)    (never let the denominator shrink)
        m̂ ← m / (1 − β₁ᵗ)                        (bias corrections: m and v start at 0)
        v̂ ← v / (1 − β₂ᵗ)
        p ← p − γ · m̂ / (sqrt(v̂) + ε)

    Defaults as in PyTorch: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, decoupled_weight_decay=False``. For weight decay with Adam prefer ``AdamW``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, decoupled_weight_decay=False):
        owner = type(self).__name__
        _check_positive(owner, "lr", lr)
        betas = _check_betas(owner, betas)
        _check_non_negative(owner, "eps", eps)
        _check_non_negative(owner, "weight_decay", weight_decay)
        amsgrad = _check_flag(owner, "amsgrad", amsgrad)
        decoupled_weight_decay = _check_flag(owner, "decoupled_weight_decay", decoupled_weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=bool(amsgrad), decoupled_weight_decay=bool(decoupled_weight_decay))
        super().__init__(params, defaults)

    def step(self):
        group = self.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
        for p, g, state in self._parameters_with_gradients():
            if not state:  # first step for this parameter
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            t = state["step"]

            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    p.data *= 1 - lr * weight_decay          # AdamW: shrink the weights directly
                else:
                    g = g + weight_decay * p.data            # Adam: L2 penalty in the gradient
            m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g**2
            if amsgrad:
                v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""Adam with *decoupled* weight decay (Loshchilov & Hutter): shrink the weights, then Adam.

    For each parameter ``p`` with gradient ``g``::

        p ← p − γ·λ·p                            (weight_decay λ, applied to p, not added to g)
        then the rest of ``Adam``'s update with the raw gradient g

    In ``Adam`` the L2 term ``λ·p`` is divided by ``sqrt(v̂)`` like the rest of the gradient, so
    weights with large gradients are barely decayed; here every weight shrinks by the same factor.
    The same as ``Adam(..., decoupled_weight_decay=True)``, with a non-zero default decay.
    Defaults as in PyTorch: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, decoupled_weight_decay=True)
