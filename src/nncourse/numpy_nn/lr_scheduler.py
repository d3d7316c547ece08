"""Learning-rate schedules: change ``optimizer.param_groups[0]["lr"]`` as training goes on.

Same names, arguments and values as ``torch.optim.lr_scheduler``. Usage, once per epoch::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(...)       # many optimizer.step() calls
        scheduler.step()           # then move the learning rate along the schedule

PyTorch updates the learning rate *recursively* (each value from the previous one); here each value
is computed from its closed form, ``lr(epoch) = f(initial lr, epoch)``, which is easier to read and
gives the same numbers (up to rounding in the last digits).
"""

import functools
import math
import numbers

from ..errors import ConfigError
from ..validation import non_negative_int, positive_float

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


def _check_optimizer(owner, optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise ConfigError(
            f"{owner}: optimizer must be an optimizer (with param_groups holding an 'lr'), "
            f"got {type(optimizer).__name__}. Build the optimizer first, e.g. "
            f"{owner}(SGD(model.parameters(), lr=0.1), ...)."
        )


def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}.")


def _check_positive_number(owner, name, value):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ConfigError(f"{owner}: {name} must be a number > 0, got {value!r}.")


def _check_gamma(owner, gamma):
    """A decay factor: in (0, 1]. torch accepts any gamma; above 1 the learning rate grows every
    epoch without bound, which is never what a decay schedule is for."""
    _check_positive_number(owner, "gamma", gamma)
    if gamma > 1:
        raise ConfigError(
            f"{owner}: gamma is the factor the learning rate is multiplied by and must be in (0, 1], "
            f"got {gamma!r}: a gamma above 1 makes the learning rate grow every time until training "
            f"diverges. For 'halve it' use gamma=0.5."
        )


def _checked_lr_at(lr_at):
    """Wrap a subclass's ``lr_at`` so that a learner calling it directly gets a named error for a bad
    ``base_lr`` or ``epoch`` (``step`` always passes good ones; the checks cost nanoseconds per epoch)."""
    @functools.wraps(lr_at)
    def checked(self, base_lr, epoch):
        who = f"{type(self).__name__}.lr_at"
        positive_float(base_lr, "base_lr", who)
        non_negative_int(epoch, "epoch", who)
        return lr_at(self, base_lr, epoch)
    return checked


class LRScheduler:
    """Base class: remembers the initial learning rates and sets ``lr`` for the current epoch.

    ``last_epoch`` counts the calls to ``step()`` (it is 0 right after construction, as in PyTorch);
    ``base_lrs`` are the learning rates the optimizer had when the scheduler was created;
    ``get_last_lr()`` returns the learning rates set by the last call (a list, one per group).
    Subclasses define ``lr_at(base_lr, epoch)``, the schedule's formula.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "lr_at" in cls.__dict__:
            cls.lr_at = _checked_lr_at(cls.__dict__["lr_at"])

    def __init__(self, optimizer):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()  # epoch 0: the learning rate the optimizer starts with

    def lr_at(self, base_lr, epoch):
        """The learning rate at ``epoch`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def step(self):
        """Move to the next epoch and write its learning rate into the optimizer."""
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the last ``step()`` (a list with one value per group)."""
        return list(self._last_lr)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = lr₀ · gamma ** (epoch // step_size)``; e.g. lr₀ = 0.1, step_size = 3,
    gamma = 0.5 gives 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, ...
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        _check_positive_int("StepLR", "step_size", step_size)
        _check_gamma("StepLR", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr(epoch) = lr₀ · gamma ** epoch``."""

    def __init__(self, optimizer, gamma):
        _check_gamma("ExponentialLR", gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Lower the learning rate from lr₀ to ``eta_min`` along half a cosine wave in ``T_max`` epochs.

    ``lr(epoch) = eta_min + (lr₀ − eta_min) · (1 + cos(π · epoch / T_max)) / 2``

    It starts flat (little change at first), falls fastest halfway, and arrives flat at ``eta_min``
    after ``T_max`` epochs. As in PyTorch, stepping past ``T_max`` follows the cosine back up.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        if (isinstance(eta_min, bool) or not isinstance(eta_min, numbers.Real)
                or not math.isfinite(eta_min) or eta_min < 0):
            raise ConfigError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}.")
        _check_optimizer("CosineAnnealingLR", optimizer)
        start = max(group.get("initial_lr", group["lr"]) for group in optimizer.param_groups)
        if eta_min > start:
            raise ConfigError(
                f"CosineAnnealingLR: eta_min ({eta_min!r}) is the lowest learning rate and must not exceed "
                f"the optimizer's learning rate ({start!r}); otherwise the 'annealing' raises it. "
                f"Use e.g. eta_min=0 or eta_min={start / 100:g}."
            )
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        cosine = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + cosine) / 2


# ------------------------------------------------------------------ warm-up and chained schedules (ch. 10)
__all__ += ["LambdaLR", "LinearLR", "SequentialLR"]


class LambdaLR(LRScheduler):
    """``lr(epoch) = lr₀ · lr_lambda(epoch)``: any schedule you can write as a function of the step.

    E.g. a linear warm-up over 100 steps: ``LambdaLR(opt, lambda step: min(1.0, (step + 1) / 100))``.
    """

    def __init__(self, optimizer, lr_lambda):
        if not callable(lr_lambda):
            raise ConfigError(f"LambdaLR: lr_lambda must be a function of the epoch, got {lr_lambda!r}.")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        factor = self.lr_lambda(epoch)
        # checked each time it is computed: a NaN or negative rate would not fail, it would train wrongly
        if (isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not math.isfinite(factor)
                or factor < 0):
            raise ConfigError(
                f"LambdaLR: lr_lambda({epoch}) returned {factor!r} at epoch {epoch}, but it must return a "
                f"finite number >= 0 (the factor the initial learning rate is multiplied by). Check the "
                f"formula at that epoch, e.g. a division by zero, a negative warm-up or a missing return")
        return base_lr * factor


class LinearLR(LRScheduler):
    """Multiply lr₀ by a factor that moves in a straight line from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then stays at ``end_factor`` (a *warm-up* when it rises to 1)::

        lr(epoch) = lr₀ · (start + (end − start) · min(epoch, total_iters) / total_iters)
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        if (isinstance(start_factor, bool) or not isinstance(start_factor, numbers.Real)
                or not 0 < start_factor <= 1):
            raise ConfigError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}.")
        if (isinstance(end_factor, bool) or not isinstance(end_factor, numbers.Real)
                or not 0 <= end_factor <= 1):
            raise ConfigError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}.")
        _check_positive_int("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its epoch 0),
    and so on: e.g. ``SequentialLR(opt, [LinearLR(opt, 0.01, total_iters=w), CosineAnnealingLR(opt,
    T_max=n - w)], milestones=[w])`` is a warm-up of ``w`` steps followed by a cosine decay.

    Each scheduler is evaluated from its closed form at the epoch counted from its own milestone,
    which is what PyTorch's ``SequentialLR`` computes (it restarts each scheduler at a milestone).
    """

    def __init__(self, optimizer, schedulers, milestones):
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers or any(not isinstance(s, LRScheduler) for s in schedulers):
            raise ConfigError("SequentialLR: schedulers must be a non-empty list of schedulers.")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ConfigError("SequentialLR: every scheduler in schedulers must belong to the same optimizer as "
                              "SequentialLR; build each of them on the optimizer you pass to SequentialLR.")
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral):
                raise ConfigError(f"SequentialLR: milestones must be whole numbers of epochs, got {milestones}.")
        if len(milestones) != len(schedulers) - 1:
            raise ConfigError(f"SequentialLR: milestones must hold {len(schedulers) - 1} epoch(s) for "
                              f"{len(schedulers)} schedulers (one per switch to the next scheduler), got "
                              f"{len(milestones)}.")
        if any(b <= a for a, b in zip(milestones, milestones[1:])) or any(m <= 0 for m in milestones):
            raise ConfigError(f"SequentialLR: milestones must be positive and increasing, got {milestones}.")
        self.schedulers, self.milestones = schedulers, milestones
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        index = sum(epoch >= m for m in self.milestones)            # which scheduler is running
        start = self.milestones[index - 1] if index > 0 else 0
        return self.schedulers[index].lr_at(base_lr, epoch - start)
