"""Careless or hostile input to Part II's layers, data helpers and widgets (issue 17, section 2).

Four kinds, as the issue sorts them:

* **corrupt**: a layer's backward cache was the array it returned (or the caller's input), so editing
  that array in place changed the gradients. Each such test edits the array after forward and checks
  that backward gives exactly the gradients of an untouched run;
* **silent**: a wrong argument or a NaN was accepted and gave a wrong result;
* **raw**: the input ended in a NumPy, ipywidgets or Python traceback;
* **vague**: the error pointed at the wrong fix.

Each test asserts the error class and the words that name the problem and the fix. The last section
puts the NumPy layers next to their torch twins (torch's own ``torch.nn`` classes) on the same input.
"""

import math

import numpy as np
import pytest
import torch

from nncourse import widgets
from nncourse.models import charlm
from nncourse import numpy_nn as nn
from nncourse.data import names as name_data
from nncourse.data import sequences
from nncourse.errors import ConfigError, CourseError, DTypeError, NonFiniteError, ShapeError
from nncourse.numpy_nn import functional as F
from nncourse.numpy_nn import lr_scheduler, optim
from nncourse.numpy_nn.clip_grad import clip_grad_norm_


def _raises(error, words, call):
    """``call()`` raises ``error`` (exactly that class or a subclass) whose message holds every word."""
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def _grads(module):
    return {name: p.grad.copy() for name, p in module.named_parameters()}


def _assert_same_grads(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ================================================================ corrupt: caches that were shared
RECURRENT = [nn.RNN, nn.LSTM, nn.GRU]


@pytest.mark.parametrize("cls", RECURRENT)
@pytest.mark.parametrize("batched", [True, False])
def test_editing_a_recurrent_output_leaves_the_gradients_alone(cls, batched):
    x = _rand(5, 2, 3) if batched else _rand(5, 3)
    g = _rand(*x.shape[:-1], 4, seed=1)

    def run(edit):
        layer = cls(3, 4, num_layers=2, seed=0, dtype=np.float64)
        out, _ = layer(x)
        if edit:
            out *= 100.0                    # the output was the backward cache: this changed the grads
        dx = layer.backward(g)
        return _grads(layer), dx

    (clean, dx_clean), (edited, dx_edited) = run(False), run(True)
    _assert_same_grads(clean, edited)
    np.testing.assert_array_equal(dx_clean, dx_edited)


@pytest.mark.parametrize("cls", RECURRENT)
def test_editing_a_recurrent_input_after_forward_leaves_the_gradients_alone(cls):
    x = _rand(5, 2, 3)
    g = _rand(5, 2, 4, seed=1)

    def run(edit):
        layer = cls(3, 4, seed=0, dtype=np.float64)
        mine = x.copy()
        layer(mine)
        if edit:
            mine[:] = 0.0                   # time-major input was kept as is for d/dW_ih
        layer.backward(g)
        return _grads(layer)

    _assert_same_grads(run(False), run(True))


def test_editing_the_initial_lstm_state_after_forward_leaves_the_gradients_alone():
    x, g = _rand(4, 2, 3), _rand(4, 2, 5, seed=1)
    h0, c0 = _rand(1, 2, 5, seed=2), _rand(1, 2, 5, seed=3)

    def run(edit):
        layer = nn.LSTM(3, 5, seed=0, dtype=np.float64)
        h, c = h0.copy(), c0.copy()
        layer(x, (h, c))
        if edit:
            h[:] = 7.0
            c[:] = -7.0
        layer.backward(g)
        return _grads(layer)

    _assert_same_grads(run(False), run(True))


def test_editing_embedding_ids_after_forward_leaves_the_gradient_rows_alone():
    ids = np.array([[1, 2], [3, 1]])
    g = _rand(2, 2, 3, seed=1).astype(np.float32)

    def run(edit):
        emb = nn.Embedding(5, 3, seed=0)
        mine = ids.copy()
        emb(mine)
        if edit:
            mine[:] = 0                      # torch refuses this; the gradient went to row 0
        emb.backward(g)
        return emb.weight.grad.copy()

    np.testing.assert_array_equal(run(False), run(True))


@pytest.mark.parametrize("make", [nn.Sigmoid, nn.Tanh, nn.Softmax, lambda: nn.LayerNorm(4, elementwise_affine=False,
                                                                                         dtype=np.float64)],
                         ids=["Sigmoid", "Tanh", "Softmax", "LayerNorm-no-affine"])
def test_editing_an_activation_output_leaves_its_backward_alone(make):
    z, g = _rand(3, 4), _rand(3, 4, seed=1)

    def run(edit):
        layer = make()
        out = layer(z)
        if edit:
            out[:] = 0.5
        return layer.backward(g)

    np.testing.assert_array_equal(run(False), run(True))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Linear(4, 3, seed=0, dtype=np.float64), (5, 4)),
    (lambda: nn.MaxPool2d(2), (2, 1, 4, 4)),
    (nn.GELU, (3, 4)),
], ids=["Linear", "MaxPool2d", "GELU"])
def test_editing_a_layer_input_after_forward_leaves_its_backward_alone(make, shape):
    x = _rand(*shape)

    def run(edit):
        layer = make()
        mine = x.copy()
        out = layer(mine)
        if edit:
            mine[:] = 3.0
        dx = layer.backward(_rand(*out.shape, seed=1))
        return dx, _grads(layer)

    (dx_clean, clean), (dx_edited, edited) = run(False), run(True)
    np.testing.assert_array_equal(dx_clean, dx_edited)
    _assert_same_grads(clean, edited)


@pytest.mark.parametrize("batch_first", [False, True])
def test_editing_attention_inputs_after_forward_leaves_the_gradients_alone(batch_first):
    x = _rand(3, 2, 8)
    g = _rand(3, 2, 8, seed=1)

    def run(edit):
        layer = nn.MultiheadAttention(8, 2, batch_first=batch_first, seed=0, dtype=np.float64)
        mine = x.copy()
        layer(mine, mine, mine)
        if edit:
            mine[:] = 1.0
        layer.backward(g)
        return _grads(layer)

    _assert_same_grads(run(False), run(True))


def test_editing_attention_forward_inputs_leaves_attention_backward_alone():
    q, k, v = _rand(2, 3, 4), _rand(2, 5, 4, seed=1), _rand(2, 5, 4, seed=2)
    g = _rand(2, 3, 4, seed=3)
    _, cache = F.attention_forward(q, k, v)
    clean = F.attention_backward(g, cache)
    q2, k2, v2 = q.copy(), k.copy(), v.copy()
    _, cache = F.attention_forward(q2, k2, v2)
    for a in (q2, k2, v2):
        a[:] = 0.0
    for want, got in zip(clean, F.attention_backward(g, cache)):
        np.testing.assert_array_equal(want, got)


# ================================================================ silent: clip_grad_norm_
def _grad_param(values):
    p = nn.Parameter(np.zeros(len(values)))
    p.grad = np.array(values, dtype=np.float64)
    return p


@pytest.mark.parametrize("max_norm", [-1.0, 0, -math.inf])
def test_clip_grad_norm_refuses_a_max_norm_that_is_not_positive(max_norm):
    p = _grad_param([3.0, 4.0])
    _raises(ConfigError, ["max_norm", "must be > 0", "flip the sign", "max_norm=1.0"],
            lambda: clip_grad_norm_([p], max_norm))
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])          # untouched


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_grad_norm_refuses_non_finite_gradients_even_by_default(bad):
    p = _grad_param([bad, 1.0])
    _raises(NonFiniteError, ["total norm", "NaN or inf", "diverged", "lower the learning rate"],
            lambda: clip_grad_norm_([p], 1.0))


def test_clip_grad_norm_measures_huge_finite_float32_gradients_in_float64():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    p.grad = np.array([3e20, 4e20], dtype=np.float32)          # squares overflow float32
    total = clip_grad_norm_([p], 1.0)
    assert total == pytest.approx(5e20, rel=1e-6)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)


@pytest.mark.parametrize("kwargs, words", [
    (dict(norm_type="2"), ["norm_type must be a number"]),
    (dict(norm_type=-2.0), ["norm_type must be positive", "float('inf')"]),
    (dict(error_if_nonfinite="no"), ["error_if_nonfinite must be True or False", "without quotes"]),
])
def test_clip_grad_norm_refuses_bad_options(kwargs, words):
    _raises(ConfigError, words, lambda: clip_grad_norm_([_grad_param([1.0])], 1.0, **kwargs))


# ================================================================ silent: boolean arguments
@pytest.mark.parametrize("make, name", [
    (lambda: nn.RNN(4, 5, batch_first="False"), "batch_first"),
    (lambda: nn.LSTM(4, 5, batch_first="False"), "batch_first"),
    (lambda: nn.GRU(4, 5, batch_first="False"), "batch_first"),
    (lambda: nn.MultiheadAttention(4, 2, batch_first="False"), "batch_first"),
    (lambda: nn.LSTM(4, 5, bias="False"), "bias"),
    (lambda: nn.Linear(4, 5, bias="False"), "bias"),
    (lambda: nn.MultiheadAttention(4, 2, bias=0), "bias"),
    (lambda: nn.LayerNorm(4, elementwise_affine="no"), "elementwise_affine"),
], ids=["RNN", "LSTM", "GRU", "MHA", "LSTM-bias", "Linear-bias", "MHA-bias", "LayerNorm-affine"])
def test_a_string_is_not_a_boolean_argument(make, name):
    _raises(ConfigError, [f"{name} must be True or False", f"{name}=True or {name}=False without quotes"], make)


@pytest.mark.parametrize("option", ["need_weights", "average_attn_weights", "is_causal"])
def test_attention_forward_switches_must_be_booleans(option):
    layer = nn.MultiheadAttention(4, 2)
    x = np.zeros((3, 1, 4), np.float32)
    _raises(ConfigError, [f"{option} must be True or False"], lambda: layer(x, x, x, **{option: "False"}))


def test_scaled_dot_product_attention_is_causal_must_be_a_boolean():
    q = np.zeros((1, 3, 4), np.float32)
    _raises(ConfigError, ["is_causal must be True or False"],
            lambda: F.scaled_dot_product_attention(q, q, q, is_causal="False"))


# ================================================================ silent: LambdaLR factors
def _sgd():
    return optim.SGD([nn.Parameter(np.ones(2))], lr=0.1)


@pytest.mark.parametrize("factor, shown", [(float("nan"), "nan"), (-0.5, "-0.5"), (None, "None"),
                                           (float("inf"), "inf")])
def test_lambda_lr_refuses_a_factor_that_is_not_a_finite_non_negative_number(factor, shown):
    opt = _sgd()
    _raises(ConfigError, ["LambdaLR", f"returned {shown}", "at epoch 0", "finite number >= 0"],
            lambda: lr_scheduler.LambdaLR(opt, lambda epoch: factor))


def test_lambda_lr_names_the_epoch_where_the_factor_goes_wrong():
    opt = _sgd()
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 1.0 - epoch / 2)   # negative from epoch 3
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.0]                        # 0 is a legitimate rate
    _raises(ConfigError, ["lr_lambda(3)", "at epoch 3", "-0.5"], scheduler.step)


# ================================================================ silent: NaN through layers and losses
def _with_nan(shape, dtype=np.float32, value=np.nan):
    x = np.ones(shape, dtype=dtype)
    x.flat[0] = value
    return x


@pytest.mark.parametrize("call, who", [
    (lambda: nn.MaxPool2d(2)(_with_nan((1, 1, 4, 4))), "MaxPool2d"),
    (lambda: nn.LayerNorm(4)(_with_nan((2, 4))), "LayerNorm(4)"),
    (lambda: nn.ReLU()(_with_nan((2, 4))), "ReLU"),
    (lambda: nn.Tanh()(_with_nan((2, 4), value=np.inf)), "Tanh"),
    (lambda: nn.Dropout(0.5, seed=0)(_with_nan((2, 4))), "Dropout"),
    (lambda: nn.Flatten()(_with_nan((2, 2, 2))), "Flatten"),
], ids=["MaxPool2d", "LayerNorm", "ReLU", "Tanh-inf", "Dropout", "Flatten"])
def test_layers_refuse_nan_input_as_linear_does(call, who):
    _raises(NonFiniteError, [who, "NaN or infinite", "diverging run"], call)


def test_softmax_allows_minus_inf_but_refuses_nan():
    out = nn.Softmax()(np.array([[0.0, -np.inf]]))
    np.testing.assert_array_equal(out, [[1.0, 0.0]])
    _raises(NonFiniteError, ["Softmax", "NaN or +inf", "only -inf"], lambda: nn.Softmax()(np.array([[np.nan, 0.0]])))


@pytest.mark.parametrize("cls, state", [
    (nn.RNN, "h_0"), (nn.GRU, "h_0"), (nn.LSTM, "h_0"), (nn.LSTM, "c_0"),
])
def test_recurrent_layers_refuse_a_nan_initial_state(cls, state):
    layer = cls(3, 4)
    x = np.zeros((5, 2, 3), np.float32)
    good, bad = np.zeros((1, 2, 4), np.float32), _with_nan((1, 2, 4))
    if cls is nn.LSTM:
        hx = (bad, good) if state == "h_0" else (good, bad)
    else:
        hx = bad
    _raises(NonFiniteError, [state, "NaN or inf", "finite initial states", "lower the learning rate"],
            lambda: layer(x, hx))


@pytest.mark.parametrize("loss, output, target", [
    (nn.CrossEntropyLoss(), _with_nan((2, 3)), np.array([0, 1])),
    (nn.NLLLoss(), _with_nan((2, 3)), np.array([0, 1])),
    (nn.MSELoss(), _with_nan((2, 3)), np.zeros((2, 3))),
    (nn.BCEWithLogitsLoss(), _with_nan((2, 3), value=np.inf), np.zeros((2, 3))),
    (nn.BCELoss(), _with_nan((2, 3)) * 0.5, np.zeros((2, 3))),
], ids=["CrossEntropy", "NLL", "MSE", "BCEWithLogits-inf", "BCE"])
def test_losses_refuse_nan_scores_instead_of_returning_nan(loss, output, target):
    _raises(NonFiniteError, [type(loss).__name__, "output", "NaN or infinite"], lambda: loss(output, target))


def test_elementwise_losses_refuse_a_nan_target():
    _raises(NonFiniteError, ["L1Loss", "target", "NaN or infinite"],
            lambda: nn.L1Loss()(np.zeros((2, 2)), np.array([[np.nan, 0.0], [0.0, 0.0]])))


# ================================================================ raw: zero-length attention
@pytest.mark.parametrize("shapes, words", [
    (((0, 2, 8), (4, 2, 8)), ["query length L is 0"]),
    (((3, 2, 8), (0, 2, 8)), ["key length S is 0"]),
    (((3, 0, 8), (3, 0, 8)), ["batch size is 0"]),
], ids=["L=0", "S=0", "N=0"])
def test_multihead_attention_names_a_zero_length_input(shapes, words):
    layer = nn.MultiheadAttention(8, 2)
    q, kv = (np.zeros(s, np.float32) for s in shapes)
    _raises(ShapeError, words + ["at least one query and one key", "drop empty sequences"], lambda: layer(q, kv, kv))


@pytest.mark.parametrize("q_shape, kv_shape", [((2, 0, 4), (2, 3, 4)), ((2, 3, 4), (2, 0, 4)),
                                               ((0, 3, 4), (0, 3, 4))], ids=["L=0", "S=0", "batch=0"])
@pytest.mark.parametrize("function", [F.scaled_dot_product_attention, F.attention_forward])
def test_scaled_dot_product_attention_names_a_zero_length_input(function, q_shape, kv_shape):
    q, kv = np.zeros(q_shape, np.float32), np.zeros(kv_shape, np.float32)
    _raises(ShapeError, ["dimension of size 0", "at least one query, one key", "drop the empty sequences"],
            lambda: function(q, kv, kv))


# ================================================================ raw: vocabulary and name data
@pytest.mark.parametrize("text, words", [
    (5, ["expects one string", "got int 5", "Vocabulary.decode turns indices back"]),
    (["ada", "bo"], ["expects one string", "[vocab.encode(name) for name in names]"]),
    (None, ["expects one string", "NoneType"]),
], ids=["int", "list", "None"])
def test_vocabulary_encode_refuses_what_is_not_a_string(text, words):
    _raises(ConfigError, ["Vocabulary.encode"] + words, lambda: name_data.VOCAB.encode(text))


def test_a_vocabulary_without_its_end_token_says_how_to_add_it():
    vocab = name_data.Vocabulary("abc")
    words = ["has no end token '.'", "Vocabulary('.abc')"]
    _raises(ConfigError, words, lambda: vocab.end_index)
    _raises(ConfigError, words, lambda: name_data.context_windows(["ab"], 2, vocab))
    _raises(ConfigError, words, lambda: name_data.padded_batch(["ab"], vocab))


@pytest.mark.parametrize("call, words", [
    (lambda: name_data.Vocabulary(list(".ab")), ["one non-empty string", "''.join(chars)"]),
    (lambda: name_data.VOCAB.decode("ada"), ["integer indices", "already text", "Vocabulary.encode"]),
    (lambda: name_data.padded_batch(["ab"], length="5"), ["padded_batch", "length must be a whole number"]),
    (lambda: name_data.padded_batch(["ab", 3]), ["names as strings", "position 1"]),
    (lambda: name_data.count_predictions([None]), ["names as strings", "position 0"]),
    (lambda: name_data.load_names(fractions="abc"), ["fractions must be three numbers", "(0.8, 0.1, 0.1)"]),
    (lambda: sequences.reversal_task(n_train=0), ["reversal_task", "n_train must be a positive integer"]),
    (lambda: sequences.digit_sequences(5, length=2.5), ["digit_sequences", "length must be a positive integer"]),
], ids=["vocab-list", "decode-text", "length-str", "name-int", "name-None", "fractions", "n_train-0",
        "length-float"])
def test_name_and_sequence_helpers_refuse_bad_arguments(call, words):
    _raises(ConfigError, words, call)


# ================================================================ raw: widgets given the wrong thing
@pytest.fixture(scope="module")
def counting_model():
    return charlm.BigramCounts().fit(["ada", "bo", "cy"])


class _FakeGPT:
    """Has ``generate``, so sampling_explorer's model check passes and its other checks run."""

    def generate(self, *args, **kwargs):
        raise AssertionError("the widget must refuse its arguments before sampling")


@pytest.mark.parametrize("call, words", [
    (lambda m: widgets.attention_explorer(nn.Linear(2, 2), np.array([[1, 2]])),
     ["attention_explorer", "Linear", "no attention_maps", "AttentionTagger"]),
    (lambda m: widgets.attention_explorer(nn.MultiheadAttention, np.array([[1, 2]])),
     ["the class MultiheadAttention itself", "build and train"]),
    (lambda m: widgets.temperature_sampler(nn.Linear(2, 2), ["ada"]),
     ["temperature_sampler", "character-level name model", "no kind"]),
    (lambda m: widgets.temperature_sampler(m, "ada"), ["train_names must be a list of names", "single string"]),
    (lambda m: widgets.temperature_sampler(m, ["ada"], temperatures=()), ["temperatures is empty"]),
    (lambda m: widgets.temperature_sampler(charlm.torch_twin(charlm.BigramNet(seed=0)), ["ada"]),
     ["torch twin", "pass the NumPy model"]),
    (lambda m: widgets.next_char_explorer({}), ["models is an empty dict", "{'bigram': bigram_model"]),
    (lambda m: widgets.next_char_explorer([m]), ["models must be a dict", "got list"]),
    (lambda m: widgets.next_char_explorer({"bigram": nn.Linear(2, 2)}), ["models['bigram']", "name model"]),
    (lambda m: widgets.next_char_explorer({"bigram": m}, prefixes=["Mc"]), ["not in the vocabulary", "lower()"]),
    (lambda m: widgets.sampling_explorer(nn.Linear(2, 2)), ["sampling_explorer", "names GPT", "no generate"]),
    (lambda m: widgets.sampling_explorer(_FakeGPT(), "smith"), ["known_names must be a list of names"]),
    (lambda m: widgets.sampling_explorer(_FakeGPT(), top_ks=[]), ["top_ks is empty"]),
    (lambda m: widgets.kernel_explorer(np.zeros((1, 28, 28)), kernels={}), ["kernels is an empty dict"]),
    (lambda m: widgets.perceptron_stepper(()), ["gates is empty", "leave gates out"]),
    (lambda m: widgets.optimizer_race(()), ["surfaces is empty"]),
    (lambda m: widgets.optimizer_race(learning_rates=[]), ["learning_rates is empty"]),
    (lambda m: widgets.static_playground({}), ["PlaygroundSettings as base", "got dict"]),
    (lambda m: widgets.static_playground(hidden_layers=()), ["hidden_layers is empty"]),
    (lambda m: widgets.Playground({"learning_rate": 0.1}), ["Playground expects PlaygroundSettings", "Playground()"]),
    (lambda m: widgets.mnist_comparison({}), ["non-empty dict"]),
    (lambda m: widgets.Axis("Digit", []), ["non-empty list of values"]),
    (lambda m: widgets.PlaygroundFigure(width=-1), ["PlaygroundFigure", "width (inches) must be a finite number > 0"]),
], ids=["attention-linear", "attention-class", "temperature-linear", "temperature-str", "temperature-empty",
        "temperature-twin", "nextchar-empty", "nextchar-list", "nextchar-linear", "nextchar-prefix",
        "sampling-linear", "sampling-str", "sampling-topk-empty", "kernels-empty", "gates-empty",
        "surfaces-empty", "race-lrs-empty", "playground-base-dict", "playground-layers-empty",
        "playground-dict", "mnist-empty", "axis-empty", "figure-width"])
def test_widgets_name_a_wrong_model_or_an_empty_choice(counting_model, call, words):
    _raises(ConfigError, words, lambda: call(counting_model))


# ================================================================ vague: hints that pointed the wrong way
def test_a_batch_first_mix_up_with_a_padding_mask_says_batch_first():
    layer = nn.MultiheadAttention(4, 2)                       # expects (seq, batch, embed)
    x = np.ones((2, 5, 4), np.float32)                        # (batch, seq, embed)
    mask = np.zeros((2, 5), bool)
    mask[0, 3:] = True                                        # padding at the end of sequence 0
    message = _raises(ShapeError, ["key_padding_mask", "look like (batch, seq, embed)", "batch_first=True"],
                      lambda: layer(x, x, x, key_padding_mask=mask))
    assert "looks transposed" not in message


def test_a_transposed_padding_mask_is_still_called_transposed():
    layer = nn.MultiheadAttention(4, 2)
    x = np.ones((5, 2, 4), np.float32)                        # right layout: (seq, batch, embed)
    mask = np.zeros((2, 5), bool)
    mask[0, 3:] = True
    message = _raises(ShapeError, ["looks transposed", "key_padding_mask.T"],
                      lambda: layer(x, x, x, key_padding_mask=mask.T))
    assert "batch_first=True" not in message


def test_a_negative_embedding_id_is_not_told_to_enlarge_num_embeddings():
    message = _raises(CourseError, ["index -1", "ids must be >= 0", "negative indexing", "Check the encoding"],
                      lambda: nn.Embedding(27, 4)(np.array([[3, -1]])))
    assert "num_embeddings at least" not in message


# ================================================================ NumPy and torch twins on the same input
TWINS = [
    ("LSTM batch_first='False'", lambda: nn.LSTM(4, 5, batch_first="False"),
     lambda: torch.nn.LSTM(4, 5, batch_first="False"), ConfigError, ["batch_first must be True or False"]),
    ("Embedding id -1", lambda: nn.Embedding(5, 3)(np.array([-1])),
     lambda: torch.nn.Embedding(5, 3)(torch.tensor([-1])), CourseError, ["ids must be >= 0"]),
    ("Embedding id 7 of 5", lambda: nn.Embedding(5, 3)(np.array([7])),
     lambda: torch.nn.Embedding(5, 3)(torch.tensor([7])), CourseError, ["out of range", "num_embeddings"]),
    ("Embedding float ids", lambda: nn.Embedding(5, 3)(np.array([1.0])),
     lambda: torch.nn.Embedding(5, 3)(torch.tensor([1.0])), DTypeError, ["integer indices"]),
    ("RNN zero time steps", lambda: nn.RNN(4, 5)(np.zeros((0, 2, 4), np.float32)),
     lambda: torch.nn.RNN(4, 5)(torch.zeros(0, 2, 4)), ShapeError, ["empty input", "at least one time step"]),
    ("RNN wrong input_size", lambda: nn.RNN(4, 5)(np.zeros((3, 2, 6), np.float32)),
     lambda: torch.nn.RNN(4, 5)(torch.zeros(3, 2, 6)), ShapeError, ["input_size=4"]),
    ("RNN h_0 of another batch", lambda: nn.RNN(4, 5)(np.zeros((3, 2, 4), np.float32), np.zeros((1, 3, 5), np.float32)),
     lambda: torch.nn.RNN(4, 5)(torch.zeros(3, 2, 4), torch.zeros(1, 3, 5)), ShapeError, ["h_0 must have shape"]),
    ("RNN integer input", lambda: nn.RNN(4, 5)(np.zeros((3, 2, 4), np.int64)),
     lambda: torch.nn.RNN(4, 5)(torch.zeros(3, 2, 4, dtype=torch.long)), DTypeError, ["Embedding"]),
    ("LayerNorm wrong width", lambda: nn.LayerNorm(4)(np.zeros((2, 5), np.float32)),
     lambda: torch.nn.LayerNorm(4)(torch.zeros(2, 5)), ShapeError, ["LayerNorm(5)"]),
    ("MaxPool2d window larger than input", lambda: nn.MaxPool2d(3)(np.zeros((1, 1, 2, 2), np.float32)),
     lambda: torch.nn.MaxPool2d(3)(torch.zeros(1, 1, 2, 2)), ShapeError, ["larger than the padded input"]),
    ("Flatten a dimension that does not exist", lambda: nn.Flatten(3)(np.zeros((2, 3), np.float32)),
     lambda: torch.nn.Flatten(3)(torch.zeros(2, 3)), ShapeError, ["cannot flatten"]),
    ("Softmax over a missing axis", lambda: nn.Softmax(dim=2)(np.ones((2, 3), np.float32)),
     lambda: torch.nn.Softmax(dim=2)(torch.ones(2, 3)), ShapeError, ["Softmax(dim=2)"]),
    ("Dropout p=1.5", lambda: nn.Dropout(1.5), lambda: torch.nn.Dropout(1.5), ConfigError, ["[0, 1)"]),
    ("MultiheadAttention 5 / 2 heads", lambda: nn.MultiheadAttention(5, 2),
     lambda: torch.nn.MultiheadAttention(5, 2), ConfigError, ["not divisible"]),
]


@pytest.mark.parametrize("label, ours, theirs, error, words", TWINS, ids=[t[0] for t in TWINS])
def test_numpy_and_torch_twins_fail_the_same_way_on_the_same_input(label, ours, theirs, error, words):
    with pytest.raises(Exception):                             # torch's own error, whatever its class
        theirs()
    _raises(error, words, ours)                               # ours: a course error naming the fix


def test_where_torch_flips_gradients_silently_clip_grad_norm_refuses():
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.tensor([3.0, 4.0])
    torch.nn.utils.clip_grad_norm_([p], -1.0)
    assert (p.grad < 0).all()                                  # torch: gradient ascent, without a word
    _raises(ConfigError, ["must be > 0"], lambda: clip_grad_norm_([_grad_param([3.0, 4.0])], -1.0))


@pytest.mark.parametrize("label, ours, theirs", [
    ("CrossEntropyLoss", lambda: nn.CrossEntropyLoss()(_with_nan((1, 2)), np.array([0])),
     lambda: torch.nn.CrossEntropyLoss()(torch.tensor([[float("nan"), 1.0]]), torch.tensor([0]))),
    ("LayerNorm", lambda: nn.LayerNorm(2)(_with_nan((1, 2))),
     lambda: torch.nn.LayerNorm(2)(torch.tensor([[float("nan"), 1.0]]))),
    ("MaxPool2d", lambda: nn.MaxPool2d(2)(_with_nan((1, 1, 2, 2))),
     lambda: torch.nn.MaxPool2d(2)(torch.tensor([[[[float("nan"), 1.0], [1.0, 1.0]]]]))),
], ids=["CrossEntropyLoss", "LayerNorm", "MaxPool2d"])
def test_where_torch_passes_nan_on_ours_refuses_it(label, ours, theirs):
    assert torch.isnan(theirs()).any()                          # torch: NaN comes out
    _raises(NonFiniteError, ["NaN or infinite"], ours)


def test_where_torch_schedules_a_nan_rate_lambda_lr_refuses():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    assert math.isnan(torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: float("nan")).get_last_lr()[0])
    _raises(ConfigError, ["returned nan"], lambda: lr_scheduler.LambdaLR(_sgd(), lambda epoch: float("nan")))


# ================================================================ raw: constructor arguments of the same kind
@pytest.mark.parametrize("make, who", [
    (lambda: nn.LSTM(4, 5, dtype="abc"), "LSTM"),
    (lambda: nn.Linear(4, 5, dtype=np.int32), "Linear"),
    (lambda: nn.Embedding(5, 3, dtype="abc"), "Embedding"),
    (lambda: nn.LayerNorm(4, dtype=np.int64), "LayerNorm"),
    (lambda: nn.MultiheadAttention(4, 2, dtype="abc"), "MultiheadAttention"),
], ids=["LSTM", "Linear", "Embedding", "LayerNorm", "MultiheadAttention"])
def test_a_dtype_that_is_not_a_float_dtype_is_named(make, who):
    _raises(DTypeError, [who, "dtype must be", "np.float32"], make)


@pytest.mark.parametrize("call, words", [
    (lambda: nn.LayerNorm("abc"), ["normalized_shape must be an int or a tuple of ints"]),
    (lambda: nn.LayerNorm((2.5,)), ["normalized_shape must be an int or a tuple of ints", "2.5"]),
    (lambda: nn.LeakyReLU(float("nan")), ["negative_slope must be a finite number", "0.01"]),
    (lambda: F.causal_mask("3"), ["causal_mask", "length must be a whole number"]),
    (lambda: F.padding_mask([2, 3], max_length="a"), ["padding_mask", "max_length must be a whole number"]),
    (lambda: F.padding_mask(np.array([], dtype=np.int64)), ["lengths is empty", "one length per sequence"]),
    (lambda: clip_grad_norm_(nn.Linear(2, 2), 1.0), ["got the model Linear itself", "model.parameters()"]),
    (lambda: clip_grad_norm_(5, 1.0), ["iterable of Parameters", "got int"]),
    (lambda: lr_scheduler.SequentialLR(*_sgd_pair(), milestones=[2.5]),
     ["milestones must be whole numbers"]),
], ids=["layernorm-str", "layernorm-float", "leaky-nan", "causal-str", "padding-str", "padding-empty",
        "clip-model", "clip-int", "sequential-float-milestone"])
def test_other_arguments_of_the_same_kind_get_a_clear_error(call, words):
    _raises(ConfigError, words, call)


def _sgd_pair():
    opt = _sgd()
    return opt, [lr_scheduler.LinearLR(opt, 0.5, total_iters=2), lr_scheduler.ExponentialLR(opt, 0.9)]
