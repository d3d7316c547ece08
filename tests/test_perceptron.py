"""The perceptron learning rule: learns AND and OR, never settles on XOR."""

import numpy as np
import pytest

from nncourse.errors import ConfigError, ShapeError, TargetError
from nncourse.models import Perceptron

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TRUTH = {
    "and": np.array([0, 0, 0, 1]),
    "or": np.array([0, 1, 1, 1]),
    "nand": np.array([1, 1, 1, 0]),
    "xor": np.array([0, 1, 1, 0]),
}


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_learns_linearly_separable_gates(gate, seed):
    p = Perceptron(2, seed=seed)
    history = p.fit(INPUTS, TRUTH[gate], epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(INPUTS), TRUTH[gate])
    # the last epoch made no mistake and was the one that stopped training
    last_epoch = history[-1]["epoch"]
    assert [h["errors"] for h in history if h["epoch"] == last_epoch] == [0, 0, 0, 0]
    assert last_epoch < 49


@pytest.mark.parametrize("seed", [None, 0, 1])
def test_never_converges_on_xor(seed):
    p = Perceptron(2, seed=seed)
    epochs = 100
    history = p.fit(INPUTS, TRUTH["xor"], epochs=epochs)
    assert not p.converged
    assert history[-1]["epoch"] == epochs - 1
    assert len(history) == epochs * len(INPUTS)
    assert all(max(h["errors"] for h in history if h["epoch"] == e) > 0 for e in range(epochs))
    assert (p.predict(INPUTS) != TRUTH["xor"]).any()


def test_update_follows_the_rule():
    p = Perceptron(2, lr=0.5)
    assert p.predict(np.array([[1.0, 1.0]]))[0] == 1        # zero weights: score 0 counts as 1
    changed = p.update(np.array([1.0, 1.0]), 0)             # wrong: w -= lr x, b -= lr
    assert changed is True
    np.testing.assert_array_equal(p.weight, [-0.5, -0.5])
    assert p.bias == -0.5
    assert p.update(np.array([1.0, 1.0]), 0) is False       # now right: nothing moves
    np.testing.assert_array_equal(p.weight, [-0.5, -0.5])
    p.update(np.array([0.0, 1.0]), 1)                       # wrong the other way: w += lr x, b += lr
    np.testing.assert_array_equal(p.weight, [-0.5, 0.0])
    assert p.bias == 0.0


def test_history_records_every_step():
    p = Perceptron(2)
    history = p.fit(INPUTS, TRUTH["and"], epochs=1)
    assert len(history) == 4
    assert [h["index"] for h in history] == [0, 1, 2, 3]
    assert set(history[0]) >= {"epoch", "index", "weight", "bias", "errors"}
    np.testing.assert_array_equal(history[-1]["weight"], p.weight)
    assert history[-1]["bias"] == p.bias
    # weights are snapshots, not the live array
    assert history[0]["weight"] is not p.weight
    assert history[-1]["errors"] == sum(h["changed"] for h in history)


def test_seed_gives_reproducible_random_start():
    a, b = Perceptron(3, seed=5), Perceptron(3, seed=5)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.bias == b.bias and a.weight.any()
    assert not Perceptron(3).weight.any() and Perceptron(3).bias == 0.0


def test_perceptron_errors():
    with pytest.raises(ConfigError, match=r"learning rate lr must be a positive number, got 0"):
        Perceptron(2, lr=0)
    with pytest.raises(ShapeError, match=r"expects X of shape \(N, 2\), got \(4, 3\)"):
        Perceptron(2).predict(np.zeros((4, 3)))
    with pytest.raises(TargetError, match=r"labels must be 0 or 1, got 2"):
        Perceptron(2).fit(INPUTS, np.array([0, 1, 2, 1]))
    with pytest.raises(TargetError, match=r"y of shape \(4,\)"):
        Perceptron(2).fit(INPUTS, np.array([0, 1]))
