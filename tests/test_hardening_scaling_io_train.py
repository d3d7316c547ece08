"""Contract sweep fixes for scaling (chapter 15), io, evaluation, results, train and recipes: hostile
arguments get a course error that names the argument and the fix (issue 27, section 4)."""

import numpy as np
import pytest
import torch

import nncourse.numpy_nn as nn
from nncourse import evaluation, io, results
from nncourse.errors import ConfigError, ConversionError, DataError, DTypeError, NonFiniteError, ShapeError
from nncourse.recipes import MNIST_RECIPES, Recipe, mnist_recipe
from nncourse.scaling import (accumulate_gradients, all_reduce_mean, check_same_device, gradients,
                              latest_checkpoint, micro_batches, naive_all_reduce_bytes, pick_device, require_cpu,
                              ring_all_reduce, ring_bytes_per_worker, save_checkpoint, set_rng_state, shard_batch,
                              to_device, worker_gradients)
from nncourse.scaling import ddp
from nncourse.scaling.device import DeviceError
from nncourse.scaling.memory import scaling_figures
from nncourse.scaling.profiling import time_by_label
from nncourse.scaling.resumable import build_run
from nncourse.train import evaluate, fit, predict


def _xy(n=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


# ------------------------------------------------------------------ scaling: data parallelism, accumulation


def test_batches_with_nan_or_ragged_rows_are_named():
    x, y = _xy()
    bad = y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"shard_batch: the batch's y contains 1 NaN"):
        shard_batch(x, bad, 2)
    with pytest.raises(ShapeError, match=r"shard_batch: x must be a rectangular array.*same length"):
        shard_batch([[1.0, 2.0], [3.0]], y[:2], 2)
    with pytest.raises(NonFiniteError, match=r"gradients: the batch's y contains 1 NaN"):
        gradients(nn.Linear(3, 1, seed=0), nn.MSELoss(), x, bad)


def test_integer_inputs_into_a_linear_torch_model_are_refused_before_torch():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x, y = (torch.from_numpy(a) for a in _xy())
    with pytest.raises(DTypeError, match=r"accumulate_gradients: x holds torch.int64.*x = x.float\(\)"):
        accumulate_gradients(model, torch.nn.MSELoss(), x.long(), y, 4)
    assert model.weight.grad is None                           # refused before any backward pass


def test_counts_and_lists_of_workers_are_named():
    with pytest.raises(ShapeError, match=r"micro_batches: n \(the number of examples\) must be at least 1, got 0"):
        micro_batches(0, 2)
    with pytest.raises(ConfigError, match=r"all_reduce_mean: grads must hold the gradients of at least one worker"):
        all_reduce_mean([])
    with pytest.raises(ConfigError, match=r"weight must be a finite number >= 0, got \[nan, 0.5\]: weights are the"):
        all_reduce_mean([{"w": np.ones(2)}, {"w": np.ones(2)}], [np.nan, 0.5])
    with pytest.raises(ConfigError, match=r"ring_all_reduce: arrays must be a list with one array per worker"):
        ring_all_reduce([])
    with pytest.raises(ShapeError, match=r"ring_all_reduce: in arrays, worker 1 holds \(3,\)"):
        ring_all_reduce([np.ones(4), np.ones(3)])
    with pytest.raises(ConfigError, match=r"worker_gradients: models holds 0 model copies for 2 shards.*replicate"):
        worker_gradients([], nn.MSELoss(), shard_batch(*_xy(), 2))


def test_byte_counts_must_be_whole():
    with pytest.raises(ConfigError, match=r"ring_bytes_per_worker: nbytes must be a whole number of bytes, got 2.5"):
        ring_bytes_per_worker(2.5, 4)
    with pytest.raises(ConfigError, match=r"naive_all_reduce_bytes: nbytes must be a whole number of bytes"):
        naive_all_reduce_bytes(2.5, 4)
    assert ring_bytes_per_worker(4.0e3, 4) == 6000.0           # a whole float is a byte count too
    assert naive_all_reduce_bytes(np.int64(96), 2) == 192       # NumPy integers are accepted
    with pytest.raises(ConfigError, match=r"tokens_per_worker must be a positive whole number, got 0"):
        scaling_figures(1000, 0, 2)


# ------------------------------------------------------------------ scaling: devices


def test_device_arguments_are_named():
    with pytest.raises(DeviceError, match=r"pick_device: preference must be 'auto' or a device name.*got NoneType"):
        pick_device(None)
    with pytest.raises(DeviceError, match=r"pick_device: preference '' is not a device name.*'auto'"):
        pick_device("")
    with pytest.raises(DeviceError, match=r"pick_device: available must be a list of device types.*leave it out"):
        pick_device("auto", available=[["cuda"], ["cpu"]])
    with pytest.raises(DeviceError, match=r"to_device: device 'gpu' is not a device name.*pass device='cpu'"):
        to_device(torch.ones(2), "gpu")
    with pytest.raises(DeviceError, match=r"check_same_device: names must give one name .* per tensor, 1 here"):
        check_same_device(torch.nn.Linear(3, 1), torch.ones(2, 3), names=[])
    with pytest.raises(ConfigError, match=r"require_cpu: what must be a string"):
        require_cpu(torch.ones(2), what=None)
    with pytest.raises(DeviceError, match=r"require_cpu: tensor must be a torch.Tensor.*torch.as_tensor"):
        require_cpu([[1.0, 2.0], [3.0]])


def test_a_missing_gpu_is_a_clear_device_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(DeviceError, match=r"no cuda device \(available: .*cpu\).*pick_device\('auto'\)"):
        pick_device("cuda")


# ------------------------------------------------------------------ scaling: checkpoints, DDP, profiling


def test_checkpoint_arguments_are_named(tmp_path):
    torch.manual_seed(0)
    with pytest.raises(DataError, match=r"save_checkpoint: path .* is a folder, not a file"):
        save_checkpoint(tmp_path, model=torch.nn.Linear(3, 1))
    with pytest.raises(ConfigError, match=r"latest_checkpoint: pattern must not be empty"):
        latest_checkpoint(tmp_path, pattern="")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"latest_checkpoint: folder .* cannot hold checkpoints: .* is a file"):
        latest_checkpoint(blocker / "runs")
    assert latest_checkpoint(tmp_path / "not yet") is None     # a fresh run: nothing to resume
    with pytest.raises(ConfigError, match=r"set_rng_state: state must be what rng_state\(\) returned"):
        set_rng_state({})
    with pytest.raises(ConfigError, match=r"build_run: seed must be a whole number >= 0, got -1"):
        build_run(seed=-1)


def test_ddp_config_refuses_bad_fields_when_built():
    with pytest.raises(ConfigError, match=r"DDPConfig: steps must be a whole number >= 1, got 0"):
        ddp.DDPConfig(steps=0)
    with pytest.raises(ConfigError, match=r"DDPConfig: lr must be a finite number > 0, got '0.1'"):
        ddp.DDPConfig(lr="0.1")
    with pytest.raises(ConfigError, match=r"DDPConfig: fail_rank must be a whole number >= 0, got -1"):
        ddp.DDPConfig(fail_rank=-1)
    with pytest.raises(ConfigError, match=r"DDPConfig: dtype must be 'float32' or 'float64', got None"):
        ddp.DDPConfig(dtype=None)
    assert ddp.DDPConfig(fail_rank=0, fail_at_step=1).fail_rank == 0
    with pytest.raises(ConfigError, match=r"make_dataset: config must be a DDPConfig.*DDPConfig\(\*\*config\)"):
        ddp.make_dataset({"steps": 1})
    with pytest.raises(ConfigError, match=r"max_difference: a and b are state_dicts with different keys"):
        ddp.max_difference({"w": torch.ones(2)}, {"v": torch.ones(2)})


def test_time_by_label_names_its_arguments():
    with pytest.raises(ConfigError, match=r"time_by_label: prof must be a finished torch.profiler.profile"):
        time_by_label(None, ["step"])
    with torch.profiler.profile() as prof:
        torch.ones(2) + 1
    with pytest.raises(ConfigError, match=r"time_by_label: labels must be a non-empty list"):
        time_by_label(prof, [])


# ------------------------------------------------------------------ io, evaluation, results


def test_model_files_name_the_path(tmp_path):
    with pytest.raises(DataError, match=r"load_numpy_model: no saved model at path .*check the path"):
        io.load_numpy_model(tmp_path / "missing" / "model.npz")
    with pytest.raises(DataError, match=r"load_torch_model: path .* is a folder, not a file"):
        io.load_torch_model(torch.nn.Linear(3, 2), tmp_path)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"save_torch_model: path .* cannot be written.*save it into another folder"):
        io.save_torch_model(torch.nn.Linear(3, 2), blocker / "model.pt")
    with pytest.raises(DataError, match=r"load_torch_model: no saved model at path .*a_file is a file, not a folder"):
        io.load_torch_model(torch.nn.Linear(3, 2), blocker / "model.pt")
    with pytest.raises(ConversionError, match=r"load_torch_model: model must be a torch.nn.Module"):
        io.load_torch_model(None, tmp_path / "model.pt")


def test_evaluation_names_axis_logits_and_k():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ConfigError, match=r"softmax: axis must be a whole number from -2 to 1.*got '3'"):
        evaluation.softmax(logits, axis="3")
    with pytest.raises(ConfigError, match=r"softmax: axis must be a whole number"):
        evaluation.softmax(logits, axis=True)
    bad = logits.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"softmax: logits contain NaN or \+inf.*-inf is allowed"):
        evaluation.softmax(bad)
    masked = logits.copy()
    masked[0, 0] = -np.inf                                     # a masked-out score: probability 0
    assert evaluation.softmax(masked)[0, 0] == 0.0
    np.testing.assert_allclose(evaluation.softmax(logits, axis=np.int64(0)).sum(axis=0), 1.0)
    with pytest.raises(ShapeError, match=r"predicted_labels: the predictions \(y_pred_or_scores\) hold no samples"):
        evaluation.predicted_labels(np.zeros((0, 3)))
    with pytest.raises(ShapeError, match=r"y_true has 2 samples but probs_or_logits has 0"):
        evaluation.most_confident_mistakes(np.zeros((0, 3)), [0, 1])
    with pytest.raises(ConfigError, match=r"k must be a whole number >= 1 \(how many mistakes"):
        evaluation.most_confident_mistakes(logits, [0, 1], k=0)
    assert evaluation.confusion_matrix([], np.array([], dtype=np.int64), n_classes=2).sum() == 0   # still counts none


def test_results_tables_name_their_rows():
    with pytest.raises(ConfigError, match=r"results_table: rows must be a list of dicts.*got NoneType"):
        results.results_table(None)
    with pytest.raises(ConfigError, match=r"results_markdown: rows must be a list of dicts.*got str"):
        results.results_markdown("rows")
    with pytest.raises(ConfigError, match=r"results_table: a row of rows lacks \['parameters'"):
        results.results_table([{"chapter": 8, "model": "bigram", "numpy": 2.4, "torch": None}])


# ------------------------------------------------------------------ train and recipes


def test_train_names_ragged_arrays_and_the_loss():
    model = nn.mlp([2, 4, 2], "tanh", seed=0)
    X = np.zeros((4, 2), np.float32)
    with pytest.raises(ShapeError, match=r"predict: X must be a rectangular array"):
        predict(model, [[1.0, 2.0], [3.0]])
    with pytest.raises(ShapeError, match=r"evaluate: y must be a rectangular array"):
        evaluate(model, nn.CrossEntropyLoss(), X, [[1, 2], [3]])
    with pytest.raises(ShapeError, match=r"MSELoss \(the loss_fn\) needs them equal"):
        fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), (X, np.zeros(4, np.int64)), epochs=1,
            quiet=True)


def test_recipes_check_seeds_and_images():
    with pytest.raises(ConfigError, match=r"Recipe.build: seed must be a whole number >= 0, got '3'"):
        mnist_recipe("mlp", "numpy", seed="3")
    with pytest.raises(ConfigError, match=r"CNNRecipe.numpy_model: seed must be a whole number >= 0, got 2.5"):
        MNIST_RECIPES["cnn"].numpy_model(2.5)
    recipe = Recipe("tiny", (784, 8, 10), epochs=1)
    assert recipe.numpy_model(np.int64(1)) is not None         # NumPy integers are seeds too
    with pytest.raises(DTypeError, match=r"Recipe.prepare: X holds uint8 values.*X.astype\(np.float32\) / 255"):
        recipe.prepare(np.zeros((2, 784), np.uint8))
    with pytest.raises(ShapeError, match=r"Recipe.prepare: X has shape \(1, 4, 784\), 3136 numbers per image"):
        recipe.prepare(np.zeros((1, 4, 784), np.float32))
    with pytest.raises(ShapeError, match=r"CNNRecipe.prepare: X holds no images"):
        MNIST_RECIPES["cnn"].prepare(np.zeros((0, 784), np.float32))
    images = np.zeros((2, 28, 28), np.float32)
    images[1, 3, 4] = np.nan
    with pytest.raises(NonFiniteError, match=r"Recipe.prepare: the input X contains 1 NaN"):
        MNIST_RECIPES["mlp"].prepare(images)
    assert MNIST_RECIPES["cnn"].prepare(np.zeros((3, 784), np.float32)).shape == (3, 1, 28, 28)
