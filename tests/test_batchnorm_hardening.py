"""BatchNorm's running statistics are never poisoned (issue 27): overflowing batches, NaN state dicts, and
evaluation mode with no statistics to use."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse.errors import NonFiniteError, ShapeError


def _state(layer):
    return {k: v.copy() for k, v in layer.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (4, 3, 2, 2))])
def test_a_batch_whose_statistics_overflow_float32_is_refused_and_the_state_kept(kind, shape):
    rng = np.random.default_rng(0)
    layer = getattr(nn, kind)(3)
    layer(rng.normal(size=shape).astype(np.float32))            # one normal step: non-trivial statistics
    before = _state(layer)
    huge = (rng.normal(size=shape) * 1e20).astype(np.float32)   # finite, but its square is not
    assert np.isfinite(huge).all()
    with pytest.raises(NonFiniteError, match=r"overflow float32.*running statistics unchanged.*Scale or "
                                             r"standardise the input.*float64"):
        layer(huge)
    assert _equal(before, _state(layer))
    assert int(layer.num_batches_tracked) == 1
    big64 = getattr(nn, kind)(3, dtype=np.float64)               # the fix the message offers works
    big64(huge.astype(np.float64))
    assert np.isfinite(big64.running_var).all()


def test_the_overflow_check_also_guards_batch_statistics_in_evaluation_mode():
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    huge = (np.random.default_rng(1).normal(size=(8, 3)) * 1e20).astype(np.float32)
    with pytest.raises(NonFiniteError, match=r"overflow float32.*Scale or standardise"):
        layer(huge)


def test_torch_is_silent_on_the_same_batch_where_ours_raises():
    huge = (np.random.default_rng(0).normal(size=(8, 3)) * 1e20).astype(np.float32)
    theirs = torch.nn.BatchNorm1d(3)
    theirs(torch.from_numpy(huge))
    assert not torch.isfinite(theirs.running_var).all()         # torch: poisoned without a word
    with pytest.raises(NonFiniteError):
        nn.BatchNorm1d(3)(huge)


@pytest.mark.parametrize("name, value, words", [
    ("running_mean", np.array([0.0, np.nan, 0.0], np.float32), r"NaN or infinite running statistics.*diverged"),
    ("running_var", np.array([1.0, np.inf, 1.0], np.float32), r"NaN or infinite running statistics"),
    ("running_var", np.array([1.0, -2.0, 1.0], np.float32), r"negative variances.*reset_running_stats"),
])
def test_load_state_dict_refuses_poisoned_running_statistics_and_changes_nothing(name, value, words):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model(np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32))
    before = _state(model)
    state = _state(model)
    state["0.weight"] = state["0.weight"] + 1                      # would be copied first if not all-or-nothing
    state[f"1.{name}"] = value
    with pytest.raises(NonFiniteError, match=words):
        model.load_state_dict(state)
    assert _equal(before, _state(model))


def test_from_torch_refuses_nan_running_statistics():
    theirs = torch.nn.BatchNorm1d(3)
    theirs.running_mean[1] = float("nan")
    with pytest.raises(NonFiniteError, match="running statistics"):
        nn.from_torch(torch.nn.Sequential(theirs))


def test_evaluation_mode_without_running_statistics_and_one_value_per_channel_is_refused():
    """track_running_stats=False: eval() normalises with the batch's own statistics (as torch does), so a
    single value per channel has nothing to normalise with. torch refuses it too."""
    ours = nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ShapeError, match=r"track_running_stats=False.*batch's own statistics.*one value per "
                                         r"channel.*batch of at least 2.*track_running_stats=True"):
        ours(np.ones((1, 3), np.float32))
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ValueError):
        theirs(torch.ones(1, 3))
    two = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(two), theirs(torch.from_numpy(two)).detach().numpy(), atol=1e-4)


def test_a_fresh_layer_in_evaluation_mode_uses_mean_0_and_variance_1_as_torch_does():
    """Not refused: its running statistics exist (the documented start values), and evaluating a model before
    training (fit's reference loss, a baseline accuracy) is legitimate."""
    x = np.random.default_rng(0).normal(size=(1, 3)).astype(np.float32)
    ours = nn.BatchNorm1d(3).eval()(x)
    theirs = torch.nn.BatchNorm1d(3).eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
