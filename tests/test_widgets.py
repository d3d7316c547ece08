"""Tests for nncourse.widgets: the settings table, the live playground's wiring, training, the static
(precomputed) widgets and the smaller chapter widgets."""

import dataclasses
import functools
import math
import re

import ipywidgets as W
import numpy as np
import pytest

from nncourse.errors import ConfigError
from nncourse.widgets import (Axis, Playground, PlaygroundSettings, controls, mnist_comparison,
                              optimizer_race, perceptron_stepper, precomputed_widget,
                              static_playground, train_playground)
from nncourse.widgets.perceptron import _separates, perceptron_frames
from nncourse.widgets.playground import _clean
from nncourse.widgets.race import race

FAST = PlaygroundSettings(epochs=5)


@functools.lru_cache(maxsize=1)
def _tiny_result():
    return train_playground(PlaygroundSettings(epochs=2))


class FakeTrainer:
    """Records every call and returns a real (cached, tiny) result so that drawing still works."""

    def __init__(self):
        self.calls = []

    def __call__(self, settings):
        self.calls.append(settings)
        return dataclasses.replace(_tiny_result(), settings=settings)


def other_value(name, default, c):
    """A valid value different from the default, for every kind of control."""
    if c.choices:
        return next(v for v in c.choices if v != default)
    if c.kind == "slider" and c.log:
        return 0.1
    if c.kind == "slider":
        return round(c.high - c.step, 6) if default != c.high - c.step else c.low
    return int(c.high) if default != c.high else int(c.low)


# ------------------------------------------------------------------------------ settings table

def test_every_setting_has_a_control_entry():
    names = [name for name, _, _ in controls()]
    assert names == [f.name for f in dataclasses.fields(PlaygroundSettings)]
    for required in ("dataset", "noise", "test_fraction", "hidden_layers", "neurons", "activation",
                     "learning_rate", "optimizer", "batch_size", "epochs", "l2", "backend", "seed"):
        assert required in names
    lr = dict((n, c) for n, _, c in controls())["learning_rate"]
    assert lr.log and lr.low == 1e-4 and lr.high == 10
    assert set(dict((n, c) for n, _, c in controls())["dataset"].choices) == {
        "xor", "circles", "moons", "spiral", "blobs"}


@pytest.mark.parametrize("settings", [
    PlaygroundSettings(),
    PlaygroundSettings(dataset="spiral", hidden_layers=4, neurons=3, learning_rate=0.0316,
                       optimizer="adam", batch_size=1, l2=0.003, backend="torch", seed=12345),
    PlaygroundSettings(learning_rate=10 ** -1.5, noise=0.15000000000000002),
])
def test_repr_is_code_that_rebuilds_the_same_settings(settings):
    assert eval(repr(settings), {"PlaygroundSettings": PlaygroundSettings}) == settings
    namespace = {}
    exec(settings.as_code().replace("result = train_playground", "s = "), namespace)
    assert namespace["s"] == settings


def test_ints_given_for_floats_are_stored_as_floats():
    s = PlaygroundSettings(learning_rate=1, l2=0)
    assert isinstance(s.learning_rate, float) and repr(s).count("learning_rate=1.0") == 1


@pytest.mark.parametrize("changes, words", [
    ({"dataset": "spirals"}, ["dataset", "spiral"]),
    ({"learning_rate": 0.0}, ["learning_rate", "between"]),
    ({"learning_rate": 100.0}, ["learning_rate", "between"]),
    ({"hidden_layers": 7}, ["hidden_layers", "between"]),
    ({"hidden_layers": 2.5}, ["hidden_layers", "integer"]),
    ({"neurons": True}, ["neurons"]),
    ({"batch_size": 3}, ["batch_size", "one of"]),
    ({"noise": float("nan")}, ["noise", "finite"]),
    ({"backend": "jax"}, ["backend", "numpy"]),
])
def test_bad_settings_raise_config_errors_that_name_the_field(changes, words):
    with pytest.raises(ConfigError) as err:
        PlaygroundSettings(**changes)
    for word in words:
        assert word in str(err.value)


def test_replace_rejects_unknown_names():
    with pytest.raises(ConfigError, match="no setting 'lr'"):
        PlaygroundSettings().replace(lr=0.1)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PlaygroundSettings().learning_rate = 1.0


# ------------------------------------------------------------------------ settings <-> widgets

def test_every_field_has_a_widget_with_its_default_and_range():
    pg = Playground(trainer=FakeTrainer())
    assert set(pg.widgets) == {name for name, _, _ in controls()}
    for name, default, c in controls():
        w = pg.widgets[name]
        assert w.value == default, name
        assert w.description == c.label
        if c.choices:
            assert tuple(w.options) == tuple(c.choices) or tuple(o[1] for o in w.options) == c.choices
        elif c.log:
            assert isinstance(w, W.FloatLogSlider)
            assert (w.base, w.min, w.max) == (10, math.log10(c.low), math.log10(c.high))
        else:
            assert (w.min, w.max) == (c.low, c.high), name


@pytest.mark.parametrize("name, default, control", controls(), ids=[n for n, _, _ in controls()])
def test_moving_a_widget_changes_settings_and_retrains_exactly_once(name, default, control):
    trainer = FakeTrainer()
    pg = Playground(trainer=trainer)
    assert len(trainer.calls) == 1                          # the first drawing
    new = other_value(name, default, control)
    pg.widgets[name].value = new
    assert getattr(pg.settings, name) == pytest.approx(new)
    assert len(trainer.calls) == 2
    assert getattr(trainer.calls[-1], name) == pytest.approx(new)
    assert pg.code.value == repr(pg.settings)               # the code shown is the new settings
    pg.widgets[name].value = new                            # no change: no retrain
    assert len(trainer.calls) == 2


def test_assigning_settings_moves_every_widget_and_retrains_once():
    trainer = FakeTrainer()
    pg = Playground(trainer=trainer)
    new = PlaygroundSettings(dataset="moons", hidden_layers=3, learning_rate=0.3, optimizer="adam",
                             backend="torch", seed=7)
    pg.settings = new
    assert len(trainer.calls) == 2 and trainer.calls[-1] == new
    for name, _, _ in controls():
        assert pg.widgets[name].value == getattr(new, name)


def test_values_from_the_browser_are_tidied():
    c = dict((n, c) for n, _, c in controls())
    assert _clean(10 ** -1.5, c["learning_rate"]) == 0.0316
    assert _clean(0.15000000000000002, c["noise"]) == 0.15
    trainer = FakeTrainer()
    pg = Playground(trainer=trainer)
    pg.widgets["learning_rate"].value = 10 ** -0.5
    assert pg.settings.learning_rate == 0.316


def test_playground_rejects_non_settings():
    with pytest.raises(ConfigError, match="PlaygroundSettings"):
        Playground({"learning_rate": 0.1})


# ----------------------------------------------------------------------------------- training

def test_training_is_a_pure_function_of_the_settings():
    a, b = train_playground(FAST), train_playground(FAST)
    assert a.train_loss == b.train_loss and a.test_loss == b.test_loss
    np.testing.assert_array_equal(a.grid, b.grid)
    assert a.grid.shape == (60, 60) and np.all((a.grid >= 0) & (a.grid <= 1))
    assert len(a.train_loss) == FAST.epochs + 1


def test_default_playground_learns_xor():
    r = train_playground(PlaygroundSettings())
    assert not r.diverged
    assert r.train_loss[-1] < 0.5 * r.train_loss[0]
    assert r.test_accuracy >= 0.9
    # and a linear model cannot (XOR is not linearly separable)
    assert train_playground(PlaygroundSettings(hidden_layers=0)).test_accuracy < 0.75


def test_too_large_learning_rate_gives_a_message_not_an_exception():
    r = train_playground(PlaygroundSettings(learning_rate=3.0))
    assert r.diverged and r.diverged_epoch >= 1
    assert re.fullmatch(r"Training diverged at epoch \d+: the learning rate 3\.0 is too large "
                        r"\u2014 try 0\.3", r.message), r.message
    assert np.isnan(r.grid).all() and r.summary() == r.message
    pg = Playground(PlaygroundSettings(learning_rate=10.0))       # and the widget shows it
    assert "Training diverged at epoch" in pg.status.value and "try 1.0" in pg.status.value


@pytest.mark.parametrize("changes", [
    dict(optimizer="adam", learning_rate=0.01, activation="relu"),
    dict(optimizer="momentum", activation="tanh", l2=0.01, batch_size=16),
])
def test_both_back_ends_give_the_same_numbers(changes):
    pytest.importorskip("torch")
    s = PlaygroundSettings(epochs=15, **changes)
    a, b = train_playground(s), train_playground(s.replace(backend="torch"))
    np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a.test_loss, b.test_loss, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a.grid, b.grid, atol=1e-4)
    assert a.test_accuracy == b.test_accuracy


@pytest.mark.parametrize("dataset", ["xor", "circles", "moons", "spiral", "blobs"])
def test_every_dataset_trains(dataset):
    r = train_playground(FAST.replace(dataset=dataset, samples=100, test_fraction=0.3))
    assert len(r.X_train) == 70 and len(r.X_test) == 30
    assert set(np.unique(r.y_train)) == {0, 1}


# ----------------------------------------------------------------------------- static widgets

def test_precomputed_widget_nests_stacks_and_jslinks_each_slider():
    png = {}
    box = precomputed_widget([Axis("a", [1, 2, 3]), Axis("b", ["x", "y"], kind="buttons")],
                             lambda i, j: png.setdefault((i, j), f"png {i} {j}".encode()))
    assert len(png) == 6
    outer = box.stack
    assert isinstance(outer, W.Stack) and len(outer.children) == 3
    assert all(isinstance(c, W.Stack) and len(c.children) == 2 for c in outer.children)
    assert outer.children[2].children[1].value == b"png 2 1"
    a, b = box.controls
    links = {(l.source[0].model_id, l.target[0].model_id) for l in box.links}
    assert (a.model_id, outer.model_id) in links
    assert all((b.model_id, inner.model_id) in links for inner in outer.children)


def test_static_playground_precomputes_learning_rates_by_layers():
    box = static_playground(FAST, learning_rates=(0.01, 3.0), hidden_layers=(0, 2))
    layers_w, lr_w = box.controls
    assert [o[0] for o in lr_w.options] == ["0.01", "3.0"]           # the readout shows the value
    stacks = box.stack.children
    images = [img.value for inner in stacks for img in inner.children]
    assert len(images) == 4 and len(set(images)) == 4
    assert all(bytes(v[:4]) == b"\x89PNG" for v in images)


# ----------------------------------------------------------------------------- small widgets

def test_perceptron_frames_converge_on_and_but_not_on_xor():
    from nncourse.data import truth_table
    for gate in ("and", "or"):
        f = perceptron_frames(gate, epochs=20)[-1]
        assert _separates(*truth_table(gate), f["weight"], f["bias"])
    f = perceptron_frames("xor", epochs=20)[-1]
    assert not _separates(*truth_table("xor"), f["weight"], f["bias"])


def test_perceptron_stepper_static_and_live():
    box = perceptron_stepper(("and", "or"))
    gate, step = box.controls
    assert len(box.stack.children) == 2 and len(step.options) >= 2
    # no play button in the static widget (it breaks the slider's link in the built book: widgets/static.py)
    assert not [w for w in box.children if isinstance(w, (W.Play, W.HBox))]
    live = perceptron_stepper(("and",), static=False)
    assert isinstance(live, W.VBox)
    with pytest.raises(ConfigError, match="gate"):
        perceptron_stepper(("nor",))


def test_optimizer_race_finds_the_minimum_and_shows_sgd_diverging():
    calm = race("bowl", lr=0.05, steps=200)
    for label, (path, final, diverged) in calm.items():
        assert diverged is None and final < 1e-2, label
    wild = race("bowl", lr=0.3, steps=50)
    assert wild["SGD"][2] is not None                 # 0.3 * 20 > 2: SGD jumps out of the valley
    assert wild["Adam"][2] is None                    # Adam's steps stay about lr long
    box = optimizer_race(learning_rates=(0.01, 0.1), steps=20)
    assert len(box.stack.children) == 2
    with pytest.raises(ConfigError):
        race("saddle")


def test_mnist_comparison_accepts_numbers_and_histories():
    history = {"accuracy": [0.8, 0.9], "val_accuracy": [0.78, 0.88], "loss": [1, 0.5]}
    results = {(0.01, 1): 0.91, (0.1, 1): {"accuracy": 0.95, "history": history},
               (0.01, 2): 0.93, (0.1, 2): 0.96}
    box = mnist_comparison(results)
    layers_w, lr_w = box.controls
    assert [o[0] for o in lr_w.options] == ["0.01", "0.1"]
    assert [o[0] for o in layers_w.options] == ["1", "2"]
    assert isinstance(mnist_comparison(results, static=False), W.VBox)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        mnist_comparison({(0.1, 1): 95.0})
    with pytest.raises(ConfigError, match="keys"):
        mnist_comparison({0.1: 0.9})
