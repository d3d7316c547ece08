"""fit's early stopping: patience on the validation loss, restore_best, and History's best/stopped epochs."""

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn, torch_nn
from nncourse.data import blobs
from nncourse.errors import ConfigError
from nncourse.train import fit


def _data():
    X, y = blobs(n_samples=120, seed=3)
    # Validating on the opposite labels: the better the model learns, the worse the validation loss,
    # so the validation loss is lowest after epoch 1 and rises from then on.
    return X, y, 1 - y


def _numpy_setup():
    model = nn.mlp([2, 8, 2], activation="tanh", seed=1, dtype=np.float64)
    return model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _torch_setup():
    np_model, _, _ = _numpy_setup()
    model = torch_nn.from_numpy(np_model)
    return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _weights(model):
    return {k: np.array(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("setup", [_numpy_setup, _torch_setup], ids=["numpy", "torch"])
def test_patience_stops_after_k_epochs_without_improvement(setup):
    X, y, y_wrong = _data()
    model, loss_fn, opt = setup()
    history = fit(model, loss_fn, opt, (X, y), epochs=20, batch_size=16, validation_data=(X, y_wrong),
                  patience=3, quiet=True)
    assert np.all(np.diff(history["val_loss"]) > 0)          # the premise: it only gets worse
    assert history.best_epoch == 1
    assert history.stopped_epoch == 4                        # epochs 2, 3, 4 did not improve
    assert history.epochs == 4


@pytest.mark.parametrize("setup", [_numpy_setup, _torch_setup], ids=["numpy", "torch"])
def test_restore_best_puts_back_the_weights_of_the_best_epoch(setup):
    X, y, y_wrong = _data()
    model, loss_fn, opt = setup()
    history = fit(model, loss_fn, opt, (X, y), epochs=6, batch_size=16, validation_data=(X, y_wrong),
                  restore_best=True, quiet=True)
    assert history.best_epoch == 1 and history.stopped_epoch is None and history.epochs == 6
    reference, ref_loss, ref_opt = setup()
    fit(reference, ref_loss, ref_opt, (X, y), epochs=1, batch_size=16, quiet=True)
    restored, after_one = _weights(model), _weights(reference)
    assert restored.keys() == after_one.keys()
    for name in restored:
        np.testing.assert_array_equal(restored[name], after_one[name])


def test_without_restore_best_the_last_weights_stay():
    X, y, y_wrong = _data()
    model, loss_fn, opt = _numpy_setup()
    fit(model, loss_fn, opt, (X, y), epochs=6, batch_size=16, validation_data=(X, y_wrong), quiet=True)
    reference, ref_loss, ref_opt = _numpy_setup()
    fit(reference, ref_loss, ref_opt, (X, y), epochs=1, batch_size=16, quiet=True)
    assert not np.array_equal(_weights(model)["0.weight"], _weights(reference)["0.weight"])


def test_a_run_that_keeps_improving_is_not_stopped():
    X, y, _ = _data()
    model, loss_fn, opt = _numpy_setup()
    history = fit(model, loss_fn, opt, (X, y), epochs=5, batch_size=16, validation_data=(X, y),
                  patience=2, restore_best=True, quiet=True)
    assert np.all(np.diff(history["val_loss"]) < 0)
    assert history.stopped_epoch is None
    assert history.best_epoch == 5


def test_no_validation_data_leaves_best_epoch_unset():
    X, y, _ = _data()
    model, loss_fn, opt = _numpy_setup()
    history = fit(model, loss_fn, opt, (X, y), epochs=2, quiet=True)
    assert history.best_epoch is None and history.stopped_epoch is None


@pytest.mark.parametrize("options, words", [
    ({"patience": 3}, "patience=3"),
    ({"restore_best": True}, "restore_best=True"),
])
def test_early_stopping_without_validation_data_names_the_fix(options, words):
    X, y, _ = _data()
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(ConfigError, match="validation_data") as error:
        fit(model, loss_fn, opt, (X, y), epochs=2, quiet=True, **options)
    assert words in str(error.value) and "validation_data=(X_val, y_val)" in str(error.value)


@pytest.mark.parametrize("patience", [0, -1, 2.5, True])
def test_patience_must_be_a_positive_whole_number(patience):
    X, y, _ = _data()
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(ConfigError, match="patience"):
        fit(model, loss_fn, opt, (X, y), validation_data=(X, y), patience=patience, quiet=True)


def test_restore_best_must_be_a_boolean():
    X, y, _ = _data()
    model, loss_fn, opt = _numpy_setup()
    with pytest.raises(ConfigError, match="True or False"):
        fit(model, loss_fn, opt, (X, y), validation_data=(X, y), restore_best="yes", quiet=True)
