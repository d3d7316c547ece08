"""Figures: each function returns a Figure with the expected content and never opens a pyplot window."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from nncourse.data import blobs
from nncourse.errors import ConfigError, ShapeError
from nncourse.plots import (
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_digits,
    plot_history,
    plot_mistakes,
)

matplotlib.use("Agg")


def png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    return buffer.getvalue()


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    return rng.random((12, 784)).astype(np.float32), rng.integers(0, 10, 12)


def test_no_pyplot_figures_are_left_open(digits):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_digits(*digits)
    plot_history({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == before


def test_plot_digits_draws_one_image_per_digit_with_its_label(digits):
    images, labels = digits
    fig = plot_digits(images, labels, ncols=5)
    assert isinstance(fig, Figure)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 12 and len(fig.axes) == 15  # a 3 x 5 grid
    assert [ax.get_title() for ax in drawn] == [str(label) for label in labels]
    np.testing.assert_allclose(drawn[0].images[0].get_array(), images[0].reshape(28, 28))


def test_plot_digits_marks_wrong_predictions(digits):
    images, labels = digits
    predictions = labels.copy()
    predictions[2] = (labels[2] + 1) % 10
    fig = plot_digits(images, labels, predictions, ncols=6)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles[2] == f"{predictions[2]} ({labels[2]})"
    assert titles[0] == str(labels[0])
    colours = [ax.title.get_color() for ax in fig.axes if ax.images]
    assert colours[2] != colours[0]


def test_plot_digits_rejects_bad_shapes(digits):
    with pytest.raises(ShapeError, match="square"):
        plot_digits(np.zeros((3, 10)))
    with pytest.raises(ConfigError, match="ncols"):
        plot_digits(digits[0], ncols=0)


def test_the_same_input_gives_the_same_png(digits):
    assert png_bytes(plot_digits(*digits)) == png_bytes(plot_digits(*digits))


def test_plot_confusion_matrix_writes_every_count():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    fig = plot_confusion_matrix(cm)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    with pytest.raises(ShapeError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_mistakes_shows_prediction_truth_and_probability_bars(digits):
    images, _ = digits
    probs = np.full((3, 10), 0.02)
    probs[np.arange(3), [1, 2, 3]] = 0.82
    fig = plot_mistakes(images[:3], np.array([7, 8, 9]), np.array([1, 2, 3]), probs, ncols=3)
    image_axes = [ax for ax in fig.axes if ax.images]
    bar_axes = [ax for ax in fig.axes if ax.patches]
    assert [ax.get_title() for ax in image_axes] == ["1 (7)", "2 (8)", "3 (9)"]
    assert len(bar_axes) == 3
    heights = [patch.get_height() for patch in bar_axes[0].patches]
    np.testing.assert_allclose(heights, probs[0])
    bar_colours = [patch.get_facecolor() for patch in bar_axes[0].patches]
    assert bar_colours[1] != bar_colours[7] and bar_colours[0] != bar_colours[1]
    with pytest.raises(ShapeError, match="rows"):
        plot_mistakes(images[:3], np.array([7, 8]), np.array([1, 2, 3]), probs)


def test_plot_history_draws_train_and_validation_curves():
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.7, 0.8],
               "val_accuracy": [0.45, 0.6, 0.7], "lr": [0.1, 0.1, 0.1]}
    fig = plot_history(history)
    assert len(fig.axes) == 2  # a constant learning rate gets no panel
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), history["loss"])
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), history["val_accuracy"])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "validation"]


def test_plot_history_adds_a_panel_for_a_changing_learning_rate_and_skips_missing_curves():
    fig = plot_history({"loss": [1.0, 0.5], "lr": [0.1, 0.01], "val_loss": []})
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "learning rate"
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(ConfigError, match="loss"):
        plot_history({"accuracy": [0.5]})


def test_plot_decision_boundary_colours_the_plane_by_the_predicted_class():
    X, y = blobs(60, seed=1)
    calls = []

    def predict(points):
        calls.append(points)
        return (points.sum(axis=1) < 0).astype(np.int64)  # the diagonal that separates the blobs

    fig = plot_decision_boundary(predict, X, y, resolution=50)
    grid = calls[0]
    assert grid.shape == (2500, 2) and grid.dtype == X.dtype
    assert grid[:, 0].min() < X[:, 0].min() and grid[:, 1].max() > X[:, 1].max()
    ax = fig.axes[0]
    assert len(ax.collections) >= 2  # the filled regions and the scattered points
    scattered = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(scattered, X)


def test_plot_decision_boundary_draws_test_points_into_a_given_axes():
    X, y = blobs(40, seed=2)
    X_test, y_test = blobs(10, seed=3)
    fig = Figure()
    ax = fig.add_subplot()
    returned = plot_decision_boundary(lambda p: np.column_stack([p[:, 0], -p[:, 0]]), X, y, ax=ax,
                                      X_test=X_test, y_test=y_test, resolution=20)
    assert returned is fig
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), X_test)
    with pytest.raises(ShapeError, match=r"\(n, 2\)"):
        plot_decision_boundary(lambda p: p[:, 0], np.zeros((5, 3)), np.zeros(5, dtype=int))
