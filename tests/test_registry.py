"""The registry of twins and saveable layers, and module buffers (state that is saved, not learned)."""

import numpy as np
import pytest
import torch

from nncourse import io, numpy_nn as nn
from nncourse.errors import ConversionError, DataError, DTypeError
from nncourse.numpy_nn import registry
from nncourse.torch_nn import from_numpy


class TorchScale(torch.nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


@registry.saveable
@registry.twin_of(TorchScale, from_torch=lambda layer, where, rng: Scale(float(layer.factor)),
                  to_torch=lambda layer, where: TorchScale(layer.factor))
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor
        self.register_buffer("calls", np.zeros((), dtype=np.int64))

    def get_config(self):
        return {"factor": self.factor}

    def forward(self, x):
        self.calls = self.calls + 1
        return x * self.factor


def test_a_registered_layer_converts_both_ways_and_saves(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, seed=0), Scale(2.5))
    model(np.ones((4, 2), dtype=np.float32))
    path = io.save_numpy_model(model, tmp_path / "scaled")
    loaded = io.load_numpy_model(path)
    assert isinstance(loaded[1], Scale) and loaded[1].factor == 2.5
    assert int(loaded[1].calls) == 1          # the buffer travelled with the weights
    twin = from_numpy(loaded)
    assert isinstance(twin[1], TorchScale) and twin[1].factor == 2.5
    back = nn.from_torch(twin)
    assert isinstance(back[1], Scale)
    assert "Scale" in registry.saveable_names()
    assert f"{__name__}.TorchScale" in registry.registered_torch_names()


def test_a_saved_config_without_a_required_argument_is_a_clear_error(tmp_path):
    io.save_numpy_model(Scale(1.0), tmp_path / "s")
    spec = registry.saveable_class("Scale")
    assert spec is Scale
    with pytest.raises(DataError, match="lacks 'factor'"):
        io.build_layer({"type": "Scale"})


def test_unregistered_layers_name_the_supported_ones():
    class Lonely(nn.Module):
        pass

    with pytest.raises(ConversionError, match="Supported numpy_nn layers"):
        registry.convert_to_torch(Lonely(), "model")


def test_saveable_refuses_a_class_with_arguments_but_no_config():
    class NeedsWidth(nn.Module):
        def __init__(self, width):
            super().__init__()

    with pytest.raises(TypeError, match="define get_config"):
        registry.saveable(NeedsWidth)


def test_buffers_are_in_the_state_dict_after_parameters_but_not_learned():
    layer = Scale(1.0)
    outer = nn.Sequential(nn.Linear(2, 2, seed=0), layer)
    assert list(outer.state_dict()) == ["0.weight", "0.bias", "1.calls"]
    assert all(p.shape != () for p in outer.parameters())     # the buffer is no parameter
    state = outer.state_dict()
    state["1.calls"] = np.array(7)
    outer.load_state_dict(state)
    assert int(layer.calls) == 7 and int(layer._buffers["calls"]) == 7


def test_float_buffers_follow_the_dtype_and_counters_stay_integers():
    module = nn.Module()
    module.register_buffer("running_mean", np.zeros(3, dtype=np.float32))
    module.register_buffer("count", np.zeros((), dtype=np.int64))
    module.double()
    assert module.running_mean.dtype == np.float64 and module.count.dtype == np.int64


def test_register_buffer_needs_an_array():
    with pytest.raises(DTypeError, match="expects a NumPy array"):
        nn.Module().register_buffer("x", [1, 2])
