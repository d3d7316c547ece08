"""Careless or hostile inputs to the models, their training helpers and io (issue 17, section 2): each
gets a CourseError that names the problem and the fix, and the NumPy and torch twins fail the same way."""

import json
import zipfile

import numpy as np
import pytest
import torch

import nncourse.models.torch as torch_models
from nncourse import io, models
from nncourse import numpy_nn as nn
from nncourse.data import reversal_task
from nncourse.errors import ConfigError, ConversionError, DataError, DivergenceError, DTypeError, NonFiniteError
from nncourse.errors import ShapeError
from nncourse.models import charlm
from nncourse.models.attention_tagger import exact_match, predict_tokens, train_tagger
from nncourse.models.gpt_training import addition_problems, name_batches, sample_names, train_gpt
from nncourse.torch_nn import from_numpy
from nncourse.train import fit, predict

NAMES = ["anna", "bob", "clara", "dave", "eve", "frank", "gina", "hugo"] * 8
CONFIG = dict(vocab_size=27, context_length=8, d_model=8, n_heads=2, n_layers=1)


def _gpt(backend="numpy", **changes):
    build = models.GPT if backend == "numpy" else torch_models.GPT
    return build(**{**CONFIG, **changes}, seed=0)


def _tokens(backend, array):
    return array if backend == "numpy" else torch.from_numpy(array)


# --- divergence: one rule everywhere (NaN/inf, or an epoch's mean loss above 10x the reference) --------------

def test_the_rule_reports_a_finite_blow_up_not_only_nan():
    from nncourse.train.divergence import is_diverged

    assert not is_diverged(3.3, 3.3) and not is_diverged(30.0, 3.3)
    assert is_diverged(7e3, 3.3)                    # a loss from 3.3 to 7e3: diverged, though finite
    assert is_diverged(float("nan"), 3.3) and is_diverged(float("inf"), 3.3)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_gpt_reports_a_loss_that_grows_without_becoming_nan(backend):
    model = _gpt(backend)
    with pytest.raises(DivergenceError, match="grew above 10x the reference loss") as error:
        train_gpt(model, name_batches(NAMES, 8, seed=0), 40, lr=30.0, warmup=1, clip=None)
    assert "try 3" in str(error.value)               # the fix: a smaller learning rate


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_lm_reports_a_loss_that_grows_without_becoming_nan(backend):
    model = charlm.BigramNet(seed=0, dtype=np.float64)
    model = model if backend == "numpy" else charlm.torch_twin(model)
    with pytest.raises(DivergenceError, match="grew above 10x|became|NaN"):
        charlm.train_lm(model, NAMES, epochs=3, batch_size=16, lr=1e4, optimizer="sgd")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_tagger_reports_a_loss_that_grows_without_becoming_nan(backend):
    task = reversal_task(n_train=64, n_test=16, length=4, n_digits=5, seed=0)
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    model = model if backend == "numpy" else from_numpy(model)
    with pytest.raises(DivergenceError, match="Training diverged"):
        train_tagger(model, task.X_train, task.y_train, epochs=5, lr=1e3)


# --- train_lm -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["rmsprop", "Adam", "SGD", "adamw"])
def test_train_lm_refuses_an_optimizer_it_would_silently_replace_by_sgd(name):
    with pytest.raises(ConfigError, match=r"optimizer must be 'adam' or 'sgd'.*nncourse.train.fit"):
        charlm.train_lm(charlm.BigramNet(seed=0), NAMES, optimizer=name)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_train_lm_refuses_a_batch_size_that_is_not_a_positive_whole_number(batch_size):
    with pytest.raises(ConfigError, match="batch_size must be a whole number >= 1"):
        charlm.train_lm(charlm.BigramNet(seed=0), NAMES, batch_size=batch_size)


def test_train_tagger_and_predict_refuse_batch_size_zero():
    task = reversal_task(n_train=32, n_test=8, length=4, n_digits=5, seed=0)
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    with pytest.raises(ConfigError, match="batch_size must be a whole number >= 1"):
        train_tagger(model, task.X_train, task.y_train, batch_size=0)
    with pytest.raises(ConfigError, match="predict: batch_size must be a whole number >= 1"):
        predict(nn.mlp([2, 3, 2], seed=0), np.zeros((4, 2), np.float32), batch_size=0)


# --- train_gpt ------------------------------------------------------------------------------------------------

def test_train_gpt_refuses_a_warmup_of_zero():
    with pytest.raises(ConfigError, match="warmup must be a whole number >= 1"):
        train_gpt(_gpt(), name_batches(NAMES, 4), 5, warmup=0)


def test_train_gpt_refuses_a_list_of_batches_and_names_iter():
    batches = [next(name_batches(NAMES, 4))] * 3
    with pytest.raises(ConfigError, match=r"iterator.*iter\(batches\)"):
        train_gpt(_gpt(), batches, 3, warmup=1)


def test_train_gpt_says_when_the_batches_run_out():
    batches = iter([next(name_batches(NAMES, 4))] * 3)
    with pytest.raises(DataError, match="ran out.*endless stream.*fewer steps"):
        train_gpt(_gpt(), batches, 10, warmup=1)


@pytest.mark.parametrize("steps", [0, -1, 1.5])
def test_train_gpt_refuses_a_number_of_steps_that_is_not_positive(steps):
    with pytest.raises(ConfigError, match="steps must be a whole number >= 1"):
        train_gpt(_gpt(), name_batches(NAMES, 4), steps, warmup=1)


# --- generate: the twins fail the same way ---------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_generate_refuses_a_temperature_that_would_give_nan_probabilities(backend):
    start = _tokens(backend, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ConfigError, match=r"temperature=1e-320 is too small.*top_k=1"):
        _gpt(backend).generate(start, 3, temperature=1e-320)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("count", [-5, 2.5, "3"])
def test_generate_refuses_a_negative_or_fractional_number_of_tokens(backend, count):
    start = _tokens(backend, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ConfigError, match="max_new_tokens must be a whole number >= 0"):
        _gpt(backend).generate(start, count)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_generate_refuses_a_seed_that_is_not_a_whole_number(backend):
    start = _tokens(backend, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ConfigError, match="seed must be a whole number >= 0"):
        _gpt(backend).generate(start, 3, seed="abc")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_generate_of_zero_tokens_returns_the_prompt(backend):
    start = np.array([[1, 2]])
    out = _gpt(backend).generate(_tokens(backend, start), 0)
    np.testing.assert_array_equal(np.asarray(out), start)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("tokens, error, words", [
    (np.array([1, 2, 3]), ShapeError, r"\(batch, seq\).*add a batch dimension"),
    (np.zeros((1, 3), dtype=np.float32), DTypeError, "integer token ids"),
    (np.array([[3, 27]]), Exception, "token id 27 is out of range"),
    (np.zeros((1, 9), dtype=np.int64), ShapeError, "9 tokens but context_length is 8"),
])
def test_the_gpt_twins_refuse_the_same_tokens_with_the_same_words(backend, tokens, error, words):
    with pytest.raises(error, match=words):
        _gpt(backend)(_tokens(backend, tokens))


# --- sampling helpers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, -1])
def test_sample_names_of_the_language_models_wants_at_least_one_name(n):
    with pytest.raises(ConfigError, match=r"sample_names: n \(how many names to draw\) must be a whole number >= 1"):
        charlm.sample_names(charlm.BigramNet(seed=0), n)


def test_sample_names_of_the_gpt_wants_at_least_one_name():
    with pytest.raises(ConfigError, match="how many names to draw"):
        sample_names(_gpt(), 0)


@pytest.mark.parametrize("alpha", [-1, float("nan"), float("inf"), "1", True])
def test_bigram_counts_refuse_a_smoothing_that_is_not_a_count(alpha):
    with pytest.raises(ConfigError, match=r"alpha.*number >= 0.*add-one smoothing"):
        charlm.BigramCounts(alpha=alpha)


def test_bigram_counts_accept_zero_and_one():
    for alpha in (0, 1.0):
        assert charlm.BigramCounts(alpha=alpha).alpha == alpha


# --- exact_match and the addition task ----------------------------------------------------------------------------

def test_exact_match_refuses_targets_it_would_broadcast():
    task = reversal_task(n_train=8, n_test=8, length=4, n_digits=5, seed=0)
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    assert predict_tokens(model, task.X_test).shape == task.y_test.shape
    with pytest.raises(ShapeError, match=r"exact_match: the targets y have shape \(8, 1\).*shape of X"):
        exact_match(model, task.X_test, task.y_test[:, :1])


def test_addition_problems_refuse_an_operand_wider_than_n_digits():
    with pytest.raises(ConfigError, match=r"a holds 123, wider than n_digits=2.*pass n_digits=3"):
        addition_problems(np.array([123, 4]), np.array([5, 6]), n_digits=2)


def test_addition_problems_refuse_negative_and_fractional_operands():
    with pytest.raises(ConfigError, match="operands must be 0 to 99"):
        addition_problems(np.array([-1]), np.array([5]), n_digits=2)
    with pytest.raises(ConfigError, match=r"whole numbers.*astype\(np.int64\)"):
        addition_problems(np.array([1.5]), np.array([5.0]), n_digits=2)


def test_addition_problems_refuse_operands_of_different_lengths():
    with pytest.raises(ShapeError, match="same length"):
        addition_problems(np.array([1, 2]), np.array([5]), n_digits=2)


# --- fit on token models --------------------------------------------------------------------------------------------

def test_fit_on_an_attention_tagger_accepts_token_ids():
    task = reversal_task(n_train=32, n_test=8, length=4, n_digits=5, seed=0)
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    history = fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=1e-2), (task.X_train, task.y_train),
                  epochs=2, quiet=True)
    assert history.epochs == 2


def test_fit_on_an_attention_tagger_with_float_tokens_asks_for_token_ids_not_a_float_cast():
    task = reversal_task(n_train=32, n_test=8, length=4, n_digits=5, seed=0)
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    with pytest.raises(DTypeError, match=r"starts with an Embedding.*integer token ids.*astype\(np.int64\)") as error:
        fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters()), (task.X_train.astype(np.float32),
                                                                       task.y_train), quiet=True)
    assert "float32)" not in str(error.value)


# --- io ----------------------------------------------------------------------------------------------------

def test_a_gpt_with_nan_weights_is_not_saved(tmp_path):
    model = _gpt()
    model.wte.weight.data[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"wte.weight hold NaN.*diverged.*retrain"):
        io.save_numpy_model(model, tmp_path / "broken")
    assert not list(tmp_path.iterdir())


def test_saving_onto_a_folder_names_a_file_inside_it(tmp_path):
    (tmp_path / "runs.npz").mkdir()
    with pytest.raises(DataError, match=r"is a folder, not a file.*model.npz"):
        io.save_numpy_model(nn.Linear(2, 3), tmp_path)
    with pytest.raises(DataError, match="is a folder"):
        io.save_numpy_model(nn.Linear(2, 3), tmp_path / "runs")
    with pytest.raises(DataError, match=r"is a folder, not a file.*model.pt"):
        io.save_torch_model(torch.nn.Linear(2, 3), tmp_path)
    with pytest.raises(DataError, match="load_numpy_model.*is a folder"):
        io.load_numpy_model(tmp_path)


def _write_architecture(path, architecture, arrays=None):
    np.savez(path, architecture=np.array(json.dumps(architecture) if not isinstance(architecture, str)
                                          else architecture), **(arrays or {}))
    return path


def test_a_deeply_nested_architecture_is_a_data_error_not_a_recursion_error(tmp_path):
    spec = {"type": "ReLU"}
    for _ in range(200):
        spec = {"type": "Sequential", "layers": [spec]}
    path = _write_architecture(tmp_path / "deep.npz", {"format": io.FORMAT_NAME, "version": io.FORMAT_VERSION,
                                                        "model": spec})
    with pytest.raises(DataError, match="nested more than 64 levels"):
        io.load_numpy_model(path)


def test_an_architecture_too_deep_for_json_is_a_data_error(tmp_path):
    text = '{"format": "nncourse.numpy_model", "version": 1, "model": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _write_architecture(tmp_path / "deeper.npz", text)
    with pytest.raises(DataError, match="nested too deeply"):
        io.load_numpy_model(path)


def test_a_huge_layer_is_refused_before_anything_is_allocated(tmp_path):
    spec = {"type": "Linear", "in_features": 10**7, "out_features": 10**7, "bias": True, "dtype": "float32"}
    path = _write_architecture(tmp_path / "huge.npz", {"format": io.FORMAT_NAME, "version": io.FORMAT_VERSION,
                                                        "model": spec}, {"weight": np.zeros((2, 2))})
    with pytest.raises(DataError, match=r"in_features=10000000 is larger than the file's 4 saved weights"):
        io.load_numpy_model(path)


def test_a_real_model_still_loads_with_the_limits(tmp_path):
    model = nn.Sequential(nn.Linear(300, 200, seed=0), nn.ReLU(), nn.Linear(200, 10, seed=1))
    loaded = io.load_numpy_model(io.save_numpy_model(model, tmp_path / "mlp"))
    x = np.ones((2, 300), np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))
    with zipfile.ZipFile(tmp_path / "mlp.npz") as archive:
        assert sorted(archive.namelist()) == ["0.bias.npy", "0.weight.npy", "2.bias.npy", "2.weight.npy",
                                              "architecture.npy"]


# --- converters --------------------------------------------------------------------------------------------

def test_from_torch_of_a_layer_norm_without_bias_is_a_conversion_error():
    with pytest.raises(ConversionError, match=r"bias=False is not supported.*bias=True"):
        nn.from_torch(torch.nn.LayerNorm(8, bias=False))


def test_a_float64_layer_norm_without_weights_takes_float64_input():
    layer = nn.from_torch(torch.nn.LayerNorm(8, elementwise_affine=False, dtype=torch.float64))
    x = np.random.default_rng(0).normal(size=(3, 8))
    expected = torch.nn.functional.layer_norm(torch.from_numpy(x), (8,)).numpy()
    out = layer(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_a_model_without_a_twin_names_the_supported_ones():
    class Lonely(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ConversionError, match=r"no Lonely.*Supported layers:.*torch.nn.Linear"):
        nn.from_torch(Lonely())


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("tokens, error, words", [
    (np.zeros((2, 4), dtype=np.float32), Exception, "integer tokens"),
    (np.zeros((2, 9), dtype=np.int64), ShapeError, r"length <= 4, got \(2, 9\)"),
    (np.full((2, 4), 7), Exception, r"tokens must lie in 0..4, got values from 7 to 7"),
])
def test_the_attention_tagger_twins_refuse_the_same_tokens_with_the_same_words(backend, tokens, error, words):
    model = models.AttentionTagger(5, 4, 8, 2, seed=0)
    if backend == "torch":
        model, tokens = from_numpy(model), torch.from_numpy(tokens)
    with pytest.raises(error, match=words):
        model(tokens)
