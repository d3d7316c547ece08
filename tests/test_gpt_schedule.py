"""LambdaLR, LinearLR and SequentialLR (warm-up then cosine) give torch's learning rates."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse.errors import ConfigError
from nncourse.numpy_nn import lr_scheduler as sched


def _pair(lr=0.3):
    p = nn.Parameter(np.zeros(2))
    t = torch.nn.Parameter(torch.zeros(2))
    return nn.AdamW([p], lr=lr), torch.optim.AdamW([t], lr=lr)


def _same_lrs(ours, theirs, ours_opt, theirs_opt, steps):
    for _ in range(steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15)
        assert ours_opt.param_groups[0]["lr"] == pytest.approx(theirs_opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        theirs_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("start, end, total", [(1 / 3, 1.0, 5), (0.01, 1.0, 7), (1.0, 0.1, 4)])
def test_linear_lr(start, end, total):
    a, b = _pair()
    _same_lrs(sched.LinearLR(a, start, end, total), torch.optim.lr_scheduler.LinearLR(b, start, end, total),
              a, b, 12)


def test_lambda_lr():
    a, b = _pair()
    f = lambda step: 0.9 ** step + 0.1 * (step % 3)  # noqa: E731
    _same_lrs(sched.LambdaLR(a, f), torch.optim.lr_scheduler.LambdaLR(b, f), a, b, 10)


@pytest.mark.parametrize("warmup, total", [(3, 20), (10, 40), (1, 5)])
def test_warmup_then_cosine(warmup, total):
    a, b = _pair(1e-2)
    ours = sched.SequentialLR(a, [sched.LinearLR(a, 0.01, total_iters=warmup),
                                  sched.CosineAnnealingLR(a, T_max=total - warmup, eta_min=1e-4)],
                              milestones=[warmup])
    T = torch.optim.lr_scheduler
    theirs = T.SequentialLR(b, [T.LinearLR(b, 0.01, total_iters=warmup),
                                T.CosineAnnealingLR(b, T_max=total - warmup, eta_min=1e-4)],
                            milestones=[warmup])
    _same_lrs(ours, theirs, a, b, total)


def test_three_phases():
    a, b = _pair(0.1)
    T = torch.optim.lr_scheduler
    ours = sched.SequentialLR(a, [sched.LinearLR(a, 0.1, total_iters=2), sched.StepLR(a, 2, 0.5),
                                  sched.ExponentialLR(a, 0.9)], milestones=[3, 7])
    theirs = T.SequentialLR(b, [T.LinearLR(b, 0.1, total_iters=2), T.StepLR(b, 2, 0.5),
                                T.ExponentialLR(b, 0.9)], milestones=[3, 7])
    _same_lrs(ours, theirs, a, b, 12)


def test_errors():
    a, _ = _pair()
    with pytest.raises(ConfigError, match="start_factor"):
        sched.LinearLR(a, start_factor=0)
    with pytest.raises(ConfigError, match="function"):
        sched.LambdaLR(a, 3)
    one = sched.LinearLR(a, 0.5, total_iters=2)
    with pytest.raises(ConfigError, match="milestone"):
        sched.SequentialLR(a, [one, sched.StepLR(a, 2)], milestones=[])
    with pytest.raises(ConfigError, match="same optimizer"):
        sched.SequentialLR(a, [one, sched.StepLR(_pair()[0], 2)], milestones=[2])
