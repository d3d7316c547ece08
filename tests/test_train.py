"""nncourse.train.fit: one loop, two back ends, seeded batches, and a clear error when training diverges."""

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn, torch_nn
from nncourse.data import blobs, regression_curve
from nncourse.errors import ConfigError, DivergenceError, DTypeError, NonFiniteError, ShapeError
from nncourse.train import evaluate, fit, predict


def _blobs(dtype=np.float64):
    X, y = blobs(n_samples=120, seed=3)
    return X.astype(dtype), y


def _numpy_setup(dtype=np.float64, lr=0.1, momentum=0.9):
    model = nn.mlp([2, 8, 2], activation="tanh", seed=1, dtype=dtype)
    return model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=lr, momentum=momentum)


def test_fit_learns_a_separable_problem_and_records_history():
    X, y = _blobs()
    model, loss_fn, opt = _numpy_setup()
    history = fit(model, loss_fn, opt, (X, y), epochs=15, batch_size=16, validation_data=(X, y), quiet=True)
    assert history.epochs == 15
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(values) == 15 for values in history.values())
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["val_accuracy"][-1] >= 0.95
    assert len(history.epoch_seconds) == 15


def test_numpy_and_torch_follow_the_same_trajectory():
    X, y = _blobs()
    np_model, np_loss, np_opt = _numpy_setup()
    t_model = torch_nn.from_numpy(np_model)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.9)
    h_np = fit(np_model, np_loss, np_opt, (X, y), epochs=4, batch_size=10, quiet=True)
    h_t = fit(t_model, torch.nn.CrossEntropyLoss(), t_opt, (X, y), epochs=4, batch_size=10, quiet=True)
    np.testing.assert_allclose(h_np["loss"], h_t["loss"], rtol=1e-9)
    assert h_np["accuracy"] == h_t["accuracy"]
    for (name, p), q in zip(np_model.named_parameters(), t_model.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_shuffling_is_seeded():
    X, y = _blobs()
    runs = []
    for seed in (0, 0, 1):
        model, loss_fn, opt = _numpy_setup()
        runs.append(fit(model, loss_fn, opt, (X, y), epochs=2, batch_size=8, seed=seed, quiet=True)["loss"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_a_huge_learning_rate_raises_a_divergence_error_naming_the_step():
    X, y = regression_curve(n_samples=64, seed=0)
    model = nn.mlp([1, 16, 1], activation="relu", seed=0, dtype=np.float64)
    opt = nn.SGD(model.parameters(), lr=50.0)
    with pytest.raises(DivergenceError, match=r"epoch \d+, step \d+.*learning rate 50 .*try 5"):
        fit(model, nn.MSELoss(), opt, (X, y), epochs=50, batch_size=8, quiet=True)


def test_weights_that_blow_up_inside_the_network_are_reported_as_divergence():
    # One enormous step overflows the first layer's weights to inf while that step's loss was finite;
    # the NaN/inf then first shows up as the *input* of the second layer, not in the loss.
    X, y = _blobs()
    model = nn.mlp([2, 8, 2], activation="identity", seed=1, dtype=np.float64)
    opt = nn.SGD(model.parameters(), lr=1e308)
    with pytest.raises(DivergenceError, match=r"Training diverged: a layer received NaN.*epoch 1, step 2"):
        fit(model, nn.CrossEntropyLoss(), opt, (X * 1e3, y), epochs=3, batch_size=16, quiet=True)


def test_nan_in_the_data_is_a_data_error_not_divergence():
    X, y = _blobs()
    X[5, 1] = np.nan
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(NonFiniteError, match="X contains NaN"):
        fit(model, loss_fn, opt, (X, y), quiet=True)


def test_regression_records_no_accuracy_and_scheduler_lr_is_recorded():
    X, y = regression_curve(n_samples=64, seed=0)
    model = nn.mlp([1, 8, 1], activation="tanh", seed=0, dtype=np.float64)
    opt = nn.SGD(model.parameters(), lr=0.1)
    scheduler = nn.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, nn.MSELoss(), opt, (X, y), epochs=5, batch_size=16, scheduler=scheduler, quiet=True)
    assert "accuracy" not in history
    assert history["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 0}, ConfigError, "epochs must be a positive whole number"),
        ({"batch_size": 2.5}, ConfigError, "batch_size must be a positive whole number"),
    ],
)
def test_bad_settings_are_named(kwargs, error, message):
    X, y = _blobs()
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(error, match=message):
        fit(model, loss_fn, opt, (X, y), quiet=True, **kwargs)


def test_bad_data_is_named():
    X, y = _blobs()
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(ShapeError, match="X has 120 rows but y has 119"):
        fit(model, loss_fn, opt, (X, y[:-1]), quiet=True)
    with pytest.raises(DTypeError, match=r"X is float32 but the model's parameters are float64"):
        fit(model, loss_fn, opt, (X.astype(np.float32), y), quiet=True)
    with pytest.raises(ShapeError, match="flatten images first"):
        fit(model, loss_fn, opt, (X.reshape(120, 2, 1), y), quiet=True)
    with pytest.raises(ConfigError, match="numpy_nn model or a torch.nn.Module"):
        fit(object(), loss_fn, opt, (X, y), quiet=True)


def test_predict_and_evaluate_agree_and_restore_training_mode():
    X, y = _blobs(np.float32)
    model = nn.mlp([2, 8, 2], dropout=0.5, seed=0)
    model.train()
    out = predict(model, X, batch_size=7)
    assert out.shape == (120, 2) and model.training
    loss, accuracy = evaluate(model, nn.CrossEntropyLoss(), X, y)
    assert accuracy == np.mean(out.argmax(axis=1) == y)
    assert loss == pytest.approx(nn.CrossEntropyLoss()(out, y), rel=1e-6)
    t_model = torch_nn.from_numpy(model)
    t_loss, t_accuracy = evaluate(t_model, torch.nn.CrossEntropyLoss(), X, y)
    assert t_accuracy == accuracy
    assert t_loss == pytest.approx(loss, rel=1e-5)
