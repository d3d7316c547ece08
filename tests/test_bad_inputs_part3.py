"""Careless or hostile inputs to the Part III API (issue 27, section 3): booleans given as strings, silent
acceptances and raw tracebacks. Each case asserts the error class and the words that name the problem and
the fix (see ../shared/ROBUSTNESS.md)."""

import json
import multiprocessing
import os

import numpy as np
import pytest
import torch

from nncourse import numpy_nn as nn
from nncourse.errors import ConfigError, DataError, DTypeError, NonFiniteError, ShapeError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype(np.float32)
Y = np.arange(40) % 3


# --- booleans given as strings -----------------------------------------------------------------------------

def _model():
    return nn.Sequential(nn.Linear(4, 3, seed=0))


def _tokenizer():
    from nncourse.tokenizers import BPETokenizer
    return BPETokenizer.train("hello world, hello there " * 10, 270, special_tokens=["<|endoftext|>"])


def _boolean_calls():
    from nncourse.data.splits import validation_split
    from nncourse.scaling import data_parallel as dp
    from nncourse.scaling.device import to_device
    from nncourse.train import fit

    model = _model()
    x64 = RNG.normal(size=(8, 3))
    return {
        "mode": lambda v: _model().train(v),
        "decoupled_weight_decay": lambda v: nn.Adam(model.parameters(), decoupled_weight_decay=v),
        "set_to_none": lambda v: nn.SGD(model.parameters(), lr=0.1).zero_grad(v),
        "bias": lambda v: nn.Conv2d(1, 2, 3, bias=v),
        "stratify": lambda v: validation_split(X, Y, stratify=v),
        "special": lambda v: _tokenizer().encode("hi<|endoftext|>", special=v),
        "quiet": lambda v: fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, Y),
                               epochs=1, quiet=v),
        "weighted": lambda v: dp.data_parallel_gradients(nn.Linear(3, 1, dtype=np.float64), nn.MSELoss(),
                                                         x64, np.zeros((8, 1)), 2, weighted=v),
        "average": lambda v: dp.ring_all_reduce([np.ones(4), np.ones(4)], average=v),
        "non_blocking": lambda v: to_device(torch.ones(2), "cpu", non_blocking=v),
        "is_causal": lambda v: nn.functional.attend(np.ones((1, 2, 4)), np.ones((1, 2, 4)), np.ones((1, 2, 4)),
                                                    is_causal=v),
        "need_input_grad": lambda v: _backward(v),
        "residual": lambda v: __import__("nncourse.models.torch", fromlist=["x"]).BasicBlock(2, 2, residual=v),
        "restore_best": lambda v: fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, Y),
                                      epochs=1, quiet=True, restore_best=v, validation_data=(X[:8], Y[:8])),
        "static": lambda v: __import__("nncourse.widgets.tokens", fromlist=["x"]).token_explorer(
            [_tokenizer()], static=v),
    }


def _backward(flag):
    layer = nn.Linear(4, 3, seed=0)
    layer(X)
    return layer.backward(np.ones((40, 3), np.float32), need_input_grad=flag)


@pytest.mark.parametrize("name", sorted(_boolean_calls()))
@pytest.mark.parametrize("value", ["False", 1, None])
def test_a_boolean_given_as_a_string_or_a_number_is_refused(name, value):
    call = _boolean_calls()[name]
    with pytest.raises(ConfigError, match=f"{name} must be True or False") as error:
        call(value)
    assert "without quotes" in str(error.value)          # the fix


@pytest.mark.parametrize("name", sorted(_boolean_calls()))
def test_the_real_booleans_still_work(name):
    _boolean_calls()[name](False)


def test_train_false_as_a_string_leaves_the_mode_unchanged():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with pytest.raises(ConfigError, match="mode must be True or False, got 'False'"):
        model.train("False")
    assert model.training and model[1].training            # nothing half-changed
    assert not model.train(False)[1].training


# --- silent acceptances ------------------------------------------------------------------------------------

def test_random_shifts_as_large_as_the_image_are_refused():
    from nncourse.data.augment import random_shift
    from nncourse.data.augmented import augmented_copies
    images = np.ones((3, 8, 8), np.float32)
    with pytest.raises(ConfigError, match=r"max_shift=4 is too large for images of 8x8.*use max_shift < 4"):
        random_shift(images, 4, seed=0)
    with pytest.raises(ConfigError, match="max_shift=30 is too large.*blank"):
        augmented_copies(np.ones((3, 784), np.float32), np.arange(3), 1, max_shift=30)
    assert random_shift(images, 3, seed=0).shape == images.shape     # below half the image: fine


def test_to_float16_is_refused_and_the_model_keeps_its_dtype():
    model = _model()
    with pytest.raises(DTypeError, match="must be np.float32 or np.float64, got float16"):
        model.to(np.float16)
    assert model[0].weight.data.dtype == np.float32
    assert model.to(np.float64)[0].weight.data.dtype == np.float64


@pytest.mark.parametrize("layer", [lambda init: nn.Linear(3, 2, init=init),
                                   lambda init: nn.Conv2d(1, 2, 3, init=init)])
def test_custom_initialisers_that_return_nan_or_the_wrong_shape_are_refused(layer):
    with pytest.raises(NonFiniteError, match="returned NaN or infinite weights.*must return finite numbers"):
        layer(lambda shape, rng: np.full(shape, np.nan))
    with pytest.raises(ShapeError, match=r"returned an array of shape \(5,\).*must return exactly that shape"):
        layer(lambda shape, rng: np.zeros(5))
    with pytest.raises(ConfigError, match="not an array of numbers"):
        layer(lambda shape, rng: "weights")
    assert layer(lambda shape, rng: rng.normal(0, 0.1, size=shape)).weight.data.dtype == np.float32


@pytest.mark.parametrize("make", [lambda s: __import__("nncourse.tokenizers", fromlist=["x"]).BPETokenizer(
    special_tokens=s), lambda s: __import__("nncourse.tokenizers", fromlist=["x"]).BPETokenizer.train(
    "hello world " * 5, 270, special_tokens=s)])
def test_special_tokens_given_as_one_string_are_refused(make):
    with pytest.raises(ConfigError, match=r"special_tokens must be a list of strings, got the single string "
                                          r"'<\|endoftext\|>'.*write special_tokens=\['<\|endoftext\|>'\]"):
        make("<|endoftext|>")


@pytest.mark.parametrize("batch_size", [-1, 0, 2.5, "3", True])
def test_bad_batch_sizes_are_refused_at_the_call(batch_size):
    from nncourse.tokenizers.windows import consecutive_windows, random_windows
    ids = np.arange(100)
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        random_windows(ids, batch_size, 8)                  # a generator: refused before the first next()
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        consecutive_windows(ids, 8, batch_size=batch_size)


def test_fit_and_predict_refuse_negative_batch_sizes():
    from nncourse.train import fit, predict
    model = _model()
    with pytest.raises(ConfigError, match="batch_size must be a positive whole number, got -1"):
        fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), (X, Y), batch_size=-1)
    with pytest.raises(ConfigError, match="batch_size must be a whole number >= 1"):
        predict(model, X, batch_size=-1)


def test_to_device_refuses_objects_that_cannot_move():
    from nncourse.scaling.device import DeviceError, to_device
    with pytest.raises(DeviceError, match="cannot move a Linear.*from_numpy"):
        to_device(nn.Linear(2, 2), "cpu")
    with pytest.raises(DeviceError, match="cannot move a object"):
        to_device(object(), "cpu")
    with pytest.raises(DeviceError, match="dtype <U1 cannot become a tensor"):
        to_device(np.array(["a"]), "cpu")
    x, label = to_device((torch.ones(2), "cat"), "cpu")     # strings and numbers in a batch stay as they are
    assert label == "cat" and x.device.type == "cpu"


def test_to_device_cuda_without_a_gpu_says_so_and_points_to_the_cpu(monkeypatch):
    from nncourse.scaling.device import DeviceError, to_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="this machine has no cuda device.*pass device='cpu'"):
        to_device(torch.ones(2), "cuda")
    with pytest.raises(DeviceError, match="'gpu' is not a device name.*pass device='cpu'"):
        to_device(torch.ones(2), "gpu")
    with pytest.raises(DeviceError, match="device must be a device name"):
        to_device(torch.ones(2), 0.5)


def _torch_regression():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    x, y = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    return model, x, y


def test_accumulation_refuses_a_nan_batch_before_touching_the_gradients():
    from nncourse.scaling.accumulation import accumulate_gradients
    model, x, y = _torch_regression()
    x[5, 1] = float("nan")                                 # in the second micro-batch
    with pytest.raises(NonFiniteError, match="x holds NaN or infinite values.*clean the batch.*Nothing was added"):
        accumulate_gradients(model, torch.nn.MSELoss(), x, y, 4)
    assert model.weight.grad is None                       # the first micro-batch did not run either
    numpy_model = nn.Linear(3, 1, dtype=np.float64)
    with pytest.raises(NonFiniteError, match="y holds NaN"):
        accumulate_gradients(numpy_model, nn.MSELoss(), np.ones((8, 3)), np.full((8, 1), np.inf), 4)


def test_accumulation_refuses_numpy_arrays_for_a_torch_model_and_reduction_none():
    from nncourse.scaling.accumulation import accumulate_gradients
    model, x, y = _torch_regression()
    with pytest.raises(ConfigError, match="torch model but x is ndarray.*torch.from_numpy"):
        accumulate_gradients(model, torch.nn.MSELoss(), x.numpy(), y.numpy(), 4)
    with pytest.raises(ConfigError, match="numpy_nn model but x is Tensor.*NumPy arrays"):
        accumulate_gradients(nn.Linear(3, 1, dtype=np.float64), nn.MSELoss(), x, y, 4)
    with pytest.raises(ConfigError, match="reduction='none'.*reduction='mean'"):
        accumulate_gradients(model, torch.nn.MSELoss(reduction="none"), x, y, 4)
    assert model.weight.grad is None


def test_all_reduce_mean_refuses_negative_string_or_mismatched_weights():
    from nncourse.scaling.data_parallel import all_reduce_mean
    grads = [{"w": np.ones(2)}, {"w": 3 * np.ones(2)}]
    with pytest.raises(ConfigError, match=r"every weight must be a finite number >= 0, got \[1.5, -0.5\].*N_w / N"):
        all_reduce_mean(grads, [1.5, -0.5])
    with pytest.raises(ConfigError, match="weights must be numbers.*without quotes"):
        all_reduce_mean(grads, ["0.5", "0.5"])
    with pytest.raises(ShapeError, match="one weight per worker"):
        all_reduce_mean(grads, [[0.5, 0.5]])
    with pytest.raises(ShapeError, match="worker 1's gradient 'w' has shape \\(3,\\).*same model"):
        all_reduce_mean([{"w": np.ones(2)}, {"w": np.ones(3)}])
    with pytest.raises(ConfigError, match="one dict .* per worker.*wrap"):
        all_reduce_mean({"w": np.ones(2)})
    np.testing.assert_allclose(all_reduce_mean(grads, [0.25, 0.75])["w"], [2.5, 2.5])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, "5", None])
def test_human_bytes_and_flops_refuse_what_is_not_a_count(value):
    from nncourse.scaling.memory import human_bytes, human_flops
    with pytest.raises(ConfigError, match="human_bytes: n must be a finite number of bytes >= 0"):
        human_bytes(value)
    with pytest.raises(ConfigError, match="human_flops: n must be a finite number of operations >= 0"):
        human_flops(value)
    assert human_bytes(np.int64(1536)) == "1.5 KiB"


def _ddp_children():
    return {p.pid for p in multiprocessing.active_children()}


@pytest.mark.parametrize("change, words", [
    (dict(steps=0), "steps must be a whole number >= 1"),
    (dict(batch_size=0), "batch_size must be a whole number >= 1"),
    (dict(batch_size=-8), "batch_size must be a whole number >= 1"),
    (dict(lr=float("nan")), "lr must be a finite number > 0"),
    (dict(sizes=(6,)), "sizes must be the layer widths"),
])
def test_ddp_refuses_a_config_that_cannot_train_before_spawning(change, words):
    from nncourse.scaling import ddp
    before = _ddp_children()
    with pytest.raises(ConfigError, match=words):
        ddp.train_ddp(ddp.DDPConfig(**change), 2, timeout=20)
    assert _ddp_children() == before                       # nothing was started


def test_ddp_refuses_a_dict_and_a_world_size_far_above_the_cores():
    from nncourse.scaling import ddp
    before = _ddp_children()
    with pytest.raises(ConfigError, match=r"config must be a DDPConfig, got a dict.*DDPConfig\(\*\*config\)"):
        ddp.train_ddp({"steps": 2}, 2)
    with pytest.raises(ConfigError, match="config must be a DDPConfig, got a dict"):
        ddp.train_single({"steps": 2}, 2)
    far = 4 * (os.cpu_count() or 1) + 8
    with pytest.raises(ConfigError, match=f"world_size={far} processes on a machine with .* CPU.*Use world_size <="):
        ddp.train_ddp(ddp.DDPConfig(n_examples=8 * far), far)
    assert _ddp_children() == before


# --- raw tracebacks ----------------------------------------------------------------------------------------

def test_chapter_11_helpers_refuse_numbers_given_as_strings():
    from nncourse.data.augmented import augment_batch, augmented_epochs
    from nncourse.models.regularized import RegularizedRun
    images = np.ones((2, 8, 8), np.float32)
    with pytest.raises(ConfigError, match=r"max_degrees must be a number in \[0, 180\], got '5' \(str\)"):
        augment_batch(images, max_degrees="5")
    with pytest.raises(ConfigError, match=r"image_shape must be a pair \(height, width\).*\(28, 28\)"):
        augment_batch(X, image_shape="28")
    with pytest.raises(ConfigError, match="max_shift must be a whole number"):
        augmented_epochs(images, np.arange(2), 2, max_shift="2")    # refused at the call, not at next()
    for field, value in [("dropout", "0.3"), ("momentum", "0.9"), ("lr", "0.1"), ("max_shift", "2"),
                         ("patience", "2"), ("hidden", "64")]:
        with pytest.raises(ConfigError, match=f"RegularizedRun: {field} must be"):
            RegularizedRun(**{field: value})


def test_train_regularized_refuses_a_bad_seed_run_or_data():
    from nncourse.models.regularized import RegularizedRun, train_regularized
    data = (np.zeros((20, 784)), np.arange(20) % 10, np.zeros((5, 784)), np.arange(5))
    run = RegularizedRun(n_train=10, epochs=1)
    with pytest.raises(ConfigError, match="seed must be a whole number >= 0, got '1'"):
        train_regularized(run, data, seed="1")
    with pytest.raises(ConfigError, match="validation must be True or False"):
        train_regularized(run, data, validation="False")
    with pytest.raises(ConfigError, match="run must be a RegularizedRun, such as RegularizedRun"):
        train_regularized({"dropout": 0.3}, data)
    with pytest.raises(ConfigError, match=r"data must be \(X_train, y_train, X_val, y_val\).*Split"):
        train_regularized(run, data[:2])


def test_shakespeare_loader_refuses_numbers_given_as_strings():
    from nncourse.data.shakespeare import load_shakespeare, read_play
    for fractions in ["0.8", ("0.8", "0.1", "0.1"), (float("nan"), 0.5, 0.5), (0.8, 0.2)]:
        with pytest.raises(ConfigError, match="fractions must be three non-negative numbers.*without quotes"):
            load_shakespeare(fractions=fractions)
    for name in [3, ["macbeth"], None]:
        with pytest.raises(ConfigError, match="read_play: name must be a play's name.*list_plays"):
            read_play(name)


@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (0, 0), (3,), "3x3"])
@pytest.mark.parametrize("name", ["he_normal", "he_uniform", "xavier_uniform", "xavier_normal", "torch_default"])
def test_initialisers_refuse_zero_fan_in(name, shape):
    from nncourse.numpy_nn import init
    with pytest.raises(ConfigError, match=r"initialisers.*\(out_features, in_features\)"):
        getattr(init, name)(shape, np.random.default_rng(0))


@pytest.mark.parametrize("call", [
    lambda F, a: F.softmax(a), lambda F, a: F.log_softmax(a), lambda F, a: F.gelu(a),
    lambda F, a: F.masked_fill(a, np.zeros((2, 3), bool), 0.0), lambda F, a: F.cross_entropy(a, np.array([0, 1])),
    lambda F, a: F.linear(a, a), lambda F, a: F.embedding(np.array([0]), a)])
def test_autograd_functional_refuses_numpy_arrays(call):
    from nncourse.autograd import functional as F
    with pytest.raises(DTypeError, match=r"must be an autograd Tensor, got numpy.ndarray; wrap it first.*Tensor\("):
        call(F, np.ones((2, 3)))


def test_numpy_functional_refuses_tensors():
    from nncourse.autograd import Tensor
    with pytest.raises(DTypeError, match="scores must be a NumPy array, got torch.Tensor.*numpy()"):
        nn.functional.softmax(torch.ones(2, 3))
    with pytest.raises(DTypeError, match="scores must be a NumPy array.*scores.data"):
        nn.functional.softmax(Tensor(np.ones(3)))
    with pytest.raises(DTypeError, match="query must be a NumPy array"):
        nn.functional.attention_forward(torch.ones(1, 2, 4), torch.ones(1, 2, 4), torch.ones(1, 2, 4))


def test_every_sgd_refuses_a_model_and_points_to_its_parameters():
    from nncourse.autograd import Tensor
    from nncourse.autograd import nn as ann
    engine_model = ann.Sequential(ann.Linear(np.ones((2, 2))), ann.ReLU())
    with pytest.raises(ConfigError, match=r"got the model itself \(Sequential\); pass model.parameters\(\)"):
        ann.SGD(engine_model, lr=0.1)
    with pytest.raises(ConfigError, match=r"params\[0\] must be an autograd Tensor"):
        ann.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ConfigError, match="lr must be a positive number.*without quotes"):
        ann.SGD([Tensor(np.ones(2), requires_grad=True)], lr="0.1")
    model = _model()
    for build in (nn.SGD, nn.Adam, nn.AdamW, nn.RMSprop, nn.Adagrad, nn.Adadelta):
        with pytest.raises(ConfigError, match=r"got the model itself.*Pass model.parameters\(\)"):
            build(model)


@pytest.mark.parametrize("texts, words", [
    (5, "texts must be text .* got int"), (None, "got NoneType"), (b"hello", "got bytes: decode them first"),
    ([b"hello"], r"texts\[0\] is bytes"), (["ok", 3], r"texts\[1\] is int.*str\(x\)"),
    ({"a": "b"}, "got dict")])
def test_bpe_refuses_to_train_on_what_is_not_text(texts, words):
    from nncourse.tokenizers import BPETokenizer, train_merges
    with pytest.raises(ConfigError, match=words):
        BPETokenizer.train(texts, 260)
    with pytest.raises(ConfigError, match=words):
        train_merges(texts, 4)


def test_tokenizers_are_not_saved_onto_folders_or_under_files(tmp_path):
    from nncourse.tokenizers import BPETokenizer
    tok = _tokenizer()
    with pytest.raises(DataError, match="is a folder, not a file; give a file name inside it.*tokenizer.json"):
        tok.save(tmp_path)
    plain = tmp_path / "notes.txt"
    plain.write_text("keep me")
    with pytest.raises(DataError, match="notes.txt is a file, not a folder; save the tokenizer next to it"):
        tok.save(plain / "tok.json")
    assert plain.read_text() == "keep me"
    with pytest.raises(DataError, match="is a folder, not a tokenizer file"):
        BPETokenizer.load(tmp_path)
    with pytest.raises(DataError, match="a part of that path is a file"):
        BPETokenizer.load(plain / "tok.json")
    with pytest.raises(ConfigError, match="path must be a file name"):
        tok.save(42.0)
    assert os.listdir(tmp_path) == ["notes.txt"]              # no temporary file left behind


def test_part3_widgets_refuse_the_wrong_objects():
    from nncourse.tokenizers.metrics import bytes_per_token
    from nncourse.widgets import depth, regularization, tokens
    tok = _tokenizer()
    with pytest.raises(ConfigError, match=r"a list or a dict of tokenizers, got a single BPETokenizer; write \[tok\]"):
        tokens.token_explorer(tok)
    for wrong in (None, "tok", ["tok"], [object()]):
        with pytest.raises(ConfigError, match="token_explorer: .*(tokenizers|not a tokenizer)"):
            tokens.token_explorer(wrong)
    with pytest.raises(ConfigError, match=r"examples must be a dict \{name: text\}"):
        tokens.token_explorer([tok], examples=["hello"])
    with pytest.raises(ConfigError, match="tokens_html: tokenizer is a str, not a tokenizer"):
        tokens.tokens_html("tok", "hi")
    with pytest.raises(ConfigError, match=r"bytes_per_token\(tokenizer, text\)"):
        bytes_per_token("tok", "hello")
    for wrong in ("5", 5, [2.5], [0], [True]):
        with pytest.raises(ConfigError, match=r"depths must be a list of whole numbers >= 1, such as \[5, 10, 20\]"):
            depth.depth_explorer(wrong)
    with pytest.raises(ConfigError, match="activations must be a list of choices, got the single string 'tanh'"):
        depth.depth_explorer([2], activations="tanh")
    with pytest.raises(ConfigError, match="depth must be a whole number >= 1"):
        depth.shown_layers("5")
    grid = {"n_train": [1], "dropout": [0], "weight_decay": [0], "augment": [0]}
    for curves, words in [({"settings": {}, "runs": []}, r"\['settings'\]\['grid'\] must give a list"),
                          ({"settings": {"grid": grid}, "runs": 5}, r"curves\['runs'\] must be a list"),
                          ({"settings": {"grid": grid}, "runs": [{"n_train": 1}]}, r"run 0 of the curves lacks")]:
        with pytest.raises(ConfigError, match=words + ".*bench_regularization.py"):
            regularization.regularization_explorer(json.loads(json.dumps(curves)))


# --- vague messages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fit_refuses_validation_data_of_the_wrong_width_before_training(backend):
    from nncourse.train import fit
    if backend == "numpy":
        model = _model()
        loss, optimizer = nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1)
        before = model[0].weight.data.copy()
        weights = lambda: model[0].weight.data                         # noqa: E731
    else:
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 3)
        loss, optimizer = torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)
        before = model.weight.detach().numpy().copy()
        weights = lambda: model.weight.detach().numpy()                # noqa: E731
    with pytest.raises(ShapeError, match=r"fit: validation_data=\(X_val, y_val\) does not fit the model \(X_val has "
                                         r"shape \(5, 5\)\), so it is refused before training.*4.*shaped like the "
                                         r"training data"):
        fit(model, loss, optimizer, (X, Y), epochs=2, quiet=True,
            validation_data=(np.zeros((5, 5), np.float32), np.arange(5) % 3))
    np.testing.assert_array_equal(weights(), before)                   # not one step was taken


# --- found while probing the rest of chapters 11-15 --------------------------------------------------------

def test_more_chapter_11_to_15_helpers_refuse_strings_and_impossible_counts():
    from nncourse.data.augment import rotate_images
    from nncourse.models.deep_signal import init_std, signal_through_depth
    from nncourse.models.regularized import regularization_curves
    from nncourse.scaling import data_parallel as dp
    from nncourse.scaling.accumulation import micro_batches
    from nncourse.scaling.device import DeviceError, loader_settings
    from nncourse.scaling.profiling import SlowDataset
    from nncourse.tokenizers.bpe import count_pairs, merge
    cases = [
        (lambda: rotate_images(np.ones((2, 5, 5), np.float32), "5"), ConfigError,
         "degrees must be numbers.*without quotes"),
        (lambda: regularization_curves((1, 2, 3, 4)), ConfigError, r"split must be a nncourse.data.Split"),
        (lambda: regularization_curves(None, grid="abc"), ConfigError, "split must be"),
        (lambda: init_std("he", 0, 3), ConfigError, "init_std: fan_in must be a whole number >= 1"),
        (lambda: signal_through_depth(2, "tanh", "he", width=4, batch=4, seed="0"), ConfigError,
         "seed must be a whole number >= 0"),
        (lambda: SlowDataset(torch.ones(3), delay="0.1"), ConfigError, "delay must be a finite number >= 0"),
        (lambda: SlowDataset(torch.ones(3), delay=float("nan")), ConfigError, "delay must be a finite number"),
        (lambda: SlowDataset(5), ConfigError, r"such as SlowDataset\(x, y\)"),
        (lambda: dp.shard_indices("10", 2), ConfigError, "shard_indices: n must be a whole number >= 1"),
        (lambda: dp.ring_bytes_per_worker(-10, 2), ConfigError, "nbytes must be a finite number >= 0"),
        (lambda: dp.naive_all_reduce_bytes(float("nan"), 2), ConfigError, "nbytes must be a finite number"),
        (lambda: dp.worker_gradients(None, None, []), ConfigError, r"replicate\(model, W\)"),
        (lambda: micro_batches("10", 2), ConfigError, "n must be the number of examples"),
        (lambda: loader_settings("gpu"), DeviceError, "'gpu' is not a device name"),
        (lambda: _tokenizer().decode([104], errors="foo"), ConfigError, "errors must be 'replace', 'strict'"),
        (lambda: count_pairs("hello"), ConfigError, r"ids must be a list of token ids.*text.encode"),
        (lambda: merge([1, 2], 5, 256), ConfigError, r"pair must be two token ids \(a, b\)"),
    ]
    for call, error, words in cases:
        with pytest.raises(error, match=words):
            call()
    assert loader_settings("cpu", num_workers=np.int64(2))["num_workers"] == 2
    assert dp.naive_all_reduce_bytes(96, 2) == 192 and isinstance(dp.naive_all_reduce_bytes(96, 2), int)
    assert merge((1, 2, 1, 2), (1, 2), 256) == [256, 256] and count_pairs(np.array([1, 2])) == {(1, 2): 1}


@pytest.mark.parametrize("batch_size", [-1, 0, "3", 2.5])
def test_every_batch_size_is_checked_where_it_is_taken(batch_size):
    from nncourse.models import charlm
    from nncourse.models.attention_tagger import predict_tokens
    from nncourse.models.gpt_training import addition_accuracy, length_sorted_batches, name_batches
    from nncourse.train import evaluate
    names = ["anna", "bob", "clara", "dave"] * 4
    calls = {
        "length_batches": lambda: charlm.length_batches(names, batch_size, np.random.default_rng(0)),
        "evaluate_lm": lambda: charlm.evaluate_lm(charlm.BigramNet(seed=0), names, batch_size=batch_size),
        "train_lm": lambda: charlm.train_lm(charlm.BigramNet(seed=0), names, batch_size=batch_size),
        "name_batches": lambda: name_batches(names, batch_size),
        "length_sorted_batches": lambda: length_sorted_batches(names, batch_size),
        "predict_tokens": lambda: predict_tokens(nn.Linear(2, 2), np.zeros((2, 5), np.int64), batch_size),
        "addition_accuracy": lambda: addition_accuracy(None, 2, [1], [2], batch_size),
        "evaluate": lambda: evaluate(nn.Linear(2, 2), nn.CrossEntropyLoss(), np.ones((3, 2), np.float32),
                                    np.zeros(3, int), batch_size=batch_size),
    }
    for who, call in calls.items():
        with pytest.raises(ConfigError, match=f"{who}: batch_size must be a whole number >= 1"):
            call()
