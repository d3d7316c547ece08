"""Careless or hostile input to the public API: every case gets a course error that names the problem
and the fix (or, where the input is legitimate, keeps working). Nothing is silent, no raw traceback,
nothing damaged stays in a cache.

Each test asserts the error class and the key words of its message. No test touches the network:
mirrors are file:// folders in tmp_path.
"""

import json
import os
import stat
import tempfile

import numpy as np
import pytest
import torch

from nncourse import evaluation, io
from nncourse import numpy_nn as nn
from nncourse import torch_nn
from nncourse.data import download, mnist, mnist_raw_folder, read_idx, spirals, torch_mnist, write_idx
from nncourse.data import load_mnist, regression_curve
from nncourse.errors import (ConfigError, ConversionError, CourseError, DataError, DivergenceError, DTypeError,
                             NonFiniteError, ShapeError, TargetError)
from nncourse.numpy_nn import lr_scheduler, optim
from nncourse.train import DIVERGENCE_FACTOR, evaluate, fit, predict
from nncourse.utils import default_file_mode

from fake_mnist import write_fake_mnist


def _params():
    return [nn.Parameter(np.ones(3))]


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------ optimizer and scheduler settings


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda P: optim.SGD(P, lr=0.1, momentum=1.5), ["momentum must be in [0, 1)", "1.5", "0.9"]),
        (lambda P: optim.SGD(P, lr=0.1, momentum=1.0), ["momentum must be in [0, 1)", "blow up"]),
        (lambda P: optim.RMSprop(P, momentum=1.2), ["RMSprop", "momentum must be in [0, 1)"]),
        (lambda P: optim.RMSprop(P, alpha=1.0), ["RMSprop", "alpha must be in [0, 1)"]),
        (lambda P: optim.SGD(P, lr=0.1, momentum=0.9, nesterov="yes"), ["nesterov must be True or False"]),
        (lambda P: optim.Adam(P, amsgrad=1), ["amsgrad must be True or False"]),
        (lambda P: optim.RMSprop(P, centered="no"), ["centered must be True or False"]),
        (lambda P: optim.Adam(P, eps=-1e-8), ["Adam", "eps must be >= 0"]),
        (lambda P: optim.AdamW(P, weight_decay=-0.01), ["AdamW", "weight_decay must be >= 0"]),
        (lambda P: optim.AdamW(P, betas=(0.9, 1.0)), ["AdamW", "betas[1] must be in [0, 1)"]),
        (lambda P: optim.Adadelta(P, rho=-0.1), ["Adadelta", "rho must be in [0, 1]"]),
        (lambda P: optim.Adagrad(P, eps=-1.0), ["Adagrad", "eps must be >= 0"]),
        (lambda P: optim.SGD(P, lr=0.1, momentum=0.5, dampening=0.5, nesterov=True),
         ["nesterov=True needs momentum > 0 and dampening = 0", "nesterov=False"]),
    ],
)
def test_optimizer_hyperparameters_out_of_range_are_refused(make, words):
    with pytest.raises(ConfigError) as caught:
        make(_params())
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda opt: lr_scheduler.StepLR(opt, step_size=5, gamma=2.0), ["StepLR", "(0, 1]", "grow", "gamma=0.5"]),
        (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=1.5), ["ExponentialLR", "(0, 1]", "grow"]),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.5),
         ["eta_min (0.5)", "must not exceed", "learning rate (0.1)", "eta_min=0"]),
    ],
)
def test_scheduler_settings_that_raise_the_learning_rate_are_refused(make, words):
    opt = optim.SGD(_params(), lr=0.1)
    with pytest.raises(ConfigError) as caught:
        make(opt)
    for word in words:
        assert word in str(caught.value)


def test_momentum_just_below_one_is_still_accepted():
    optim.SGD(_params(), lr=0.1, momentum=0.999)
    optim.RMSprop(_params(), alpha=0.0, momentum=0.0)


def test_a_gradient_of_the_wrong_shape_is_refused_by_step():
    p = nn.Parameter(np.ones((2, 3)))
    p.grad = np.ones((1, 3))  # NumPy would broadcast it silently
    with pytest.raises(ShapeError, match=r"params\[0\] has shape \(2, 3\) but its \.grad has shape \(1, 3\)"):
        optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, np.ones((2, 3)))


def test_accumulating_a_gradient_of_the_wrong_shape_is_refused():
    p = nn.Parameter(np.ones((4, 2)))
    with pytest.raises(ShapeError, match=r"shape \(4, 2\) got a gradient of shape \(2,\).*transposes"):
        p.accumulate_grad(np.ones(2))
    p.accumulate_grad(np.ones((4, 2)))
    with pytest.raises(ShapeError, match="exactly its parameter's shape"):
        p.accumulate_grad(np.ones((1, 2)))
    np.testing.assert_array_equal(p.grad, np.ones((4, 2)))


# ------------------------------------------------------------------ one backward per forward


def _x(rows=5, cols=3):
    return np.random.default_rng(0).standard_normal((rows, cols))


def test_linear_backward_twice_after_one_forward_is_refused():
    layer = nn.Linear(3, 2, seed=0, dtype=np.float64)
    g = np.ones((5, 2))
    layer(_x())
    layer.backward(g)
    once = layer.weight.grad.copy()
    with pytest.raises(CourseError) as caught:
        layer.backward(g)
    message = str(caught.value)
    assert "Linear(3 → 2).backward() was called a second time" in message
    assert "doubling" in message and "Run the forward pass again" in message and "zero_grad()" in message
    np.testing.assert_array_equal(layer.weight.grad, once)  # nothing was added


@pytest.mark.parametrize("need_input_grad", [True, False])
def test_sequential_backward_twice_is_refused_before_any_gradient_changes(need_input_grad):
    model = nn.mlp([3, 4, 2], activation="tanh", seed=0, dtype=np.float64)
    g = np.ones((5, 2))
    model(_x())
    model.backward(g, need_input_grad=need_input_grad)
    before = {name: p.grad.copy() for name, p in model.named_parameters()}
    with pytest.raises(CourseError, match=r"Sequential\.backward\(\) was called a second time"):
        model.backward(g, need_input_grad=need_input_grad)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, before[name])


def test_forward_then_backward_twice_still_accumulates_like_torch():
    model = nn.mlp([3, 4, 2], seed=0, dtype=np.float64)
    g = np.ones((5, 2))
    model(_x())
    model.backward(g)
    once = model[0].weight.grad.copy()
    model(_x())
    model.backward(g)
    np.testing.assert_allclose(model[0].weight.grad, 2 * once)


def test_parameter_free_layers_may_be_asked_again_for_each_row_of_a_jacobian():
    softmax = nn.Softmax()
    z = np.array([[0.5, -1.0, 2.0]])
    s = softmax(z)[0]
    rows = [softmax.backward(np.eye(3)[[k]])[0] for k in range(3)]
    np.testing.assert_allclose(rows, np.diag(s) - np.outer(s, s), atol=1e-12)


def test_backward_before_any_forward_is_still_named_as_such():
    with pytest.raises(CourseError, match=r"called before forward\(\): run the forward pass first"):
        nn.Linear(3, 2).backward(np.ones((1, 2), dtype=np.float32))


# ------------------------------------------------------------------ losses called the wrong way


@pytest.mark.parametrize("loss_class", [nn.CrossEntropyLoss, nn.NLLLoss])
def test_class_losses_with_swapped_arguments_say_so(loss_class):
    logits = np.random.default_rng(0).standard_normal((4, 3))
    target = np.array([0, 2, 1, 0])
    with pytest.raises(DTypeError) as caught:
        loss_class()(target, logits)
    assert "arguments look swapped" in str(caught.value) and "loss_fn(output, target)" in str(caught.value)


def test_mse_with_integer_output_and_float_target_hints_at_swapped_arguments():
    with pytest.raises(DTypeError, match="arguments look swapped"):
        nn.MSELoss()(np.array([[1], [2]]), np.array([[0.5], [1.5]]))


def test_data_passed_to_the_loss_class_itself_says_create_the_loss_first():
    logits = np.zeros((2, 3))
    with pytest.raises(ConfigError) as caught:
        nn.CrossEntropyLoss(logits, np.array([0, 1]))
    assert "create the loss first" in str(caught.value)
    assert "loss_fn = CrossEntropyLoss(); loss = loss_fn(output, target)" in str(caught.value)


# ------------------------------------------------------------------ fit: what is passed in


def _spirals():
    X, y = spirals(200, turns=1.0, seed=0)
    return X.astype(np.float32), y


def _np_model():
    return nn.mlp([2, 16, 2], seed=0)


def test_a_loss_class_without_brackets_is_named():
    X, y = _spirals()
    model = _np_model()
    with pytest.raises(ConfigError, match=r"the class CrossEntropyLoss itself: add the brackets.*CrossEntropyLoss\(\)"):
        fit(model, nn.CrossEntropyLoss, nn.SGD(model.parameters(), lr=0.1), (X, y), quiet=True)


def test_an_optimizer_class_without_brackets_is_named():
    X, y = _spirals()
    with pytest.raises(ConfigError, match=r"the class SGD itself.*SGD\(model\.parameters\(\), lr=0\.1\)"):
        fit(_np_model(), nn.CrossEntropyLoss(), nn.SGD, (X, y), quiet=True)


def test_a_model_class_without_brackets_is_named():
    X, y = _spirals()
    with pytest.raises(ConfigError, match="got the class Linear itself: build the model first"):
        fit(nn.Linear, nn.CrossEntropyLoss(), None, (X, y), quiet=True)


def test_an_optimizer_built_on_another_models_parameters_is_refused():
    X, y = _spirals()
    old_model = _np_model()
    optimizer = nn.SGD(old_model.parameters(), lr=0.1)
    model = _np_model()  # the model cell was run again, the optimizer cell was not
    before = model.state_dict()
    with pytest.raises(ConfigError) as caught:
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=2, quiet=True)
    message = str(caught.value)
    assert "4 of its 4 parameters that are not in this model" in message
    assert "build the optimizer on model.parameters() after building the model" in message
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_torch_optimizer_built_on_another_models_parameters_is_refused():
    X, y = _spirals()
    optimizer = torch.optim.SGD(torch_nn.mlp([2, 16, 2], seed=0).parameters(), lr=0.1)
    model = torch_nn.mlp([2, 16, 2], seed=0)
    with pytest.raises(ConfigError, match="build the optimizer on model.parameters"):
        fit(model, torch.nn.CrossEntropyLoss(), optimizer, (X, y), quiet=True)


def test_optimizer_of_the_other_back_end_is_named():
    X, y = _spirals()
    model = torch_nn.mlp([2, 16, 2], seed=0)
    numpy_opt = nn.SGD(_np_model().parameters(), lr=0.1)
    with pytest.raises(ConfigError, match=r"a torch model needs a torch\.optim optimizer"):
        fit(model, torch.nn.CrossEntropyLoss(), numpy_opt, (X, y), quiet=True)


def test_loss_of_the_other_back_end_is_named():
    X, y = _spirals()
    model = _np_model()
    with pytest.raises(ConfigError, match=r"needs a numpy_nn loss.*nncourse\.numpy_nn\.CrossEntropyLoss\(\)"):
        fit(model, torch.nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, y), quiet=True)
    tmodel = torch_nn.mlp([2, 16, 2], seed=0)
    with pytest.raises(ConfigError, match=r"a torch model needs a torch loss.*torch\.nn\.CrossEntropyLoss\(\)"):
        fit(tmodel, nn.CrossEntropyLoss(), torch.optim.SGD(tmodel.parameters(), lr=0.1), (X, y), quiet=True)


def test_a_scheduler_built_on_another_optimizer_is_refused():
    X, y = _spirals()
    model = _np_model()
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    stale = lr_scheduler.StepLR(nn.SGD(model.parameters(), lr=0.1), step_size=2)
    with pytest.raises(ConfigError, match="scheduler was built on another optimizer.*StepLR\\(optimizer"):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), scheduler=stale, quiet=True)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_labels_out_of_range_for_the_model_are_named_before_training(backend):
    X, y = _spirals()
    y = y.copy()
    y[7] = 2  # three classes in the data, two outputs in the model
    if backend == "numpy":
        model, loss_fn = _np_model(), nn.CrossEntropyLoss()
        optimizer = nn.SGD(model.parameters(), lr=0.1)
    else:
        model, loss_fn = torch_nn.mlp([2, 16, 2], seed=0), torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TargetError) as caught:
        fit(model, loss_fn, optimizer, (X, y), quiet=True)
    message = str(caught.value)
    assert "y holds the class 2, but the model has 2 outputs" in message
    assert "classes must be 0..1" in message and "as many outputs as there are classes (e.g. 3)" in message


def test_float_labels_for_cross_entropy_with_a_torch_model_are_named():
    X, y = _spirals()
    model = torch_nn.mlp([2, 16, 2], seed=0)
    with pytest.raises(TargetError, match=r"integer class indices.*y\.astype\(np\.int64\)"):
        fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
            (X, y.astype(np.float32)), quiet=True)


def test_one_hot_labels_are_named():
    X, y = _spirals()
    model = _np_model()
    with pytest.raises(TargetError, match=r"one-hot encoded; pass class indices y\.argmax\(axis=1\)"):
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, np.eye(2)[y]), quiet=True)


def test_binary_targets_of_the_wrong_shape_with_a_torch_model_are_named():
    X, y = _spirals()
    model = torch_nn.mlp([2, 8, 1], seed=0)
    with pytest.raises(ShapeError, match=r"output has shape \(200, 1\) but y has shape \(200,\).*y\.reshape\(200, 1\)"):
        fit(model, torch.nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
            (X, y.astype(np.float32)), quiet=True)


def test_validation_labels_out_of_range_are_named():
    X, y = _spirals()
    model = _np_model()
    y_val = y[:20].copy()
    y_val[3] = 9
    with pytest.raises(TargetError, match="validation_data: y holds the class 9"):
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, y),
            validation_data=(X[:20], y_val), quiet=True)


def test_a_model_whose_weights_are_already_nan_is_named():
    X, y = _spirals()
    model = _np_model()
    model[0].weight.data[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="weights already contain NaN.*build a new model"):
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, y), quiet=True)


# ------------------------------------------------------------------ fit: the divergence rule


def test_a_loss_that_explodes_without_nan_is_reported_as_divergence():
    # The case: SGD(lr=1e4) on spirals, 20 epochs: the loss reaches ~1e20 but stays finite.
    X, y = _spirals()
    model = _np_model()
    with pytest.raises(DivergenceError) as caught:
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=1e4), (X, y), epochs=20, quiet=True)
    message = str(caught.value)
    assert "Training diverged: the mean training loss of epoch 1" in message
    assert f"grew above {DIVERGENCE_FACTOR:g}x the reference loss" in message
    assert "try 1000" in message
    assert "NaN or infinite, or when an epoch's mean training loss exceeds 10x the reference" in message


def test_the_torch_back_end_follows_the_same_divergence_rule():
    X, y = _spirals()
    model = torch_nn.mlp([2, 16, 2], seed=0)
    with pytest.raises(DivergenceError, match="grew above 10x the reference loss"):
        fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1e4), (X, y),
            epochs=20, quiet=True)


@pytest.mark.parametrize("lr", [0.05, 0.5, 1.0])
def test_ordinary_runs_are_not_called_diverged(lr):
    X, y = _spirals()
    model = _np_model()
    history = fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=lr, momentum=0.9), (X, y),
                  epochs=30, quiet=True)
    assert history.epochs == 30


def test_regression_from_a_pretrained_model_is_not_called_diverged():
    # A small starting loss is not the yardstick alone: the know-nothing loss (variance of y) is.
    X, y = regression_curve(80, seed=0)
    model = nn.mlp([1, 16, 1], activation="tanh", seed=0, dtype=np.float64)
    fit(model, nn.MSELoss(), nn.Adam(model.parameters(), lr=0.01), (X, y), epochs=40, quiet=True)
    history = fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.05, momentum=0.9), (X, y), epochs=5,
                  quiet=True)
    assert history.epochs == 5


# ------------------------------------------------------------------ predict and evaluate


def test_predict_on_an_empty_array_is_named():
    with pytest.raises(ShapeError, match=r"predict got no examples \(X has shape \(0, 2\)\).*at least one row"):
        predict(_np_model(), np.zeros((0, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match="predict got no examples"):
        predict(torch_nn.mlp([2, 4, 2]), np.zeros((0, 2), dtype=np.float32))


def test_predict_with_a_torch_model_and_the_wrong_width_is_named():
    model = torch_nn.mlp([2, 4, 2])
    with pytest.raises(ShapeError,
                       match=r"X has 3 features per example but the model's first layer \(Linear\) expects 2"):
        predict(model, np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"flatten images first with X\.reshape\(len\(X\), -1\)"):
        predict(model, np.zeros((5, 1, 2), dtype=np.float32))


def test_evaluate_with_mismatched_lengths_is_named():
    X, y = _spirals()
    with pytest.raises(ShapeError, match="evaluate: X has 200 rows but y has 199"):
        evaluate(_np_model(), nn.CrossEntropyLoss(), X, y[:-1])


def test_scores_with_nan_are_not_turned_into_class_0():
    with pytest.raises(NonFiniteError, match="NaN or infinite.*did training diverge"):
        evaluation.accuracy(np.array([0, 1]), np.array([[np.nan, np.nan], [0.1, 0.9]]))
    with pytest.raises(NonFiniteError, match="probs_or_logits contain NaN"):
        evaluation.most_confident_mistakes(np.array([[np.nan, 1.0], [0.1, 0.9]]), np.array([0, 1]))


def test_a_fractional_number_of_classes_is_named():
    with pytest.raises(ConfigError, match=r"n_classes must be a whole number.*got 2\.5"):
        evaluation.confusion_matrix(np.array([0, 1]), np.array([0, 1]), n_classes=2.5)


# ------------------------------------------------------------------ saved models


def _saved(tmp_path):
    return io.save_numpy_model(nn.mlp([3, 4, 2], seed=0), tmp_path / "model.npz")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_truncated_or_damaged_npz_is_a_data_error(tmp_path, damage):
    path = _saved(tmp_path)
    content = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(content[: len(content) // 2])
    else:
        middle = len(content) // 3
        path.write_bytes(content[:middle] + bytes(64) + content[middle + 64:])
    with pytest.raises(DataError) as caught:
        io.load_numpy_model(path)
    assert "is damaged or truncated" in str(caught.value) and "Save the model again" in str(caught.value)


def _rewrite_architecture(path, edit):
    with np.load(path) as contents:
        arrays = {name: contents[name] for name in contents.files}
    architecture = json.loads(str(arrays["architecture"]))
    edit(architecture)
    arrays["architecture"] = np.array(json.dumps(architecture))
    np.savez(path, **arrays)


def test_an_architecture_with_missing_keys_names_the_layer_and_the_key(tmp_path):
    path = _saved(tmp_path)
    _rewrite_architecture(path, lambda a: a["model"]["layers"][2].pop("out_features"))
    with pytest.raises(DataError) as caught:
        io.load_numpy_model(path)
    message = str(caught.value)
    assert "cannot rebuild model.2 (Linear): its description lacks 'out_features'" in message
    assert "save the model again" in message


def test_an_architecture_with_values_of_the_wrong_type_is_a_data_error(tmp_path):
    path = _saved(tmp_path)
    _rewrite_architecture(path, lambda a: a["model"]["layers"][0].update(in_features="three"))
    with pytest.raises(DataError, match="architecture and weights do not fit together.*in_features"):
        io.load_numpy_model(path)


def test_an_architecture_without_its_model_entry_is_a_data_error(tmp_path):
    path = _saved(tmp_path)
    _rewrite_architecture(path, lambda a: a.pop("model"))
    with pytest.raises(DataError, match="lacks its 'model' entry; save the model again"):
        io.load_numpy_model(path)


def test_saved_models_get_the_normal_file_mode(tmp_path):
    numpy_path = _saved(tmp_path)
    torch_path = io.save_torch_model(torch_nn.mlp([3, 4, 2]), tmp_path / "model.pt")
    assert _mode(numpy_path) == _mode(torch_path) == default_file_mode()
    assert default_file_mode() & 0o044  # readable by others with the usual umask (0o022)


def test_saving_with_the_wrong_saver_is_named(tmp_path):
    with pytest.raises(ConversionError, match=r"for a torch model use save_torch_model\(model, path\)"):
        io.save_numpy_model(torch_nn.mlp([3, 4, 2]), tmp_path / "m.npz")
    with pytest.raises(ConversionError, match=r"for a numpy_nn model use save_numpy_model\(model, path\)"):
        io.save_torch_model(nn.mlp([3, 4, 2]), tmp_path / "m.pt")


def test_saving_into_a_folder_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(DataError, match="cannot write the model to .*not_a_folder.*save it into another folder"):
        io.save_numpy_model(nn.mlp([3, 4, 2]), blocker / "model.npz")


# ------------------------------------------------------------------ the MNIST cache


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A file:// mirror holding four small fake MNIST files whose md5 values replace torchvision's."""
    monkeypatch.delenv("NNCOURSE_MNIST_SAMPLE", raising=False)
    folder = tmp_path / "mirror"
    arrays, md5 = write_fake_mnist(folder)
    monkeypatch.setattr(download, "MNIST_MIRRORS", (folder.as_uri() + "/",))
    monkeypatch.setattr(download, "MNIST_MD5", md5)
    return arrays


def test_a_corrupt_gzip_stream_is_a_data_error_not_a_zlib_error(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.arange(5000, dtype=np.uint8) % 10)
    content = bytearray(path.read_bytes())
    content[20:40] = b"\xff" * 20  # inside the deflate data: zlib.error without the course's handling
    path.write_bytes(bytes(content))
    with pytest.raises(DataError, match="gzip stream is damaged or truncated.*download it again"):
        read_idx(path)


def test_downloaded_and_decompressed_files_get_the_normal_file_mode(tmp_path, mirror):
    pytest.importorskip("torchvision")
    torch_mnist(tmp_path, quiet=True)
    raw = mnist_raw_folder(tmp_path)
    modes = {p.name: _mode(p) for p in raw.iterdir()}
    assert len(modes) == 8  # four .gz files and torchvision's four decompressed copies
    assert set(modes.values()) == {default_file_mode()}


def test_a_damaged_torchvision_copy_of_the_right_size_is_rewritten(tmp_path, mirror, capsys):
    pytest.importorskip("torchvision")
    torch_mnist(tmp_path, quiet=True)
    copy = mnist_raw_folder(tmp_path) / "train-labels-idx1-ubyte"
    content = bytearray(copy.read_bytes())
    content[-1] = (content[-1] + 1) % 10  # same size, one label changed
    copy.write_bytes(bytes(content))
    dataset = torch_mnist(tmp_path, quiet=True)
    printed = capsys.readouterr().out
    assert "train-labels-idx1-ubyte does not match train-labels-idx1-ubyte.gz; writing it again" in printed
    np.testing.assert_array_equal(dataset.targets.numpy(), mirror["train-labels-idx1-ubyte.gz"])


def test_a_damaged_copy_of_the_offline_sample_is_rewritten(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torchvision")
    sample, arrays = _fake_sample(tmp_path, monkeypatch)
    torch_mnist(tmp_path / "data", sample=sample)
    cached = tmp_path / "data" / mnist.SAMPLE_CACHE_NAME / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    content = bytearray(cached.read_bytes())
    content[-1] = (content[-1] + 1) % 10
    cached.write_bytes(bytes(content))
    dataset = torch_mnist(tmp_path / "data", sample=sample)
    np.testing.assert_array_equal(dataset.targets.numpy(), arrays["t10k-labels-idx1-ubyte.gz"][:3])


def test_a_damaged_file_is_removed_even_when_the_download_fails(tmp_path, mirror, monkeypatch):
    raw = mnist_raw_folder(tmp_path)
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"damaged")
    monkeypatch.setattr(download, "MNIST_MIRRORS", ((tmp_path / "nowhere").as_uri() + "/",))
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path, quiet=True)
    assert "t10k-images-idx3-ubyte.gz: corrupt or incomplete" in str(caught.value)
    assert "removed" in str(caught.value)
    assert not (raw / "t10k-images-idx3-ubyte.gz").exists()


def test_a_read_only_cache_is_named_as_such_not_as_a_network_problem(tmp_path, mirror, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    mnist_raw_folder(tmp_path).mkdir(parents=True)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # what a read-only folder does to new files
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path, quiet=True)
    message = str(caught.value)
    assert f"cannot write the MNIST files to {mnist_raw_folder(tmp_path)}: Permission denied" in message
    assert "set NNCOURSE_DATA to a writable folder, or pass root=..." in message
    assert "internet" not in message


def test_a_data_root_below_a_file_is_named_as_unwritable(tmp_path, mirror):
    blocker = tmp_path / "data.txt"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match="cannot write the MNIST files to .*data.txt.*NNCOURSE_DATA") as caught:
        load_mnist(blocker, quiet=True)
    assert "internet" not in str(caught.value)


def test_writing_an_idx_file_into_a_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot write .*labels.*folder exists and is writable"):
        write_idx(tmp_path / "missing" / "labels", np.zeros(3, dtype=np.uint8))


# ------------------------------------------------------------------ seeds and dtypes


@pytest.mark.parametrize("seed", ["0", 1.5, -1, True])
def test_a_seed_that_is_not_a_whole_number_is_named(seed):
    with pytest.raises(ConfigError, match=r"seed must be a whole number >= 0 \(or None"):
        nn.Linear(2, 3, seed=seed)


def test_fit_with_a_string_seed_is_named():
    X, y = _spirals()
    model = _np_model()
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, y), seed="0", quiet=True)


def test_an_rng_that_is_not_a_generator_is_named():
    with pytest.raises(ConfigError,
                       match=r"rng must be a numpy\.random\.Generator, e\.g\. np\.random\.default_rng\(0\)"):
        nn.Dropout(0.5, rng=np.random.RandomState(0))


def test_load_mnist_with_an_integer_dtype_and_normalize_is_named(mirror, tmp_path):
    with pytest.raises(DTypeError, match=r"needs a float dtype such as np\.float32, got int32.*normalize=False"):
        load_mnist(tmp_path, dtype=np.int32, quiet=True)


def _fake_sample(tmp_path, monkeypatch):
    sample = tmp_path / "sample"
    arrays, md5 = write_fake_mnist(sample, n_test=5)
    for name in mnist.TRAIN_FILES:
        (sample / name).unlink()
    monkeypatch.setattr(mnist, "SAMPLE_MD5", {name: md5[name] for name in mnist.TEST_FILES})
    monkeypatch.setattr(mnist, "SAMPLE_TRAIN_SIZE", 3)
    return sample, arrays


def test_an_unwritable_data_root_sends_the_sample_copy_to_the_temporary_folder(tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    sample, arrays = _fake_sample(tmp_path, monkeypatch)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    blocker = tmp_path / "data.txt"
    blocker.write_text("not a folder")
    dataset = torch_mnist(blocker, train=False, sample=sample)
    np.testing.assert_array_equal(dataset.targets.numpy(), arrays["t10k-labels-idx1-ubyte.gz"][3:])
    assert (tmp_path / "tmp" / "nncourse" / mnist.SAMPLE_CACHE_NAME).is_dir()


def test_when_no_folder_is_writable_the_sample_copy_error_names_the_fix(tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    sample, _ = _fake_sample(tmp_path, monkeypatch)
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("not a folder")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    with pytest.raises(DataError, match="cannot write torchvision's copy of the MNIST sample.*NNCOURSE_DATA"):
        torch_mnist(blocker, sample=sample)
