"""The chapter-12 ResNet: NumPy and torch twins agree (forward, backward, a whole fit run), convert and save."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse import io
from nncourse.errors import ConfigError, ShapeError
from nncourse.models import BasicBlock, ResNet
from nncourse.models.torch import ResNet as TorchResNet
from nncourse.torch_nn import from_numpy
from nncourse.train import fit


def _pair(**kwargs):
    ours = ResNet(dtype=np.float64, **kwargs)
    return ours, TorchResNet(dtype=torch.float64, **kwargs)


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_forward_and_backward_match_torch(residual, batch_norm, training):
    ours, theirs = _pair(blocks=(1, 2), widths=(4, 6), residual=residual, batch_norm=batch_norm, seed=3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    if not training:      # make the running statistics non-trivial first
        for _ in range(2):
            x = rng.normal(size=(6, 1, 12, 12))
            ours(x)
            theirs(torch.from_numpy(x))
    ours.train(training)
    theirs.train(training)
    x = rng.normal(size=(5, 1, 12, 12))
    g = rng.normal(size=(5, 10))
    y = ours(x)
    gx = ours.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    grads = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad, grads[name].grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)
    state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, state[name].numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


def test_a_block_gradchecks_with_and_without_projection():
    rng = np.random.default_rng([7, 12])
    for block in (BasicBlock(3, 3, dtype=np.float64, seed=1), BasicBlock(2, 4, stride=2, dtype=np.float64, seed=2)):
        x = rng.normal(size=(3, block.in_channels, 5, 5))
        result = nn.gradcheck(block, x)
        assert result.passed, result


def test_fit_matches_torch_fit_in_float64():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(48, 1, 10, 10))
    y = rng.integers(0, 10, size=48)
    X_val, y_val = rng.normal(size=(20, 1, 10, 10)), rng.integers(0, 10, size=20)
    ours, theirs = _pair(blocks=(1, 1), widths=(4, 8), seed=0)
    h_np = fit(ours, nn.CrossEntropyLoss(), nn.SGD(ours.parameters(), lr=0.05, momentum=0.9),
               (X, y), epochs=3, batch_size=16, validation_data=(X_val, y_val), seed=0, quiet=True)
    h_t = fit(theirs, torch.nn.CrossEntropyLoss(), torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9),
              (X, y), epochs=3, batch_size=16, validation_data=(X_val, y_val), seed=0, quiet=True)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(h_np[key], h_t[key], rtol=1e-9, atol=1e-12, err_msg=key)
    state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, state[name].numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    assert int(ours.bn1.num_batches_tracked) == 9          # 3 epochs × 3 batches: trained in training mode
    assert ours.training                                     # fit leaves the model in training mode


def test_fit_evaluates_in_evaluation_mode():
    """Validation runs with the running statistics: the same loss as evaluating by hand after model.eval()."""

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(32, 1, 8, 8)), rng.integers(0, 10, size=32)
    model = ResNet(blocks=(1,), widths=(4,), dtype=np.float64, seed=0)
    history = fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.01), (X, y), epochs=1,
                  batch_size=8, validation_data=(X, y), quiet=True)
    counted = int(model.bn1.num_batches_tracked)
    model.eval()
    by_hand = nn.CrossEntropyLoss()(model(X), y)
    assert counted == 4 and int(model.bn1.num_batches_tracked) == 4
    assert history["val_loss"][0] == pytest.approx(by_hand, rel=1e-12)


def test_conversion_both_ways_and_saving(tmp_path):
    ours = ResNet(blocks=(1, 1), widths=(4, 8), seed=5, dtype=np.float64)
    ours(np.random.default_rng(0).normal(size=(4, 1, 8, 8)))          # running statistics move
    ours.eval()
    twin = from_numpy(ours)
    assert isinstance(twin, TorchResNet) and not twin.training
    back = nn.from_torch(twin)
    assert isinstance(back, ResNet) and back.dtype == np.float64 and not back.training
    loaded = io.load_numpy_model(io.save_numpy_model(ours, tmp_path / "resnet"))
    x = np.random.default_rng(1).normal(size=(3, 1, 8, 8))
    for model in (back, loaded):
        np.testing.assert_array_equal(model(x), ours(x))
        assert model.get_config() == ours.get_config()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ConfigError, match="same length"):
        ResNet(blocks=(1, 1), widths=(8,))
    with pytest.raises(ConfigError, match="each entry of blocks"):
        ResNet(blocks=(0, 1, 1))
    with pytest.raises(ShapeError, match="reshape flattened digits"):
        ResNet()(np.zeros((2, 784), dtype=np.float32))
    model = ResNet()
    with pytest.raises(ShapeError, match="one value per channel"):
        model(np.zeros((1, 1, 1, 1), dtype=np.float32))


def test_depth_counts_the_layers_with_weights():
    assert ResNet(blocks=(1, 1, 1)).depth == 8 and ResNet(blocks=(3, 3, 3)).depth == 20
    plain = ResNet(blocks=(1, 1, 1), residual=False)
    assert plain.layer2[0].downsample is None
    assert not any("downsample" in name for name, _ in plain.named_parameters())


def test_from_numpy_finds_the_twin_without_importing_models_torch():
    """torch_nn's converter registers the model twins itself (a fresh interpreter, no import of models.torch)."""
    import subprocess
    import sys

    code = ("import numpy as np; from nncourse.models import ResNet; from nncourse.torch_nn import from_numpy; "
            "print(type(from_numpy(ResNet(blocks=(1,), widths=(4,)))).__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "nncourse.models.torch.resnet"
