"""Saving and loading models: round trips for both back ends, no pickle, clear errors."""

import json
import zipfile

import numpy as np
import pytest

from nncourse import numpy_nn as nn
from nncourse.errors import ConversionError, DataError
from nncourse.io import load_numpy_model, load_torch_model, save_numpy_model, save_torch_model


def every_layer_model():
    return nn.Sequential(
        nn.Linear(4, 6, seed=1), nn.ReLU(), nn.Dropout(0.25), nn.Linear(6, 5, bias=False, seed=2),
        nn.LeakyReLU(0.2), nn.Sequential(nn.Linear(5, 5, seed=3), nn.Tanh()), nn.Sigmoid(), nn.Identity(),
        nn.Step(), nn.Linear(5, 3, seed=4), nn.Softmax(dim=-1),
    )


def test_numpy_round_trip_restores_layers_weights_and_outputs(tmp_path):
    model = every_layer_model()
    model.eval()
    path = save_numpy_model(model, tmp_path / "model")
    assert path == tmp_path / "model.npz" and path.is_file()
    loaded = load_numpy_model(path)
    assert [type(layer).__name__ for layer in loaded] == [type(layer).__name__ for layer in model]
    assert loaded[4].negative_slope == 0.2 and loaded[2].p == 0.25 and loaded[3].bias is None
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)
        assert loaded.state_dict()[name].dtype == value.dtype
    assert not loaded.training
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_numpy_round_trip_of_an_mlp_in_float64(tmp_path):
    model = nn.mlp([3, 8, 2], activation="tanh", seed=5, dtype=np.float64)
    loaded = load_numpy_model(save_numpy_model(model, tmp_path / "mlp.npz"))
    x = np.random.default_rng(1).normal(size=(4, 3))
    np.testing.assert_array_equal(loaded(x), model(x))
    assert loaded[0].weight.dtype == np.float64


def test_the_file_holds_json_and_plain_arrays_only(tmp_path):
    path = save_numpy_model(nn.mlp([2, 3, 1], seed=0), tmp_path / "m.npz")
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(["architecture.npy", "0.weight.npy", "0.bias.npy", "2.weight.npy", "2.bias.npy"])
    with np.load(path, allow_pickle=False) as contents:  # loads without pickle
        architecture = json.loads(str(contents["architecture"]))
    assert architecture["model"]["type"] == "Sequential"
    assert [layer["type"] for layer in architecture["model"]["layers"]] == ["Linear", "ReLU", "Linear"]


def test_unsupported_layers_and_foreign_files_give_clear_errors(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ConversionError, match="Custom"):
        save_numpy_model(nn.Sequential(nn.Linear(2, 2), Custom()), tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists() and list(tmp_path.iterdir()) == []
    np.savez(tmp_path / "plain.npz", weights=np.zeros(3))
    with pytest.raises(DataError, match="architecture"):
        load_numpy_model(tmp_path / "plain.npz")
    with pytest.raises(DataError, match="no saved model"):
        load_numpy_model(tmp_path / "missing.npz")


def test_torch_round_trip_restores_the_weights(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    path = save_torch_model(model, tmp_path / "model.pt")
    torch.manual_seed(1)
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(5, 4)
    assert not torch.equal(fresh(x), model(x))
    returned = load_torch_model(fresh, path)
    assert returned is fresh
    assert torch.equal(fresh(x), model(x))
    assert list(tmp_path.iterdir()) == [path]
    # The file is a plain state dict that torch's safe loader accepts.
    state = torch.load(path, weights_only=True)
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_torch_loading_into_a_different_architecture_is_a_data_error(tmp_path):
    torch = pytest.importorskip("torch")
    path = save_torch_model(torch.nn.Linear(4, 3), tmp_path / "small.pt")
    with pytest.raises(DataError, match="does not fit"):
        load_torch_model(torch.nn.Linear(4, 5), path)
    with pytest.raises(DataError, match="no saved model"):
        load_torch_model(torch.nn.Linear(4, 3), tmp_path / "nothing.pt")
