"""``kernel_explorer(images)``: slide a 3×3 kernel over a digit and see the feature map it makes.

Three panels: the digit, the kernel (its nine numbers written in the cells) and the feature map
``Conv2d(1, 1, 3, padding=1)`` computes with that kernel (red: positive, blue: negative).

* ``static=True`` (the published book, no kernel): a kernel chooser and a digit slider flip between
  precomputed pictures (``PRESET_KERNELS`` × the digits given).
* ``static=False`` (a live notebook): the same chooser and slider, plus the kernel's nine numbers as
  editable boxes; choosing a preset fills them in, editing a number redraws the feature map.

Example::

    from nncourse.data import load_mnist
    mnist = load_mnist()
    kernel_explorer(mnist.X_test[:6].reshape(-1, 28, 28), mnist.y_test[:6])
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import validation
from ..errors import ConfigError, ShapeError
from ..validation import boolean
from . import arguments
from .static import PAGE_PNG, Axis, figure_png, png_image, precomputed_widget

__all__ = ["PRESET_KERNELS", "feature_map", "kernel_explorer"]

#: name -> 3×3 kernel. Edge kernels sum to 0, so a flat region gives 0 and only changes light up.
PRESET_KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "vertical edges": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],        # Sobel: left minus right
    "horizontal edges": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],      # Sobel: top minus bottom
    "diagonal edges": [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],          # Laplacian-like: centre minus ring
    "blur": [[1 / 9] * 3] * 3,                                     # the mean of the 3×3 window
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}


def feature_map(image, kernel):
    """The ``(28, 28)`` feature map of one ``(28, 28)`` image: ``Conv2d(1, 1, 3, padding=1)``, no bias."""
    from ..numpy_nn import Conv2d

    who = "feature_map"
    kernel = validation.as_array(kernel, "kernel", who).astype(np.float64)
    image = validation.as_array(image, "image", who).astype(np.float64)
    if kernel.shape != (3, 3):
        raise ShapeError(f"kernel_explorer: a kernel must be 3×3, got shape {kernel.shape}")
    if image.ndim != 2 or image.size == 0:
        raise ShapeError(f"kernel_explorer: an image must be 2-D (height, width) and not empty, got shape "
                         f"{image.shape}")
    validation.finite(kernel, who, argument="kernel")
    validation.finite(image, who, argument="image")
    conv = Conv2d(1, 1, 3, padding=1, bias=False, init="zeros", dtype=np.float64)
    conv.weight.data[0, 0] = kernel
    return conv(image[None, None])[0, 0]


class _KernelFigure:
    """One Matplotlib figure, redrawn for each (kernel, digit)."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        self.fig = Figure(figsize=(7.2, 2.5), dpi=72)
        FigureCanvasAgg(self.fig)
        self.axes = [self.fig.add_axes([0.02 + 0.33 * k, 0.04, 0.29, 0.78]) for k in range(3)]

    def render(self, kernel, index, **png) -> bytes:
        kernel = np.asarray(kernel, dtype=np.float64)
        image = self.images[index]
        fmap = feature_map(image, kernel)
        ax_img, ax_k, ax_map = self.axes
        for ax in self.axes:
            ax.clear()
            ax.set_xticks([])
            ax.set_yticks([])
        label = "" if self.labels is None else f" (a {self.labels[index]})"
        ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax_img.set_title(f"digit {index}{label}", fontsize=10)
        limit = max(float(np.abs(kernel).max()), 1e-12)
        ax_k.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), v in np.ndenumerate(kernel):
            ax_k.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=11)
        ax_k.set_title("3×3 kernel", fontsize=10)
        reach = max(float(np.abs(fmap).max()), 1e-12)
        ax_map.imshow(fmap, cmap="RdBu_r", vmin=-reach, vmax=reach)
        ax_map.set_title(f"feature map (range {fmap.min():.2g} to {fmap.max():.2g})", fontsize=10)
        return figure_png(self.fig, **png)


def _check_images(images, labels):
    who = "kernel_explorer"
    images = validation.as_array(images, "images", who).astype(np.float64)
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or len(images) == 0:
        raise ShapeError(f"kernel_explorer expects images of shape (n, height, width) (or rows of 784 "
                         f"pixels), got {images.shape}")
    validation.finite(images, who, argument="images")
    if labels is None:
        return images, None
    labels = validation.as_array(labels, "labels", who)
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise ConfigError(f"{who}: labels must be one whole-number class per image, shape (n,), got dtype "
                          f"{labels.dtype} and shape {labels.shape}; pass the digits' labels such as y_test[:6]")
    if len(labels) != len(images):
        raise ConfigError(f"kernel_explorer: {len(images)} images but {len(labels)} labels")
    return images, [int(v) for v in labels]


def kernel_explorer(images, labels=None, *, kernels=None, static: bool = True) -> W.Widget:
    """Choose a 3×3 kernel and a digit; see the feature map. ``kernels``: name -> 3×3 (default presets).

    ``static=True`` precomputes every (kernel, digit) picture (works in the published book);
    ``static=False`` adds the kernel's nine numbers as editable boxes (needs a running kernel).
    """
    static = boolean(static, "static", "kernel_explorer")
    images, labels = _check_images(images, labels)
    static = boolean(static, "static", "kernel_explorer")
    if kernels is not None:
        arguments.mapping(kernels, "kernels", "kernel_explorer", example="{'edge': [[-1, 0, 1]] * 3}")
    kernels = dict(PRESET_KERNELS if kernels is None else kernels)
    for name, k in kernels.items():
        if np.shape(k) != (3, 3):
            raise ShapeError(f"kernel_explorer: kernel {name!r} must be 3×3, got shape {np.shape(k)}")
    names = list(kernels)
    fig = _KernelFigure(images, labels)
    if static:
        axes = [Axis("Kernel", names, kind="buttons"), Axis("Digit", list(range(len(images))))]
        return precomputed_widget(axes, lambda i, j: fig.render(kernels[names[i]], j, **PAGE_PNG))
    return _live(fig, kernels, len(images))


def _live(fig, kernels, n_images):
    preset = W.Dropdown(options=list(kernels), description="Kernel")
    digit = W.IntSlider(0, 0, n_images - 1, description="Digit")
    boxes = [W.FloatText(value=0.0, step=0.5, layout=W.Layout(width="70px")) for _ in range(9)]
    grid = W.GridBox(boxes, layout=W.Layout(grid_template_columns="repeat(3, 76px)"))
    image = png_image(fig.render(kernels[preset.value], 0))
    state = {"filling": False}

    def current_kernel():
        return np.array([b.value for b in boxes], dtype=np.float64).reshape(3, 3)

    def redraw(_=None):
        if not state["filling"]:
            image.value = fig.render(current_kernel(), digit.value)

    def fill(_=None):
        state["filling"] = True
        for box, v in zip(boxes, np.asarray(kernels[preset.value], dtype=np.float64).ravel()):
            box.value = round(float(v), 4)
        state["filling"] = False
        redraw()

    fill()
    preset.observe(fill, names="value")
    digit.observe(redraw, names="value")
    for box in boxes:
        box.observe(redraw, names="value")
    box = W.VBox([W.HBox([preset, digit]), W.HTML("edit the kernel:"), grid, image])
    box.controls, box.boxes, box.image = (preset, digit), boxes, image
    return box
