"""The MNIST recipes of ``nncourse.recipes`` really reach the accuracy the course promises.

The slow tests train the recipes with ``nncourse.train.fit`` on genuine digits, with both back ends,
exactly as chapter 6 does, and check the test accuracy:

* MLP 784-256-128-10: at least 96.5 % (measured on the offline sample, NumPy, seeds 0..5: 97.25 % to
  97.5 %; seed 0, the one used here: see benchmarks/README.md for both back ends);
* softmax regression 784-10: at least 92 % (measured: 93.35 % to 93.5 %);
* the LeNet-style CNN of chapter 7 (conv 16 -> pool -> conv 32 -> pool -> linear): at least 98.5 % with
  each back end (measured with ``benchmarks/bench_cnn.py accuracy``: 99.1 % to 99.3 %). The slowest
  test here: about a minute per back end on one quiet core.

Data: the offline sample (``NNCOURSE_MNIST_SAMPLE``, 8,000 train / 2,000 test; CI sets it), else the
full data set if its four files are already in the data folder (never downloaded here; the full split
gives higher accuracies, so the same floors hold). Without either, the slow tests are skipped.
The whole file takes about 15 s on one quiet core (about a minute on a busy one).
"""

import os

import numpy as np
import pytest
import torch

from nncourse.data import load_mnist, mnist_raw_folder
from nncourse.errors import ConfigError, DataError
from nncourse.recipes import MNIST_RECIPES, Training, mnist_recipe
from nncourse.train import evaluate, fit

MLP_FLOOR = 0.965
SOFTMAX_FLOOR = 0.92
CNN_FLOOR = 0.985


@pytest.fixture(scope="module")
def mnist():
    if os.environ.get("NNCOURSE_MNIST_SAMPLE"):
        return load_mnist(quiet=True)                       # a broken sample folder fails loudly
    try:
        return load_mnist(download=False, quiet=True)
    except DataError:
        pytest.skip(f"no MNIST here: NNCOURSE_MNIST_SAMPLE is unset and {mnist_raw_folder()} does not hold "
                    f"the four MNIST files (set NNCOURSE_MNIST_SAMPLE to a folder with the two test-set "
                    f"files, or run load_mnist() once online)")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Train as CI and the benchmarks do: one torch thread (the BLAS threads come from the environment)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_and_test(kind, backend, mnist):
    model, loss_fn, optimizer, _, fit_kwargs = mnist_recipe(kind, backend)
    prepare = MNIST_RECIPES[kind].prepare            # rows of pixels, or images for the CNN
    history = fit(model, loss_fn, optimizer, (prepare(mnist.X_train), mnist.y_train), quiet=True, **fit_kwargs)
    _, accuracy = evaluate(model, loss_fn, prepare(mnist.X_test), mnist.y_test)
    return history, accuracy


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_mlp_recipe_reaches_96_5_percent(backend, mnist):
    history, accuracy = train_and_test("mlp", backend, mnist)
    recipe = MNIST_RECIPES["mlp"]
    assert history.epochs == recipe.epochs
    assert history["loss"][-1] < history["loss"][0] and history["accuracy"][-1] > 0.99, \
        "it should learn the training set"
    assert history["lr"][0] == recipe.lr and history["lr"][-1] < recipe.lr / 10, "cosine schedule"
    assert accuracy >= MLP_FLOOR, (
        f"{backend} MLP: test accuracy {accuracy:.2%} on {mnist.source} MNIST is below {MLP_FLOOR:.1%} "
        f"({recipe.describe()})"
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_softmax_regression_recipe_reaches_its_floor(backend, mnist):
    _, accuracy = train_and_test("softmax", backend, mnist)
    assert accuracy >= SOFTMAX_FLOOR, (
        f"{backend} softmax regression: test accuracy {accuracy:.2%} on {mnist.source} MNIST is below "
        f"{SOFTMAX_FLOOR:.0%}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_cnn_recipe_reaches_98_5_percent_and_beats_the_mlp(backend, mnist):
    history, accuracy = train_and_test("cnn", backend, mnist)
    assert history.epochs == MNIST_RECIPES["cnn"].epochs
    assert accuracy >= CNN_FLOOR, (
        f"{backend} CNN: test accuracy {accuracy:.2%} on {mnist.source} MNIST is below {CNN_FLOOR:.1%} "
        f"({MNIST_RECIPES['cnn'].describe()})"
    )


# --- fast checks of the recipe module itself (no MNIST needed) -----------------------------------------

@pytest.mark.parametrize("kind", ["mlp", "softmax", "cnn"])
def test_both_back_ends_start_from_the_same_weights_and_settings(kind):
    a = mnist_recipe(kind, "numpy")
    b = mnist_recipe(kind, "torch")
    assert isinstance(a, Training) and isinstance(b, Training)
    for (name, p), (t_name, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert name == t_name
        np.testing.assert_array_equal(p.data, q.detach().numpy(), err_msg=name)
    assert a.fit_kwargs.keys() == b.fit_kwargs.keys() == {"epochs", "batch_size", "seed", "scheduler"}
    assert a.fit_kwargs["scheduler"] is a.scheduler and b.fit_kwargs["scheduler"] is b.scheduler
    assert {k: v for k, v in a.fit_kwargs.items() if k != "scheduler"} == \
           {k: v for k, v in b.fit_kwargs.items() if k != "scheduler"}
    assert a.optimizer.param_groups[0]["lr"] == b.optimizer.param_groups[0]["lr"] == MNIST_RECIPES[kind].lr
    assert a.scheduler.get_last_lr() == pytest.approx(b.scheduler.get_last_lr())


def test_a_seed_changes_the_start_and_bad_names_are_explained():
    w0 = mnist_recipe("mlp", seed=0).model[0].weight.data
    w1 = mnist_recipe("mlp", seed=1).model[0].weight.data
    assert not np.array_equal(w0, w1)
    assert mnist_recipe("mlp", seed=1).fit_kwargs["seed"] == 1
    with pytest.raises(ConfigError, match="kind must be one of 'mlp', 'softmax', 'cnn'"):
        mnist_recipe("lenet")
    with pytest.raises(ConfigError, match="backend must be one of 'numpy', 'torch'"):
        mnist_recipe("mlp", "jax")


def test_the_cnn_recipe_reads_images():
    recipe = MNIST_RECIPES["cnn"]
    model = mnist_recipe("cnn").model
    assert [type(layer).__name__ for layer in model] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                                                          "MaxPool2d", "Flatten", "Linear"]
    images = recipe.prepare(np.zeros((3, 784), dtype=np.float32))
    assert images.shape == (3, 1, 28, 28) and model(images).shape == (3, 10)
    assert MNIST_RECIPES["mlp"].prepare(images).shape == (3, 784)
    assert "conv 5×5" in recipe.describe()
