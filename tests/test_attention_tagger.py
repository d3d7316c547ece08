"""The chapter 9 model (``AttentionTagger``), its torch twin and the reversal task's data."""

import numpy as np
import pytest
import torch

import nncourse.models.torch as torch_models
import nncourse.numpy_nn as nn
from nncourse import torch_nn
from nncourse.data import digit_sequences, reversal_task
from nncourse.errors import ConfigError, ShapeError, TargetError
from nncourse.models import AttentionTagger, exact_match, predict_tokens, train_tagger
from nncourse.numpy_nn.gradcheck import numerical_gradient, relative_error


# ---------------------------------------------------------------------------------------------- data
def test_reversal_task_is_seeded_reversed_and_held_out():
    task = reversal_task(300, 100, length=5, n_digits=4, seed=3)
    assert task.X_train.shape == (300, 5) and task.X_test.shape == (100, 5)
    assert task.X_train.dtype == np.int64 and task.X_train.max() < 4
    np.testing.assert_array_equal(task.y_train, task.X_train[:, ::-1])
    np.testing.assert_array_equal(task.y_test, task.X_test[:, ::-1])
    train = {row.tobytes() for row in task.X_train}
    assert len(train) == 300 and not train & {row.tobytes() for row in task.X_test}
    again = reversal_task(300, 100, length=5, n_digits=4, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(task, again))
    assert not np.array_equal(task.X_train, reversal_task(300, 100, length=5, n_digits=4, seed=4).X_train)


def test_digit_sequences_errors():
    with pytest.raises(ConfigError, match="distinct"):
        digit_sequences(10, length=2, n_digits=3)
    with pytest.raises(ConfigError, match="positive integer"):
        digit_sequences(0)


# ---------------------------------------------------------------------------------------------- model
def test_parameter_names_match_the_torch_twin():
    model = AttentionTagger(10, 8, 16, 2, num_layers=2, seed=0)
    twin = torch_nn.from_numpy(model)
    assert isinstance(twin, torch_models.AttentionTagger)
    assert {n: p.shape for n, p in model.named_parameters()} == {n: tuple(p.shape) for n, p in twin.named_parameters()}
    back = nn.from_torch(twin)
    assert isinstance(back, AttentionTagger)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_and_gradients_match_torch(num_layers):
    rng = np.random.default_rng(0)
    model = AttentionTagger(7, 6, 8, 2, num_layers, seed=1, dtype=np.float64)
    twin = torch_nn.from_numpy(model)
    tokens = rng.integers(0, 7, size=(4, 6))
    target = rng.integers(0, 7, size=(4, 6))
    logits = model(tokens)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(logits.reshape(-1, 7), target.reshape(-1))
    model.backward(loss_fn.backward().reshape(logits.shape))

    t_logits = twin(torch.from_numpy(tokens))
    torch.nn.functional.cross_entropy(t_logits.reshape(-1, 7), torch.from_numpy(target).reshape(-1)).backward()
    np.testing.assert_allclose(logits, t_logits.detach().numpy(), atol=1e-10)
    for (name, param), t_param in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(param.grad, t_param.grad.numpy(), atol=1e-10, err_msg=name)
    for mine, theirs in zip(model.attention_maps, twin.attention_maps):
        np.testing.assert_allclose(mine, theirs, atol=1e-12)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    model = AttentionTagger(5, 4, 4, 2, num_layers=2, seed=3, dtype=np.float64)
    tokens = rng.integers(0, 5, size=(2, 4))
    R = rng.normal(size=(2, 4, 5))
    model(tokens)
    model.zero_grad()
    model.backward(R)
    for name, param in model.named_parameters():
        numeric = numerical_gradient(lambda _: float(np.sum(model(tokens) * R)), param.data)
        assert relative_error(param.grad, numeric) < 1e-6, name


def test_tagger_errors():
    model = AttentionTagger(10, 8, 8, 2)
    with pytest.raises(TargetError, match="integer tokens"):
        model(np.zeros((2, 8)))
    with pytest.raises(ShapeError, match="length <= 8"):
        model(np.zeros((2, 9), dtype=int))
    with pytest.raises(TargetError, match="0..9"):
        model(np.full((2, 8), 10))
    with pytest.raises(ConfigError, match="not divisible"):
        AttentionTagger(10, 8, 10, 3)
    with pytest.raises(ConfigError, match="embed_dim"):
        AttentionTagger(10, 8, 0)


def test_both_back_ends_learn_reversal_to_full_held_out_exact_match():
    task = reversal_task(2000, 500, length=6, seed=1)
    model = AttentionTagger(10, 6, 16, 2, seed=0)
    twin = torch_nn.from_numpy(model)
    for m in (model, twin):
        log = train_tagger(m, task.X_train, task.y_train, epochs=4, batch_size=50, lr=1e-2, seed=0,
                           validation=(task.X_test, task.y_test), eval_every=20)
        assert log["steps"] == list(range(0, 4 * 40 + 1, 20)) and log["step_exact_match"][0] < 0.01
        assert log["test_exact_match"][-1] == 1.0
        assert log["loss"][-1] < 0.1 * log["loss"][0]
        np.testing.assert_array_equal(predict_tokens(m, task.X_test), task.y_test)
    model(task.X_test[:1])
    anti_diagonal = model.attention_maps[0][0].mean(axis=0)[np.arange(6), np.arange(6)[::-1]]
    assert (anti_diagonal > 0.5).all()         # reading position L-1-i for output i
    assert exact_match(model, task.X_train[:100], task.y_train[:100]) == 1.0


def test_backward_checks_its_gradient_and_training_reports_divergence():
    from nncourse.errors import DivergenceError

    model = AttentionTagger(5, 4, 4, 2, seed=0)
    tokens = np.zeros((2, 4), dtype=np.int64)
    model(tokens)
    with pytest.raises(ShapeError, match="grad_output"):
        model.backward(np.zeros((2, 4, 4), dtype=np.float32))
    with pytest.raises(DivergenceError, match="Training diverged.*too large: try"):
        train_tagger(model, tokens, tokens, epochs=3, batch_size=2, lr=1e30)


def test_conversion_leaves_torch_global_generator_alone():
    model = AttentionTagger(10, 8, 8, 2, num_layers=2, seed=0)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    twin = torch_nn.from_numpy(model)
    torch_nn.from_numpy(model.layers[0])
    assert torch.equal(before, torch.get_rng_state())
    assert all(torch.isfinite(p).all() for p in twin.parameters())
