"""The device helper: the choice it makes, what it moves, and the two classic device mistakes.

The 'meta' device (shapes, no storage) stands in for a GPU on this CPU-only machine: torch raises
the same errors for a meta tensor as for a CUDA one, so both mistakes are reproduced for real."""

from collections import namedtuple

import numpy as np
import pytest
import torch

from nncourse.errors import ConfigError, CourseError
from nncourse.scaling import device as dv


def test_auto_takes_the_best_available_device():
    assert dv.pick_device("auto", available=("cuda", "mps", "cpu")) == torch.device("cuda")
    assert dv.pick_device(available=("mps", "cpu")) == torch.device("mps")
    assert dv.pick_device(available=("cpu",)) == torch.device("cpu")
    assert dv.pick_device().type == dv.available_devices()[0]
    assert dv.available_devices()[-1] == "cpu"
    assert dv.pick_device("cuda:1", available=("cuda", "cpu")) == torch.device("cuda:1")


def test_asking_for_a_missing_device_says_so_and_how_to_fall_back():
    with pytest.raises(dv.DeviceError, match="no cuda device.*pick_device\\('auto'\\)"):
        dv.pick_device("cuda", available=("cpu",))
    with pytest.raises(dv.DeviceError, match="no mps device"):
        dv.pick_device("mps", available=("cpu",))
    with pytest.raises(dv.DeviceError, match="not a device name.*'auto'"):
        dv.pick_device("gpu")
    with pytest.raises(dv.DeviceError, match="not one the course trains on"):
        dv.pick_device("meta")
    assert issubclass(dv.DeviceError, ConfigError) and issubclass(dv.DeviceError, CourseError)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only answer")
def test_without_a_gpu_cuda_is_refused_for_real():
    with pytest.raises(dv.DeviceError, match="no cuda device"):
        dv.pick_device("cuda")


def test_to_device_moves_models_tensors_arrays_and_nested_batches():
    Batch = namedtuple("Batch", "x y")
    model = torch.nn.Linear(3, 2)
    assert dv.to_device(model, "meta") is model and model.weight.device.type == "meta"
    batch = {"x": np.ones((2, 3)), "pair": (torch.zeros(2), [torch.ones(1), 5]), "nt": Batch(torch.ones(1), "s")}
    moved = dv.to_device(batch, "meta")
    assert moved["x"].device.type == "meta" and moved["x"].shape == (2, 3)
    assert isinstance(moved["pair"], tuple) and moved["pair"][0].device.type == "meta"
    assert moved["pair"][1][1] == 5 and isinstance(moved["pair"][1], list)
    assert isinstance(moved["nt"], Batch) and moved["nt"].y == "s" and moved["nt"].x.device.type == "meta"


def test_wrong_device_is_a_real_torch_error_and_the_helper_names_the_fix():
    model = torch.nn.Linear(3, 2)                     # on the CPU
    x = torch.ones(4, 3, device="meta")               # "on another device"
    with pytest.raises(RuntimeError, match="device"):
        model(x)                                      # torch's own error
    with pytest.raises(dv.DeviceError, match=r"x is on meta.*parameters are on cpu.*x\.to\(device\)"):
        dv.check_same_device(model, x, names=["x"])
    with pytest.raises(dv.DeviceError, match="NumPy array.*to_device"):
        dv.check_same_device(model, np.ones((4, 3)), names=["x"])
    assert dv.check_same_device(model, torch.ones(4, 3)) == torch.device("cpu")
    assert dv.check_same_device(torch.nn.ReLU(), x) == torch.device("cpu")   # no parameters: nothing to compare
    assert dv.device_of(torch.nn.ReLU()) is None
    with pytest.raises(dv.DeviceError, match="tensor or a torch.nn.Module"):
        dv.device_of([1, 2])


def test_numpy_from_another_device_is_a_real_torch_error_and_to_numpy_is_the_fix():
    t = torch.ones(3, device="meta")
    with pytest.raises(TypeError, match="Tensor.cpu"):
        t.numpy()                                     # torch's own error (the same for cuda:0)
    with pytest.raises(dv.DeviceError, match=r"NumPy reads CPU memory only.*\.detach\(\)\.cpu\(\)\.numpy\(\)"):
        dv.require_cpu(t, "t")
    w = torch.ones(3, requires_grad=True) * 2         # a tensor in a graph: .numpy() would fail too
    assert np.array_equal(dv.to_numpy(w), np.full(3, 2.0))
    assert dv.to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32
    assert dv.require_cpu(w) is w
    with pytest.raises(dv.DeviceError, match="no values"):
        dv.to_numpy(t)
    with pytest.raises(dv.DeviceError, match="expects a tensor"):
        dv.to_numpy([1.0])


def test_loader_settings_pin_memory_only_for_cuda():
    assert dv.loader_settings("cuda")["pin_memory"] is True
    assert dv.loader_settings("cpu") == {"num_workers": 0, "pin_memory": False, "persistent_workers": False}
    assert dv.loader_settings("mps", num_workers=2)["persistent_workers"] is True
    with pytest.raises(ConfigError, match="num_workers must be an integer >= 0"):
        dv.loader_settings("cpu", num_workers=-1)
