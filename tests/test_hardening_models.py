"""Hardening of the complete models (nncourse.models and their torch twins), chapter 8's helpers and
gpt_training, found by the contract sweep (issue 27, section 4): each hostile value ends in a course error
that names the argument and the fix, and the twins refuse what their partners refuse."""

import numpy as np
import pytest
import torch

import nncourse.models.torch as twins
from nncourse import models
from nncourse.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from nncourse.models import charlm
from nncourse.models.attention_tagger import exact_match, train_tagger
from nncourse.models.gpt_training import evaluate_gpt, length_sorted_batches, name_batches, train_gpt
from nncourse.models.torch.attention_tagger import attention_tagger_from_numpy

NAMES = ["anna", "bob", "clara", "dave", "eve", "frank", "gina", "hugo"]


def _raises(error, words, call):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# --- chapter 8: the language models' forward and backward ------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_window_models_refuse_float_ids_naming_the_input_and_the_cast(backend):
    model = charlm.WindowMLP(3, 4, 8, seed=0)
    X = np.array([[0, 1, 2]], dtype=np.float32)
    if backend == "numpy":
        _raises(DTypeError, ["WindowMLP.forward", "X must hold integer character ids", "X.astype(np.int64)"],
                lambda: model(X))
    else:
        twin = charlm.torch_twin(model)
        _raises(DTypeError, ["WindowMLP.forward", "x must hold integer character ids", "x.long()"],
                lambda: twin(torch.from_numpy(X)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_bigram_net_refuses_an_empty_batch_and_the_wrong_width_in_both_back_ends(backend):
    model = charlm.BigramNet(seed=0)
    name = "X" if backend == "numpy" else "x"
    run = model if backend == "numpy" else charlm.torch_twin(model)

    def call(array):
        return run(array if backend == "numpy" else torch.from_numpy(array))

    _raises(ShapeError, [f"{name} holds no examples", "pass at least one row"],
            lambda: call(np.zeros((0, 1), np.int64)))
    _raises(ShapeError, [f"{name} must have shape (examples, 1)", "(2, 3)"], lambda: call(np.zeros((2, 3), np.int64)))
    _raises(ShapeError, ["add a batch dimension"], lambda: call(np.zeros(3, np.int64)))


def test_the_torch_twins_refuse_out_of_range_ids_instead_of_an_index_error():
    twin = charlm.torch_twin(charlm.RecurrentLM("gru", 4, 8, seed=0))
    _raises(ConfigError, ["RecurrentLM.forward", "x holds the id 27", "from 0 to 26", "VOCAB.encode"],
            lambda: twin(torch.tensor([[0, 27]])))
    _raises(DTypeError, ["x must be a torch tensor", "torch.as_tensor(x)"], lambda: twin([[0, 1]]))


def test_recurrent_lm_names_a_ragged_list_of_inputs():
    model = charlm.RecurrentLM("lstm", 4, 8, seed=0)
    _raises(ShapeError, ["inputs must be a rectangular array", "pad short ones"], lambda: model([[1, 2], [3]]))


@pytest.mark.parametrize("build", [lambda: charlm.BigramNet(seed=0), lambda: charlm.WindowMLP(3, 4, 8, seed=0),
                                   lambda: charlm.RecurrentLM("rnn", 4, 8, seed=0)])
def test_backward_refuses_a_nan_gradient_and_a_call_before_forward(build):
    model = build()
    inputs = np.zeros((2, model.block_size if model.kind == "window" else 3), np.int64)
    _raises(Exception, ["backward() was called before forward()"], lambda: model.backward(np.ones((2, 27), np.float32)))
    out = model(inputs)
    grad = np.ones_like(out)
    grad.flat[0] = np.nan
    _raises(NonFiniteError, ["backward", "grad_logits contains 1 NaN"], lambda: model.backward(grad))
    _raises(Exception, ["grad_output of shape"], lambda: model.backward(np.ones((1,) + out.shape, out.dtype)))


@pytest.mark.parametrize("nonlinearity", ["", None, b"tanh", "sigmoid"])
@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_recurrent_lm_checks_nonlinearity_for_every_cell(cell, nonlinearity):
    _raises(ConfigError, ["nonlinearity must be 'tanh' or 'relu'", "default 'tanh'"],
            lambda: charlm.RecurrentLM(cell, 4, 8, nonlinearity=nonlinearity))
    _raises(ConfigError, ["nonlinearity must be 'tanh' or 'relu'"],
            lambda: twins.RecurrentLM(cell, 4, 8, nonlinearity=nonlinearity))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_relu_is_refused_where_it_would_be_ignored(cell):
    _raises(ConfigError, ["nonlinearity='relu' applies to cell='rnn' only", "Drop nonlinearity"],
            lambda: charlm.RecurrentLM(cell, 4, 8, nonlinearity="relu"))
    assert charlm.RecurrentLM("rnn", 4, 8, nonlinearity="relu").rnn.nonlinearity == "relu"


def test_bigram_counts_next_logits_checks_its_context():
    counts = charlm.BigramCounts().fit(NAMES)
    _raises(DTypeError, ["next_logits", "context must hold integer character ids"],
            lambda: counts.next_logits(np.array([[0.5]])))
    _raises(ShapeError, ["context holds no examples"], lambda: counts.next_logits(np.zeros((0, 1), np.int64)))
    _raises(ShapeError, ["context must have shape (rows, length)"],
            lambda: counts.next_logits(np.zeros((1, 1, 1), int)))
    _raises(ConfigError, ["not been fitted", "model.fit(names)"], lambda: charlm.BigramCounts().next_logits([[0]]))
    np.testing.assert_allclose(counts.next_logits(np.array([[0], [1]])), np.log(counts.probs[[0, 1]]))


# --- chapter 8: the helpers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("helper", [lambda m: charlm.encode(m, NAMES), lambda m: charlm.evaluate_lm(m, NAMES),
                                    lambda m: charlm.sample_names(m, 2), lambda m: charlm.next_char_probs(m, "an")])
@pytest.mark.parametrize("model", [None, "model", models.GPT(6, 5, 8, 2, 1, seed=0)])
def test_the_helpers_name_model_when_it_is_not_a_language_model(helper, model):
    _raises(ConfigError, ["model must be one of chapter 8's language models", "charlm.WindowMLP(seed=0)"],
            lambda: helper(model))


def test_sampling_helpers_refuse_a_torch_twin_and_point_to_from_torch():
    twin = charlm.torch_twin(charlm.WindowMLP(3, 4, 8, seed=0))
    _raises(ConfigError, ["sample_names: model must be a NumPy model", "from_torch(model)"],
            lambda: charlm.sample_names(twin, 2))
    _raises(ConfigError, ["next_char_probs: model must be a NumPy model"], lambda: charlm.next_char_probs(twin, "a"))


@pytest.mark.parametrize("temperature", [float("inf"), "0.1", float("nan"), 0, -1.0])
def test_temperature_must_be_a_finite_positive_number_everywhere(temperature):
    model = charlm.WindowMLP(3, 4, 8, seed=0)
    for call in (lambda: charlm.softmax_with_temperature(np.zeros(3), temperature),
                 lambda: charlm.sample_names(model, 2, temperature=temperature),
                 lambda: charlm.next_char_probs(model, "a", temperature=temperature)):
        _raises(ConfigError, ["temperature must be a finite number > 0"], call)


def test_softmax_with_temperature_checks_its_logits_and_keeps_its_numbers():
    who = "softmax_with_temperature"
    _raises(NonFiniteError, [who, "logits contains 1 NaN"], lambda: charlm.softmax_with_temperature([1.0, np.nan]))
    _raises(DTypeError, ["logits must be floats", "logits.astype(np.float64)"],
            lambda: charlm.softmax_with_temperature(np.array([1, 2])))
    _raises(ShapeError, ["logits is empty"], lambda: charlm.softmax_with_temperature(np.zeros((0, 5))))
    _raises(ShapeError, ["logits must be a rectangular array"],
            lambda: charlm.softmax_with_temperature([[1.0, 2.0], [3.0]]))
    z = np.array([[1.0, 2.0, 3.0]], np.float32)
    scaled = z.astype(np.float64) / 0.5                              # float64 as before the checks
    expected = np.exp(scaled - scaled.max()) / np.exp(scaled - scaled.max()).sum()
    np.testing.assert_allclose(charlm.softmax_with_temperature(z, 0.5), expected, rtol=1e-12)


def test_next_char_probs_names_prefix():
    model = charlm.BigramCounts().fit(NAMES)
    _raises(ConfigError, ["next_char_probs: prefix must be a string", ".decode('utf-8')"],
            lambda: charlm.next_char_probs(model, b"an"))
    assert charlm.next_char_probs(model, "").shape == (27,)          # the empty prefix: the first letter


def test_torch_twin_count_parameters_and_gradient_by_distance_name_model():
    _raises(ConfigError, ["torch_twin: model must be a NumPy BigramNet, WindowMLP or RecurrentLM", "no weights"],
            lambda: charlm.torch_twin(charlm.BigramCounts()))
    _raises(ConfigError, ["torch_twin: model must be", "from_numpy(model)"], lambda: charlm.torch_twin(None))
    _raises(ConfigError, ["count_parameters: model must be a model with parameters"],
            lambda: charlm.count_parameters("model"))
    assert charlm.count_parameters(charlm.BigramCounts()) == 27 * 27
    _raises(ConfigError, ["gradient_by_distance: model must be a NumPy RecurrentLM", "RecurrentLM('rnn'"],
            lambda: charlm.gradient_by_distance(charlm.WindowMLP(seed=0), ["anna"]))


@pytest.mark.parametrize("max_steps", [0, -1, 2.5, "3", True])
def test_train_lm_names_max_steps(max_steps):
    _raises(ConfigError, ["train_lm: max_steps must be a whole number >= 1"],
            lambda: charlm.train_lm(charlm.BigramNet(seed=0), NAMES, max_steps=max_steps))


# --- GPT -------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gpt_refuses_an_empty_batch_and_a_ragged_list_naming_idx(backend):
    model = (models.GPT if backend == "numpy" else twins.GPT)(6, 5, 8, 2, 1, seed=0)
    empty = np.zeros((0, 3), np.int64)
    _raises(ShapeError, ["idx holds no sequences", "at least one row"],
            lambda: model(empty if backend == "numpy" else torch.from_numpy(empty)))
    _raises(ShapeError, ["idx holds no sequences"],
            lambda: model.generate(empty if backend == "numpy" else torch.from_numpy(empty), 2))
    _raises(ShapeError, ["idx (the token ids) must be a rectangular array", "pad short ones"],
            lambda: model([[1, 2], [3]]))


def test_gpt_backward_refuses_nan():
    model = models.GPT(6, 5, 8, 2, 1, seed=0)
    grad = np.ones_like(model(np.zeros((2, 3), np.int64)))
    grad[0, 0, 0] = np.nan
    _raises(NonFiniteError, ["GPT.backward", "grad_logits contains 1 NaN"], lambda: model.backward(grad))


def test_gpt_from_config_names_config_and_what_it_lacks():
    config = models.GPT(6, 5, 8, 2, 1, seed=0).get_config()
    _raises(ConfigError, ["from_config: config must be a dict", "model.get_config()"],
            lambda: models.GPT.from_config(None))
    _raises(ConfigError, ["config lacks vocab_size, context_length", "model.get_config()"],
            lambda: models.GPT.from_config({}))
    _raises(ConfigError, ["config has unknown keys colour"], lambda: models.GPT.from_config({**config, "colour": 1}))
    assert models.GPT.from_config(config).get_config() == config


# --- AttentionTagger ------------------------------------------------------------------------------------------------

def _tagger():
    return models.AttentionTagger(6, 5, embed_dim=8, num_heads=2, seed=0)


def test_attention_tagger_refuses_empty_ragged_and_nan_in_both_back_ends():
    model, twin = _tagger(), attention_tagger_from_numpy(_tagger())
    _raises(ShapeError, ["tokens holds no sequences"], lambda: model(np.zeros((0, 5), np.int64)))
    _raises(ShapeError, ["tokens holds no sequences"], lambda: twin(torch.zeros((0, 5), dtype=torch.int64)))
    _raises(ShapeError, ["tokens must be a rectangular array"], lambda: model([[1, 2], [3]]))
    _raises(DTypeError, ["tokens must be a torch tensor", "torch.as_tensor(tokens)"], lambda: twin([[1, 2], [3]]))
    grad = np.ones_like(model(np.zeros((2, 5), np.int64)))
    grad[1, 1, 1] = np.inf
    _raises(NonFiniteError, ["AttentionTagger.backward", "grad_output contains 1 NaN or infinite"],
            lambda: model.backward(grad))
    _raises(ConfigError, ["attention_tagger_from_numpy: model must be a NumPy AttentionTagger"],
            lambda: attention_tagger_from_numpy(twin))


def test_exact_match_names_X_and_train_tagger_names_validation():
    X = np.random.default_rng(0).integers(0, 6, (4, 5))
    _raises(DTypeError, ["exact_match: X must hold integer tokens", "X.astype(np.int64)"],
            lambda: exact_match(_tagger(), X + 0.5, X))
    _raises(ShapeError, ["exact_match: X must have shape (sequences, length)", "(0, 5)"],
            lambda: exact_match(_tagger(), X[:0], X[:0]))
    _raises(ShapeError, ["validation=(X_test, y_test) must hold two arrays of one shape", "(4, 5) and (2, 5)"],
            lambda: train_tagger(_tagger(), X, X, epochs=1, validation=(X, X[:2])))


# --- gpt_training ----------------------------------------------------------------------------------------------------

def test_train_gpt_names_model_and_every():
    model = models.GPT(27, 8, 8, 2, 1, seed=0)
    _raises(ConfigError, ["train_gpt", "model or a torch.nn.Module, got NoneType"],
            lambda: train_gpt(None, name_batches(NAMES, 4), 2, warmup=1))
    for every in (0, -1, 2.5, "3", True):
        _raises(ConfigError, ["every (print the loss every so many steps; None: never) must be a whole number >= 1"],
                lambda: train_gpt(model, name_batches(NAMES, 4), 2, warmup=1, every=every))


def test_evaluate_gpt_names_model_and_batches_and_restores_the_mode():
    model = models.GPT(27, 8, 8, 2, 1, seed=0)
    _raises(ConfigError, ["evaluate_gpt: model must be a GPT"],
            lambda: evaluate_gpt(None, length_sorted_batches(NAMES)))
    _raises(ConfigError, ["evaluate_gpt: batches must be an iterable", "length_sorted_batches(names)"],
            lambda: evaluate_gpt(model, None))
    _raises(ConfigError, ["batches held no target", "at least one"], lambda: evaluate_gpt(model, []))
    model.train()
    _raises(ConfigError, ["batches must yield (inputs, targets) pairs"], lambda: evaluate_gpt(model, [np.zeros(3)]))
    assert model.training                                            # the mode survives the failure


# --- ResNet ----------------------------------------------------------------------------------------------------------

def test_resnet_and_its_block_name_the_input_x():
    model = models.ResNet(blocks=(1,), widths=(4,), num_classes=3, seed=0)
    _raises(ShapeError, ["ResNet expects an input x of images of shape (batch, 1, height, width)"],
            lambda: model(np.zeros((1, 2, 1, 8, 8), np.float32)))
    block = models.BasicBlock(2, 4, seed=0)
    _raises(ShapeError, ["BasicBlock expects an input x of shape (batch, 2, height, width)"],
            lambda: block(np.zeros((1, 2, 2, 6, 6), np.float32)))
    out = model(np.zeros((2, 1, 8, 8), np.float32))
    grad = np.ones_like(out)
    grad[0, 0] = np.nan
    _raises(NonFiniteError, ["ResNet.backward", "grad_output contains 1 NaN"], lambda: model.backward(grad))


def test_torch_resnet_refuses_what_the_numpy_one_refuses():
    twin = twins.ResNet(blocks=(1,), widths=(4,), num_classes=3, seed=0)
    x = torch.zeros(2, 1, 8, 8)
    x[0, 0, 0, 0] = float("nan")
    _raises(NonFiniteError, ["ResNet", "input x contains 1 NaN"], lambda: twin(x))
    _raises(ShapeError, ["ResNet got an empty batch", "at least one image"], lambda: twin(torch.zeros(0, 1, 8, 8)))
    _raises(DTypeError, ["ResNet expects a floating-point input x", "x.float()"],
            lambda: twin(torch.zeros(2, 1, 8, 8, dtype=torch.int64)))
    _raises(ShapeError, ["input x must be a rectangular array"], lambda: twin([[1.0, 2.0], [3.0]]))


@pytest.mark.parametrize("argument", ["in_channels", "out_channels", "stride"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True])
def test_torch_basic_block_checks_its_sizes_like_the_numpy_one(argument, value):
    sizes = {"in_channels": 2, "out_channels": 4, "stride": 1, argument: value}
    for build in (models.BasicBlock, twins.BasicBlock):
        _raises(ConfigError, [f"BasicBlock: {argument} must be a whole number >= 1"], lambda: build(**sizes))


def test_torch_basic_block_checks_dtype_and_its_input():
    _raises(DTypeError, ["dtype must be"], lambda: twins.BasicBlock(2, 4, dtype="float16"))
    block = twins.BasicBlock(2, 4)
    _raises(ShapeError, ["BasicBlock expects an input x of shape (batch, 2, height, width)"],
            lambda: block(torch.zeros(1, 2, 2, 6, 6)))
    _raises(DTypeError, ["floating-point input x"], lambda: block(torch.zeros(1, 2, 6, 6, dtype=torch.int64)))
