"""Widgets and plots refuse wrong arguments with a course error that names the argument and the fix
(issue 27, section 4: the contract sweep's cases for ``nncourse.widgets`` and ``nncourse.plots``).

Learners call these with their own models and data from the chapters, so each case below is a mistake
a learner can make; the last tests check that the legitimate values next to them still work.
"""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from nncourse import models, plots
from nncourse.autograd import Value
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.tokenizers import BPETokenizer
from nncourse.widgets import (Axis, Playground, PlaygroundFigure, PlaygroundSettings, divergence_message,
                              feature_map, figure_png, kernel_explorer, mnist_comparison, next_char_explorer,
                              optimizer_race, perceptron_stepper, precomputed_widget, static_playground,
                              temperature_sampler, train_playground)
from nncourse.widgets import attention, backprop, depth, race, regularization, render, sampling
from nncourse.widgets import scaling, static, tokens
from nncourse.widgets.gpt_sampling import sampling_explorer
from nncourse.widgets.playground import make_control
from nncourse.widgets.settings import controls

NAMES = ["anna", "bob", "carl", "dora", "eve", "fred", "gus", "hana"]
PNG = b"\x89PNG\r\n\x1a\n"


def refuses(error, call, *words):
    with pytest.raises(error) as caught:
        call()
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def name_model():
    return models.charlm.BigramCounts().fit(NAMES)


def tagger():
    return models.AttentionTagger(6, 5, embed_dim=8, num_heads=2, num_layers=1, num_classes=None, seed=0)


def small_figure():
    fig = Figure(figsize=(1, 1), dpi=20)
    return fig, fig.add_subplot()


# ------------------------------------------------------------------------------ static widgets


@pytest.mark.parametrize("kwargs, words", [
    (dict(label=None, values=[0.1, 0.3]), ["label must be a string", "label='...'"]),
    (dict(label="lr", values=[[1.0, 2.0], [3.0]]), ["values[0]", "flat list"]),
    (dict(label="lr", values=[float("nan"), 0.3]), ["values[0] is NaN", "leave it out"]),
    (dict(label="lr", values=[0.1, 0.3], labels=[]), ["2 values but 0 labels", "one label per value"]),
    (dict(label="lr", values=[0.1, 0.3], labels=[1, 2]), ["labels must be a list of strings", "leave labels out"]),
    (dict(label="lr", values=[0.1, 0.3], kind=""), ["kind must be 'slider' or 'buttons'"]),
    (dict(label="lr", values=[0.1, 0.3], default=0.7), ["default 0.7 is not one of"]),
])
def test_axis_checks_every_field_when_it_is_made(kwargs, words):
    refuses(ConfigError, lambda: Axis(**kwargs), *words)


def test_figure_png_wants_a_figure_and_a_zlib_level():
    fig, ax = small_figure()
    refuses(ConfigError, lambda: figure_png(ax), "fig must be a Matplotlib Figure", "ax.figure")
    refuses(ConfigError, lambda: figure_png(None), "fig must be a Matplotlib Figure")
    for level in (-1, 10, 2.5, "3", True):
        refuses(ConfigError, lambda: figure_png(fig, compress_level=level), "compress_level must be a whole number",
                "0 (no compression) to 9")


def test_png_image_wants_png_bytes():
    for png in (b"", "png", None):
        refuses(ConfigError, lambda: static.png_image(png), "png must be the bytes of a PNG picture", "figure_png")


def test_precomputed_widget_checks_axes_render_and_texts():
    axes = [Axis("lr", [0.1, 0.3])]
    refuses(ConfigError, lambda: precomputed_widget([], lambda i: PNG), "axes must be a non-empty list of Axis")
    refuses(ConfigError, lambda: precomputed_widget("lr", lambda i: PNG), "axes must be a non-empty list of Axis")
    refuses(ConfigError, lambda: precomputed_widget(axes[0], lambda i: PNG), "axes must be a list of Axis",
            "[Axis(...)]")
    refuses(ConfigError, lambda: precomputed_widget(axes, PNG), "render must be a function", "figure_png")
    refuses(ConfigError, lambda: precomputed_widget(axes, lambda i: PNG, title=None), "title must be a string")
    refuses(ConfigError, lambda: precomputed_widget(axes, lambda i: PNG, footer=b"f"), "footer must be a string",
            "decode")


# ------------------------------------------------------------------------------ the playground


def test_playground_checks_its_trainer_and_figure():
    refuses(ConfigError, lambda: Playground(trainer=None), "trainer must be a function", "train_playground")
    refuses(ConfigError, lambda: Playground(figure="figure"), "figure must be a PlaygroundFigure")
    refuses(ConfigError, lambda: Playground({"samples": 40}), "as settings", "PlaygroundSettings(")
    refuses(ConfigError, lambda: train_playground("xor"), "as settings", "PlaygroundSettings(")


def test_playground_figure_wants_a_result():
    figure = PlaygroundFigure(width=4.0, height=2.0, dpi=40)
    refuses(ConfigError, lambda: figure.render({"loss": 1.0}), "result must be the PlaygroundResult",
            "train_playground(settings)")
    refuses(ConfigError, lambda: figure.update(None), "result must be the PlaygroundResult")


def test_nice_limit_wants_a_finite_number():
    for value in (float("nan"), float("inf"), "0.1"):
        refuses(ConfigError, lambda: render.nice_limit(value), "value must be a finite number")


def test_make_control_wants_a_setting_and_its_control():
    name, default, control = controls()[1]
    refuses(ConfigError, lambda: make_control("no_such_setting", default, control),
            "name must be the name of a playground setting", "learning_rate")
    refuses(ConfigError, lambda: make_control(None, default, control), "name must be the name")
    refuses(ConfigError, lambda: make_control(name, default, None), "c must be the Control", "controls()")


def test_static_playground_names_the_bad_learning_rate():
    base = PlaygroundSettings(samples=50, epochs=3)
    refuses(ConfigError, lambda: static_playground(base, learning_rates=(0.01, float("nan")), hidden_layers=(0,)),
            "learning_rates[1]", "not a valid learning_rate")
    refuses(ConfigError, lambda: static_playground(base, learning_rates=[[1.0, 2.0]], hidden_layers=(0,)),
            "learning_rates[0]")


# ------------------------------------------------------------------------------ chapter widgets


def test_attention_maps_for_checks_the_model_and_the_tokens():
    model = tagger()
    ids = np.array([1, 2, 3, 4, 0])
    refuses(ConfigError, lambda: attention.attention_maps_for(None, ids), "expects an attention model",
            "AttentionTagger")
    refuses(DTypeError, lambda: attention.attention_maps_for(model, ids + 0.5), "tokens must be integer token ids",
            ".astype(int)")
    refuses(ShapeError, lambda: attention.attention_maps_for(model, ids[None]), "tokens must be one non-empty",
            "once per row")
    refuses(ShapeError, lambda: attention.attention_maps_for(model, [[1, 2], [3]]), "tokens must be a rectangular")


def test_draw_attention_checks_the_weights_and_the_tokens():
    _, ax = small_figure()
    weights = np.full((3, 3), 1 / 3)
    labels = ["a", "b", "c"]
    refuses(DTypeError, lambda: attention.draw_attention(ax, weights.astype(int), labels, labels),
            "weights must be float", "astype(float)")
    bad = weights.copy()
    bad[0, 0] = np.nan
    refuses(NonFiniteError, lambda: attention.draw_attention(ax, bad, labels, labels), "weights", "NaN")
    refuses(ShapeError, lambda: attention.draw_attention(ax, weights[None], labels, labels),
            "weights must be one head's", "maps[layer, head]")
    refuses(ShapeError, lambda: attention.draw_attention(ax, weights, labels[:2], labels),
            "inputs must give one token for each of the 3 keys")
    refuses(ShapeError, lambda: attention.draw_attention(ax, weights, labels, [[1.0, 2.0], [3.0]]),
            "outputs must give one token for each of the 3 queries")
    refuses(ConfigError, lambda: attention.draw_attention(ax, weights, labels, labels, title=None),
            "title must be a string")


def test_attention_explorer_refuses_ragged_sequences():
    refuses(ShapeError, lambda: attention.attention_explorer(tagger(), [[1, 2, 3], [1]]),
            "sequences must be a rectangular array", "same length")


def test_feature_map_and_kernel_explorer_check_their_arrays():
    image = np.random.default_rng(0).random((6, 6))
    bad = image.copy()
    bad[0, 0] = np.nan
    refuses(NonFiniteError, lambda: feature_map(bad, np.ones((3, 3))), "feature_map", "the image contains")
    refuses(NonFiniteError, lambda: feature_map(image, np.full((3, 3), np.inf)), "the kernel contains")
    refuses(ShapeError, lambda: feature_map(image, [[1.0, 2.0], [3.0]]), "kernel must be a rectangular")
    refuses(ShapeError, lambda: feature_map(image[:0], np.ones((3, 3))), "an image must be 2-D", "not empty")
    images = np.random.default_rng(0).random((2, 28, 28))
    refuses(ConfigError, lambda: kernel_explorer(images, labels=np.array([1.5, 2.5])),
            "labels must be one whole-number class per image", "y_test[:6]")
    refuses(ShapeError, lambda: kernel_explorer([[1.0, 2.0], [3.0]]), "images must be a rectangular")


def test_mnist_comparison_names_results():
    refuses(ConfigError, lambda: mnist_comparison(None), "results must be a non-empty dict")
    refuses(ConfigError, lambda: mnist_comparison({"a": 1}), "the keys of results", "(0.01, 2)")


def test_race_checks_lr_steps_and_surfaces():
    refuses(ConfigError, lambda: race.race("bowl", lr="0.1"), "race: lr must be a finite number > 0")
    for steps in (0, -1, 2.5, "3", True):
        refuses(ConfigError, lambda: race.race("bowl", steps=steps), "steps must be a whole number >= 1")
    refuses(ConfigError, lambda: optimizer_race([["bowl"]]), "surfaces[0] must be one of", "rosenbrock")
    refuses(ConfigError, lambda: optimizer_race(("bowl",), (float("nan"), 0.1)), "learning_rates[0]")
    refuses(ConfigError, lambda: optimizer_race(("bowl",), (0.1,), steps=0), "steps must be a whole number")


def test_perceptron_stepper_names_the_bad_gate():
    refuses(ConfigError, lambda: perceptron_stepper([["and"]]), "gates[0] must be one of", "xor")


def test_name_sampling_widgets_check_models_temperatures_and_prefixes():
    model = name_model()
    refuses(ConfigError, lambda: sampling.temperature_samples(None), "expects a character-level name model")
    refuses(ConfigError, lambda: sampling.temperature_samples(model, [float("nan")]), "temperatures[0]",
            "finite number > 0")
    refuses(ConfigError, lambda: sampling.temperature_samples(model, []), "temperatures is empty")
    refuses(ConfigError, lambda: temperature_sampler(model, [], temperatures=(1.0,)), "train_names is empty",
            "splits.train")
    refuses(ConfigError, lambda: temperature_sampler(model, NAMES, temperatures=[[1.0, 2.0]]), "temperatures[0]")
    refuses(ConfigError, lambda: sampling.render_next_char({}, "a"), "models is an empty dict")
    refuses(ConfigError, lambda: sampling.render_next_char({"bigram": model}, None), "prefix must be a string")
    refuses(ConfigError, lambda: next_char_explorer({"bigram": model}, prefixes=[[1.0, 2.0]]),
            "prefixes[0] must be a string")


def test_sampling_explorer_checks_each_choice():
    gpt = models.GPT(27, 8, 8, 2, 1, seed=0)
    refuses(ConfigError, lambda: sampling_explorer(gpt, NAMES, temperatures=(float("nan"),)), "temperatures[0]")
    refuses(ConfigError, lambda: sampling_explorer(gpt, NAMES, top_ks=(None, [1, 2])), "top_ks[1]")
    refuses(ConfigError, lambda: sampling_explorer(gpt, NAMES, prefixes=("", b"a")), "prefixes[1] must be a string")


def test_scaling_calculator_checks_every_list():
    refuses(ConfigError, lambda: scaling.scaling_calculator(model_sizes=()), "model_sizes is empty")
    refuses(ConfigError, lambda: scaling.scaling_calculator(model_sizes=(1e6, 2e6, 3e6), model_labels=("a", "b", "c")),
            "model_sizes[0] must be a whole number")
    refuses(ConfigError, lambda: scaling.scaling_calculator(model_sizes=(10, 20), model_labels=("a",)),
            "model_labels must be one string per model size")
    refuses(ConfigError, lambda: scaling.scaling_calculator(tokens=([1024],)), "tokens[0]")
    refuses(ConfigError, lambda: scaling.scaling_calculator(workers=(1, float("nan"))), "workers[1]")
    refuses(ConfigError, lambda: scaling.scaling_calculator(dtypes=("int8",)), "dtypes[0] must be one of", "bfloat16")


def test_token_widgets_name_their_arguments():
    tok = BPETokenizer.train(["hello hello world", "low lower lowest"], 260)
    refuses(ConfigError, lambda: tokens.token_explorer({}), "tokenizers is empty")
    refuses(ConfigError, lambda: tokens.token_explorer({"bpe": tok}, examples={}), "examples is empty")
    for default in ("", b"bpe", "512"):
        refuses(ConfigError, lambda: tokens.token_explorer({"bpe": tok}, default=default),
                "default must be one of the tokenizers' labels")
    refuses(ConfigError, lambda: tokens.tokens_html(tok, b"hello"), "as text", ".decode('utf-8')")


def test_backprop_and_depth_widgets_name_their_arguments():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    root = (a * b + a).tanh()
    refuses(ConfigError, lambda: backprop.draw_graph(None), "as root")
    for current in (0, -1, True, "3"):
        refuses(ConfigError, lambda: backprop.draw_graph(root, current=current), "current must be None or id(node)")
    refuses(ConfigError, lambda: backprop.draw_graph(root, title=None), "title must be a string")
    refuses(ConfigError, lambda: depth.depth_explorer(depths=(2,), inits=(["he"],), width=8, batch=8),
            "unknown init", "inits[0]", "choose from")
    refuses(ConfigError, lambda: depth.depth_explorer(depths=(2,), activations=("gelu",), width=8, batch=8),
            "unknown activation", "activations[0]")
    refuses(ConfigError, lambda: regularization.curve_table(None), "curves must be the dict",
            "bench_regularization.py")


# ------------------------------------------------------------------------------ plots


def test_plots_check_cmap_title_and_cm():
    cm = np.eye(3, dtype=np.int64) * 4
    refuses(ConfigError, lambda: plots.plot_confusion_matrix(cm, cmap=b"Blues"), "cmap must be the name",
            "'gray_r'")
    refuses(ConfigError, lambda: plots.plot_confusion_matrix(cm, title=None), "title must be a string")
    refuses(ConfigError, lambda: plots.plot_confusion_matrix(cm + 0.5), "cm must hold counts",
            "rows divided by their sums")
    refuses(ConfigError, lambda: plots.plot_confusion_matrix(-cm), "cm must hold counts")


def test_plot_digits_and_mistakes_check_labels_against_images():
    images = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    labels = np.array([1, 2, 3, 4])
    refuses(ShapeError, lambda: plots.plot_digits(images[None], labels), "labels has 4 entries for 1 images",
            "images as (n, pixels)")
    refuses(ConfigError, lambda: plots.plot_digits(images, labels, predictions=labels + 0.5),
            "predictions holds floats outside [0, 1]", ".astype(int)")
    probs = np.full((4, 10), 0.1, np.float32)
    refuses(ConfigError, lambda: plots.plot_mistakes(images, labels, labels + 0.5, probs),
            "y_pred holds floats outside [0, 1]")
    refuses(ShapeError, lambda: plots.plot_mistakes(images[:0], labels[:0], labels[:0], probs[:0]),
            "images is empty", "images[m.indices]")


# ------------------------------------------------------------------------------ legitimate values still work


def test_legitimate_values_next_to_the_refused_ones_still_work():
    images = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    labels = np.array([1, 2, 3, 4])
    fig = plots.plot_digits(images, labels, predictions=labels, max_images=2)     # labels for all 4, 2 drawn
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    plots.plot_digits(images, labels, predictions=np.array([0.2, 0.9, 0.4, 0.7]))  # probabilities of class 1
    plots.plot_confusion_matrix(np.eye(3) * 0.5 + 0.1)                             # rates
    plots.plot_confusion_matrix(np.eye(3) * 4.0, cmap=matplotlib.colormaps["Blues"], title="")
    assert feature_map(np.ones((6, 6)), [[1, 0, -1], [2, 0, -2], [1, 0, -1]]).shape == (6, 6)  # integer kernel
    fig, _ = small_figure()
    assert figure_png(fig, compress_level=0).startswith(PNG)                      # zlib level 0: no compression
    assert Axis("top-k", [None, 2], labels=["all", "2"]).default_index() == 0
    assert divergence_message(0, 0.5).startswith("Training diverged at epoch 0")
    assert PlaygroundSettings(hidden_layers=0).hidden_layers == 0
    assert render.nice_limit(0.37) == 0.5
    assert race.race("bowl", lr=np.float32(0.01), steps=np.int64(3))["SGD"][0].shape == (4, 2)
    gpt = models.GPT(27, 8, 8, 2, 1, seed=0)
    box = sampling_explorer(gpt, [], n=1, temperatures=(1.0,), top_ks=(None,), prefixes=("",))
    assert len(box.controls) == 3
