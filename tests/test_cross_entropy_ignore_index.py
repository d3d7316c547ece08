"""CrossEntropyLoss(ignore_index=-100), as torch has it: padding targets count for nothing."""

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn
from nncourse.errors import ConfigError, TargetError
from nncourse.numpy_nn.gradcheck import numerical_gradient


def _batch(seed, n=12, c=5, ignored=(0, 3, 4)):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 3
    targets = rng.integers(0, c, size=n)
    targets[list(ignored)] = -100
    return logits, targets


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_value_and_gradient_match_torch(seed, reduction, smoothing):
    logits, targets = _batch(seed)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)
    loss = loss_fn(logits, targets)
    grad = loss_fn.backward()
    t = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(t, torch.from_numpy(targets))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_ignored_rows_get_no_gradient_and_change_nothing():
    logits, targets = _batch(1)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(logits, targets)
    grad = loss_fn.backward()
    ignored = targets == -100
    assert np.all(grad[ignored] == 0)
    changed = logits.copy()
    changed[ignored] = 1e3                       # whatever the padded positions predict
    assert loss_fn(changed, targets) == loss
    kept = nn.CrossEntropyLoss()(logits[~ignored], targets[~ignored])
    assert loss == kept                          # the mean is over the real targets only


def test_gradient_matches_finite_differences():
    logits, targets = _batch(2, n=6, c=4, ignored=(1, 2))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss_fn(logits, targets)
    numeric = numerical_gradient(lambda z: nn.CrossEntropyLoss(label_smoothing=0.1)(z, targets), logits.copy())
    np.testing.assert_allclose(loss_fn.backward(), numeric, rtol=1e-6, atol=1e-9)


def test_a_custom_ignore_index_and_the_sequence_shape_of_a_language_model():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 5, 7))                  # (B, T, V)
    targets = rng.integers(0, 7, size=(2, 5))
    targets[1, 3:] = 0
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)
    loss = loss_fn(logits.reshape(-1, 7), targets.reshape(-1))
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits).reshape(-1, 7),
                                                 torch.from_numpy(targets).reshape(-1), ignore_index=0)
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    assert "ignore_index=0" in repr(loss_fn)


def test_every_target_ignored_is_a_clear_error_where_torch_returns_nan():
    logits, _ = _batch(0)
    targets = np.full(len(logits), -100)
    torch_loss = torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.from_numpy(targets))
    assert torch.isnan(torch_loss)               # torch: 0 / 0
    with pytest.raises(TargetError, match="every target.*ignore_index=-100.*reduction='sum'"):
        nn.CrossEntropyLoss()(logits, targets)


def test_every_target_ignored_sums_to_zero_as_in_torch():
    logits, _ = _batch(0)
    targets = np.full(len(logits), -100)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    assert loss_fn(logits, targets) == 0.0
    assert np.all(loss_fn.backward() == 0)
    assert torch.nn.CrossEntropyLoss(reduction="sum")(torch.tensor(logits), torch.from_numpy(targets)).item() == 0


def test_a_target_that_is_neither_a_class_nor_ignored_still_names_the_range():
    logits, targets = _batch(0)
    targets[5] = -1
    with pytest.raises(TargetError, match="0..4"):
        nn.CrossEntropyLoss()(logits, targets)


@pytest.mark.parametrize("bad", [1.5, "-100", True, None])
def test_ignore_index_must_be_a_whole_number(bad):
    with pytest.raises(ConfigError, match="ignore_index must be a whole number"):
        nn.CrossEntropyLoss(ignore_index=bad)
