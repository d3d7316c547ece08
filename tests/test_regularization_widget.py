"""Chapter 11: the stored regularization curves (chapters/results/regularization_curves.json) and the
regularization explorer widget that draws them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import ipywidgets as W
import numpy as np
import pytest

from nncourse.errors import ConfigError
from nncourse.models.regularized import CURVE_GRID, RegularizedRun, regularization_curves, train_regularized
from nncourse.widgets import regularization_explorer
from nncourse.widgets.regularization import curve_table

RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "regularization_curves.json"


def _tiny_curves():
    """Curves of the right form for a 2 x 1 x 1 x 2 grid (made up; the widget only draws them)."""
    grid = {"n_train": [10, 20], "dropout": [0.0], "weight_decay": [0.0], "augment": [0, 1]}
    runs = []
    for i, n in enumerate(grid["n_train"]):
        for a in grid["augment"]:
            scale = 1 + i + 2 * a
            runs.append({"n_train": n, "dropout": 0.0, "weight_decay": 0.0, "augment": a,
                         "loss": [1.0 / scale, 0.5 / scale, 0.2 / scale], "val_loss": [1.1, 0.9 / scale, 1.0],
                         "val_accuracy": [0.7, 0.8 + 0.02 * scale, 0.85]})
    return {"settings": {"grid": grid}, "runs": runs}


def _images(widget):
    found, todo = [], [widget]
    while todo:
        w = todo.pop()
        if isinstance(w, W.Image):
            found.append(w)
        todo.extend(getattr(w, "children", ()))
    return found


def test_the_explorer_has_one_picture_per_setting_and_links_every_control():
    widget = regularization_explorer(_tiny_curves())
    assert [c.description for c in widget.controls] == ["Training digits", "Dropout p", "Weight decay",
                                                         "Augmentation"]
    assert isinstance(widget.controls[0], W.SelectionSlider)
    assert [label for label, _ in widget.controls[3].options] == ["none", "1 shifted copies"]
    pictures = _images(widget)
    assert len(pictures) == 4 and len({p.value for p in pictures}) == 4      # each setting its own picture
    assert all(p.value[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    # one jslink per Stack: the outer one, then one per child at each level
    assert len(widget.links) == 1 + 2 + 2 * 1 + 2 * 1 * 1


def test_curve_table_refuses_a_wrong_file_naming_the_fix():
    with pytest.raises(ConfigError, match="keys 'settings' and 'runs'.*bench_regularization"):
        curve_table({"runs": []})
    curves = _tiny_curves()
    curves["runs"] = curves["runs"][:-1]
    with pytest.raises(ConfigError, match=r"no curves for .*'n_train': 20.*1 settings of the grid missing"):
        curve_table(curves)
    curves = _tiny_curves()
    curves["runs"].append(dict(curves["runs"][0]))
    with pytest.raises(ConfigError, match="appears twice"):
        curve_table(curves)


def test_regularization_curves_refuses_an_incomplete_grid():
    from types import SimpleNamespace
    split = SimpleNamespace(X_train=None, y_train=None, X_val=None, y_val=None)   # the grid is checked first
    with pytest.raises(ConfigError, match="needs exactly the keys"):
        regularization_curves(split, {"n_train": (500,)})


def test_regularization_curves_refuses_what_is_not_a_split():
    with pytest.raises(ConfigError, match=r"split must be a nncourse.data.Split \(from validation_split"):
        regularization_curves(None, {"n_train": (500,)})


def test_the_stored_curves_cover_the_grid_and_are_plausible():
    curves = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert curves["settings"]["grid"] == {k: list(v) for k, v in CURVE_GRID.items()}
    table = curve_table(curves)
    assert len(table) == 24
    for run in table.values():
        assert len(run["loss"]) == len(run["val_loss"]) == len(run["val_accuracy"]) == curves["settings"]["epochs"]
        assert np.all(np.isfinite(run["loss"] + run["val_loss"])) and run["loss"][-1] < run["loss"][0]
    # more data helps: without regularization, 2,000 digits beat 500 on the validation loss
    assert min(table[(2000, 0.0, 0.0, 0)]["val_loss"]) < min(table[(500, 0.0, 0.0, 0)]["val_loss"]) - 0.1


@pytest.fixture(scope="module")
def split():
    from nncourse.data import load_mnist, validation_split
    from nncourse.errors import DataError

    if os.environ.get("NNCOURSE_MNIST_SAMPLE"):
        data = load_mnist(quiet=True)
    else:
        try:
            data = load_mnist(download=False, quiet=True)
        except DataError:
            pytest.skip("no MNIST here: set NNCOURSE_MNIST_SAMPLE to the offline sample folder")
    return validation_split(data.X_train, data.y_train, 1000, seed=0)


def test_the_stored_curves_are_what_the_code_computes(split):
    """Retrain two settings of the grid (500 digits: plain, and dropout + shifts) and compare with the file."""
    from nncourse.data import balanced_subset

    curves = json.loads(RESULTS.read_text(encoding="utf-8"))
    table = curve_table(curves)
    X, y = balanced_subset(split.X_train, split.y_train, 500, seed=0)
    for dropout, augment in [(0.0, 0), (0.3, 2)]:
        settings = RegularizedRun(dropout=dropout, augment=augment)
        _, history = train_regularized(settings, (X, y, split.X_val, split.y_val), seed=curves["settings"]["seed"])
        stored = table[(500, dropout, 0.0, augment)]
        np.testing.assert_allclose(history["loss"], stored["loss"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(history["val_loss"], stored["val_loss"], rtol=1e-4, atol=1e-6)
