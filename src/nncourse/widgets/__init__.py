"""Interactive widgets: the playground and the smaller widgets the chapters use.

Every widget comes in two forms:

- **live** (needs a running Jupyter kernel): moving a control runs Python, retrains and redraws;
- **static** (works in the published book, no kernel): the pictures are computed when the book is
  built and the controls flip between them in the browser (see ``nncourse.widgets.static``).

Main entry points::

    PlaygroundSettings(...)        every playground control, declared once (frozen, repr = code)
    train_playground(settings)     the pure training function behind the playground
    Playground(settings)           the live playground
    static_playground()            learning rate x hidden layers, precomputed
    perceptron_stepper()           the perceptron rule, step by step, on AND / OR
    optimizer_race()               optimizers racing on a 2-D loss surface
    mnist_comparison(results)      accuracy for learning rate x hidden layers on MNIST
    kernel_explorer(images)        a 3×3 kernel slid over a digit: the feature map it makes
    temperature_sampler(model, train_names)   names sampled at several temperatures (chapter 8)
    next_char_explorer(models)     P(next character | prefix) for several models (chapter 8)
    attention_explorer(model, seqs) attention heatmaps per input, layer and head (chapter 9)
    sampling_explorer(...)         GPT samples by temperature, top-k and prefix (chapter 10)
    regularization_explorer(curves) training/validation curves for size x dropout x decay x shifts (chapter 11)
    depth_explorer()               activations per layer for depth x activation x init (chapter 12)
"""

from .settings import Control, PlaygroundSettings, controls
from .training import PlaygroundResult, divergence_message, make_data, train_playground
from .render import PlaygroundFigure
from .static import Axis, figure_png, precomputed_widget
from .playground import Playground, static_playground
from .perceptron import perceptron_stepper
from .race import optimizer_race
from .mnist import mnist_comparison
from .kernels import PRESET_KERNELS, feature_map, kernel_explorer
from .sampling import next_char_explorer, temperature_sampler
from .attention import attention_explorer
from .gpt_sampling import sampling_explorer
from .regularization import regularization_explorer
from .depth import depth_explorer

__all__ = [
    "Axis", "attention_explorer", "Control", "Playground", "PlaygroundFigure", "PlaygroundResult", "PlaygroundSettings",
    "controls", "divergence_message", "figure_png", "make_data", "mnist_comparison",
    "optimizer_race", "perceptron_stepper", "precomputed_widget", "static_playground",
    "train_playground",
    "PRESET_KERNELS", "feature_map", "kernel_explorer",          # chapter 7
    "temperature_sampler", "next_char_explorer",                  # chapter 8
    "sampling_explorer",                                          # chapter 10
    "regularization_explorer",                                    # chapter 11
    "depth_explorer",                                             # chapter 12
]
