"""Figures for the course: digits, confusion matrices, mistakes, training curves, decision boundaries.

Every function builds and **returns** a ``matplotlib.figure.Figure`` without touching pyplot's global
state (nothing is shown or kept open behind your back). In a notebook, leave the figure as the last
expression of a cell (or call ``display(fig)``) to see it; elsewhere use ``fig.savefig("name.png")``.
The drawings depend only on the data, so the same input gives the same picture.
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from . import validation
from .errors import ConfigError, ShapeError
from .evaluation import _labels, _to_numpy, predicted_labels

__all__ = ["plot_digits", "plot_confusion_matrix", "plot_mistakes", "plot_history", "plot_decision_boundary"]

RIGHT = "tab:green"
WRONG = "tab:red"
CLASS_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                 "tab:gray", "tab:olive", "tab:cyan"]


def _as_images(images):
    """Images as ``(n, side, side)``: accepts ``(n, side * side)`` rows (like ``(n, 784)``) or ``(n, h, w)``."""
    images = _to_numpy(images, "images")
    if images.dtype.kind not in "fiub":
        raise ConfigError(f"images must hold pixel values (numbers), got dtype {images.dtype}")
    validation.finite(images, "plot", argument="images")
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ShapeError(f"flattened images need a square number of pixels per row, got {images.shape[1]}")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ShapeError(f"images must be (n, pixels) or (n, height, width), got shape {images.shape}")
    return images


def _check_cmap(cmap, who):
    """A matplotlib colormap name (or a Colormap); None means matplotlib's default."""
    import matplotlib
    if cmap is None or isinstance(cmap, matplotlib.colors.Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise ConfigError(f"{who}: cmap must be the name of a matplotlib colormap (or a Colormap), got "
                          f"{type(cmap).__name__} {cmap!r:.40}; try cmap='gray_r', 'viridis' or 'Blues'")
    if cmap not in matplotlib.colormaps:
        raise ConfigError(f"{who}: cmap {cmap!r} is not a matplotlib colormap; try 'gray_r', 'viridis' or 'Blues'")
    return cmap


def _predictions(values, name, who):
    """Class labels from ``values`` (labels, scores or probabilities: ``predicted_labels``), after refusing 1-D
    floats outside [0, 1], which are neither labels nor probabilities of class 1."""
    array = _to_numpy(values, name)
    if array.dtype.kind == "f" and array.ndim == 1 and array.size \
            and not (np.nanmin(array) >= 0 and np.nanmax(array) <= 1):
        raise ConfigError(f"{who}: {name} holds floats outside [0, 1] (from {np.nanmin(array):.3g} to "
                          f"{np.nanmax(array):.3g}), which are neither class labels nor probabilities of class 1; "
                          f"pass labels as integers (.astype(int)), probabilities, or the (n, C) scores")
    return predicted_labels(array)


def _grid_shape(n, ncols):
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ConfigError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = max(1, min(int(ncols), n))
    return -(-n // ncols), ncols  # ceiling division


def plot_digits(images, labels=None, predictions=None, ncols=10, *, max_images=100, cmap="gray_r"):
    """A grid of digit images, titled with their label.

    With ``predictions`` each title shows the prediction, green when it equals the label and red
    (with the true label in brackets) when it does not. At most ``max_images`` are drawn.
    """
    max_images = validation.positive_int(max_images, "max_images", "plot_digits")
    cmap = _check_cmap(cmap, "plot_digits")
    images = _as_images(images)
    if len(images) == 0:
        raise ShapeError("plot_digits needs at least one image (images is empty)")
    labels = None if labels is None else _labels(labels, "labels")
    predictions = None if predictions is None else _predictions(predictions, "predictions", "plot_digits")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != len(images):
            raise ShapeError(f"plot_digits: {name} has {len(values)} entries for {len(images)} images (images of "
                             f"shape {images.shape}); give one entry per image, and images as (n, pixels) or "
                             f"(n, height, width)")
    images = images[:max_images]
    n = len(images)
    labels = None if labels is None else labels[:n]
    predictions = None if predictions is None else predictions[:n]
    nrows, ncols = _grid_shape(n, ncols)
    fig = Figure(figsize=(1.1 * ncols, 1.25 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= n:
            continue
        ax.imshow(images[index], cmap=cmap)
        if predictions is None:
            if labels is not None:
                ax.set_title(f"{labels[index]}", fontsize=9)
        elif labels is None:
            ax.set_title(f"{predictions[index]}", fontsize=9)
        elif predictions[index] == labels[index]:
            ax.set_title(f"{predictions[index]}", fontsize=9, color=RIGHT)
        else:
            ax.set_title(f"{predictions[index]} ({labels[index]})", fontsize=9, color=WRONG)
    return fig


def plot_confusion_matrix(cm, class_names=None, *, ax=None, cmap="Blues", title="Confusion matrix"):
    """A heat map of a confusion matrix (rows: true class, columns: predicted class) with the counts written in."""
    cmap = _check_cmap(cmap, "plot_confusion_matrix")
    validation.text(title, "title", "plot_confusion_matrix", allow_empty=True)
    cm = _to_numpy(cm, "cm")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        raise ShapeError(f"a confusion matrix cm is square (C, C) with C >= 1, got shape {cm.shape}")
    if cm.dtype.kind not in "fiu":
        raise ConfigError(f"plot_confusion_matrix: cm must hold counts or rates, got dtype {cm.dtype}")
    validation.finite(cm, "plot_confusion_matrix", argument="cm")
    if cm.min() < 0 or (cm.dtype.kind == "f" and np.any((cm > 1) & (cm != np.round(cm)))):
        raise ConfigError(f"plot_confusion_matrix: cm must hold counts (whole numbers >= 0) or rates in [0, 1], got "
                          f"values from {cm.min():.3g} to {cm.max():.3g}; pass confusion_matrix(y_true, y_pred), "
                          f"or its rows divided by their sums for rates")
    n_classes = len(cm)
    names = [str(c) for c in (class_names if class_names is not None else range(n_classes))]
    if len(names) != n_classes:
        raise ShapeError(f"class_names has {len(names)} names for {n_classes} classes")
    fig, ax = _figure_and_axes(ax, figsize=(0.55 * n_classes + 2.5, 0.55 * n_classes + 2))
    image = ax.imshow(cm, cmap=cmap)
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = (cm.max() + cm.min()) / 2 if cm.size else 0
    integer_counts = np.issubdtype(cm.dtype, np.integer)
    for i in range(n_classes):
        for j in range(n_classes):
            text = f"{cm[i, j]:d}" if integer_counts else f"{cm[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    ax.set_xticks(range(n_classes), names)
    ax.set_yticks(range(n_classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return fig


def plot_mistakes(images, y_true, y_pred, probs, *, ncols=5, cmap="gray_r"):
    """Misclassified digits: each image titled "predicted (true)", with a bar chart of the model's probabilities.

    The predicted class's bar is red, the true class's bar green. Pass the rows of the mistakes only,
    e.g. from ``most_confident_mistakes``: ``images[m.indices], y[m.indices], m.predicted, m.probabilities``.
    """
    cmap = _check_cmap(cmap, "plot_mistakes")
    images = _as_images(images)
    n = len(images)
    if n == 0:                             # first: with no mistakes every argument is empty
        raise ShapeError("plot_mistakes: images is empty, there is nothing to draw (were there no mistakes?); "
                         "pass the images of the mistakes, e.g. images[m.indices]")
    y_true = _labels(y_true, "y_true")
    y_pred = _predictions(y_pred, "y_pred", "plot_mistakes")
    probs = _to_numpy(probs, "probs")
    if probs.dtype.kind != "f":
        raise ConfigError(f"plot_mistakes: probs must be float probability rows (n, C), got dtype {probs.dtype}")
    validation.finite(probs, "plot_mistakes", argument="probs")
    if probs.ndim != 2:
        raise ShapeError(f"probs must be (n, C) probability rows, got shape {probs.shape}")
    for name, values in (("y_true", y_true), ("y_pred", y_pred), ("probs", probs)):
        if len(values) != n:
            raise ShapeError(f"{name} has {len(values)} rows for {n} images")
    nrows, ncols = _grid_shape(n, ncols)
    fig = Figure(figsize=(1.7 * ncols, 2.4 * nrows), layout="constrained")
    grid = fig.add_gridspec(2 * nrows, ncols, height_ratios=[3, 1] * nrows)
    classes = np.arange(probs.shape[1])
    for index in range(n):
        row, col = divmod(index, ncols)
        image_ax = fig.add_subplot(grid[2 * row, col])
        image_ax.imshow(images[index], cmap=cmap)
        image_ax.set_axis_off()
        image_ax.set_title(f"{y_pred[index]} ({y_true[index]})", fontsize=9, color=WRONG)
        bar_ax = fig.add_subplot(grid[2 * row + 1, col])
        colours = ["lightgray"] * len(classes)
        if 0 <= y_true[index] < len(classes):
            colours[y_true[index]] = RIGHT
        if 0 <= y_pred[index] < len(classes):
            colours[y_pred[index]] = WRONG
        bar_ax.bar(classes, probs[index], color=colours)
        bar_ax.set_ylim(0, 1)
        bar_ax.set_xticks(classes, [str(c) for c in classes], fontsize=6)
        bar_ax.set_yticks([])
    fig.suptitle("predicted (true): red bar = predicted, green bar = true", fontsize=9)
    return fig


def _series(history, key):
    try:
        values = history[key] if key in history else None
    except TypeError:
        raise ConfigError("history must be dict-like (a History or a dict of per-epoch lists)") from None
    return list(values) if values is not None and len(values) > 0 else None


def plot_history(history, *, title=None):
    """Training curves: loss and accuracy per epoch, for the training and the validation data.

    ``history`` maps ``"loss"``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"`` (and ``"lr"``) to
    per-epoch lists, as ``fit`` returns; absent or empty entries are skipped. A third panel shows the
    learning rate when it changes during training.
    """
    loss, val_loss = _series(history, "loss"), _series(history, "val_loss")
    acc, val_acc = _series(history, "accuracy"), _series(history, "val_accuracy")
    lr = _series(history, "lr")
    if loss is None and val_loss is None:
        raise ConfigError("history has no 'loss' or 'val_loss' entries to plot")
    show_lr = lr is not None and len(set(lr)) > 1
    panels = 1 + (acc is not None or val_acc is not None) + show_lr
    fig = Figure(figsize=(4.2 * panels, 3.2), layout="constrained")
    axes = iter(fig.subplots(1, panels, squeeze=False)[0])

    def draw(ax, train, val, label):
        for values, name, style in ((train, "train", "-"), (val, "validation", "--")):
            if values is not None:
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()

    draw(next(axes), loss, val_loss, "loss")
    if acc is not None or val_acc is not None:
        draw(next(axes), acc, val_acc, "accuracy")
    if show_lr:
        ax = next(axes)
        ax.plot(np.arange(1, len(lr) + 1), lr, marker="o", markersize=3, color="tab:gray")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def _figure_and_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_decision_boundary(predict_fn, X, y, ax=None, X_test=None, y_test=None, *, resolution=200, padding=0.5,
                           title=None):
    """Colour the plane by the class ``predict_fn`` assigns to each point, and draw the data on top.

    ``predict_fn`` receives a grid of points ``(m, 2)`` with ``X``'s dtype (float64 when ``X`` holds
    integers, such as a truth table's 0/1 inputs) and returns labels ``(m,)``,
    scores ``(m, C)`` or probabilities of class 1 ``(m,)``/``(m, 1)``. Training points are drawn as
    circles, ``X_test``/``y_test`` (optional) as crosses. Pass ``ax`` to draw into an existing figure.
    """
    who = "plot_decision_boundary"
    if not callable(predict_fn):
        raise ConfigError(f"{who}: predict_fn must be a function of the points, such as model.predict or "
                          f"lambda P: predict(model, P), got {type(predict_fn).__name__}")
    X = _to_numpy(X, "X")
    if X.ndim != 2 or X.shape[1] != 2:
        raise ShapeError(f"plot_decision_boundary draws 2-D data: X must be (n, 2), got shape {X.shape}")
    if X.dtype.kind not in "fiu":
        raise ConfigError(f"{who}: X must hold numbers, got dtype {X.dtype}")
    validation.finite(X, who, argument="X")
    y = _to_numpy(y, "y")
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ShapeError(f"{who}: y must hold one class label per point, shape (n,), got {y.shape}")
    y = _labels(y, "y")
    if len(y) != len(X):
        raise ShapeError(f"X has {len(X)} rows but y has {len(y)}")
    resolution = validation.positive_int(resolution, "resolution", who)
    if resolution < 2:
        raise ConfigError(f"{who}: resolution must be at least 2 (grid points per side), got {resolution}")
    padding = float(validation.as_array(padding, "padding", who))
    if not np.isfinite(padding) or padding < 0:
        raise ConfigError(f"{who}: padding must be a finite number >= 0 (the margin around the data), got "
                          f"{padding!r}")
    points = X if X_test is None else np.concatenate([X, _to_numpy(X_test, "X_test")])
    low, high = points.min(axis=0) - padding, points.max(axis=0) + padding
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    if np.issubdtype(X.dtype, np.floating):
        grid = grid.astype(X.dtype)
    predicted = predicted_labels(predict_fn(grid))
    if len(predicted) != len(grid):
        raise ShapeError(f"predict_fn returned {len(predicted)} predictions for {len(grid)} points")
    y_test = None if y_test is None else np.asarray(_to_numpy(y_test, "y_test")).reshape(-1)
    n_classes = int(max(predicted.max(), y.max(), 0 if y_test is None else y_test.max())) + 1
    colours = ListedColormap((CLASS_COLOURS * (n_classes // len(CLASS_COLOURS) + 1))[:n_classes])

    fig, ax = _figure_and_axes(ax, figsize=(5, 4.2))
    ax.contourf(grid_x, grid_y, predicted.reshape(grid_x.shape), levels=np.arange(n_classes + 1) - 0.5,
                cmap=colours, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=colours, vmin=-0.5, vmax=n_classes - 0.5, s=18, edgecolors="k",
               linewidths=0.4, label="train")
    if X_test is not None and y_test is not None:
        X_test = _to_numpy(X_test, "X_test")
        ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap=colours, vmin=-0.5,
                   vmax=n_classes - 0.5, s=30, marker="x", label="test")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig
