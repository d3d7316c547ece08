"""The rules every exercise check enforces, and the careless answers that used to slip past.

A learner made 69 plausible mistakes; these are the ones the checks let through or answered without a
hint. Each gets its wrong answer here with the specific message or hint it must now receive:

* in-place updates (``w += ...``, ``v *= mu``, ``m[:] = ...``) where the text asks for new arrays;
* wrong types: a list of lists from softmax, a torch tensor where NumPy is asked, integers where the
  text asks for floats, loss tensors instead of numbers;
* an endless loop (a time limit, one line, no traceback) and an interrupted kernel;
* ``W @ x.T + b``, ``σ(z)·(1 − z)``, wrong log-sum-exps, a negative Adam ``v``; no torch warning leaks.

The framework's part (``Tester.call``, ``Tester.ndarray``, ``Tester.expect_type``, ``check(time_limit=)``)
is tested on small demo checks first, since the checks of every chapter rely on it.
"""

from __future__ import annotations

import signal
import time
import warnings

import numpy as np
import pytest

from nncourse.checks import Tester, ch01, ch02, ch03, ch04, ch05, ch06, check, framework, time_limit
from check_helpers import assert_hint, run

torch = pytest.importorskip("torch")


# --------------------------------------------------------------------------------------------------
# The framework: in-place changes
# --------------------------------------------------------------------------------------------------


@check("demo_scale")
def _demo_scale(t: Tester, scale) -> None:
    t.callable(scale, "scale")
    x = np.array([1.0, -2.0, 3.0])
    t.close(t.call(scale, x, 2.0), 2 * x, "scale([1, -2, 3], 2)")


@check("demo_layers")
def _demo_layers(t: Tester, forward) -> None:
    weights = [np.eye(2), 2 * np.eye(2)]
    t.close(t.call(forward, np.ones(2), weights), [2.0, 2.0], "forward(ones, weights)")


def test_an_in_place_change_of_an_input_fails_and_names_it():
    def scale(x, factor):
        x *= factor  # right values, but the caller's array changes
        return x

    assert_hint(run(_demo_scale, scale), "scale changed its input x in place", "new arrays", "*=")


def test_an_in_place_change_inside_a_list_of_arrays_is_named():
    def forward(h, weights):
        weights[1] *= 0.5
        return weights[1] @ (weights[0] @ h) * 2

    assert_hint(run(_demo_layers, forward), "forward changed its input weights[1] in place")


def test_allow_mutation_and_the_check_authors_hint():
    @check("demo_in_place_allowed")
    def allowed(t: Tester, fn) -> None:
        x = np.zeros(2)
        t.call(fn, x, allow_mutation=True)
        t.ok()

    @check("demo_in_place_hint")
    def own_hint(t: Tester, fn) -> None:
        t.call(fn, np.zeros(2), mutation_hint="return x + 1 instead.")
        t.ok()

    def add_one(x):
        x += 1
        return x

    assert run(allowed, add_one)
    assert_hint(run(own_hint, add_one), "add_one changed its input x in place", "return x + 1 instead.")
    assert run(_demo_scale, lambda x, factor: x * factor)  # a new array: fine


# --------------------------------------------------------------------------------------------------
# The framework: the time limit and an interrupted kernel
# --------------------------------------------------------------------------------------------------


def _endless(*args, **kwargs):
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # a learner's "except Exception" must not swallow the time limit
            pass


def test_an_endless_loop_is_stopped_with_one_line(capsys):
    @check("demo_limit", time_limit=0.3)
    def limited(t: Tester, fn) -> None:
        t.call(fn, np.zeros(2))

    start = time.monotonic()
    result = limited(_endless)
    assert time.monotonic() - start < 5
    out = capsys.readouterr().out
    assert out == ("✗ demo_limit: _endless took longer than 0.3 s, so the check stopped it: look for an endless "
                   "loop (a while loop whose condition never becomes False?)\n")
    assert not result and result.hint is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left behind
    assert signal.getsignal(signal.SIGALRM) is not time_limit._on_alarm  # the previous handler is back


def _swallows_everything(*args, **kwargs):
    while True:
        try:
            time.sleep(0.01)
        except:  # noqa: E722 - a learner's bare except: it catches the time limit's first alarm too
            pass


def _busy_and_swallowing(*args, **kwargs):
    n = 0
    while True:
        try:
            n += 1
        except BaseException:  # the same, in a loop with no sleep
            continue


@pytest.mark.parametrize("loop", [_swallows_everything, _busy_and_swallowing])
def test_a_bare_except_in_the_learners_loop_cannot_swallow_the_time_limit(loop, capsys):
    import sys

    @check("demo_limit_bare", time_limit=0.3)
    def limited(t: Tester, fn) -> None:
        t.call(fn, np.zeros(2))

    trace_before = sys.gettrace()
    start = time.monotonic()
    result = limited(loop)
    assert time.monotonic() - start < 5
    assert capsys.readouterr().out.startswith(f"✗ demo_limit_bare: {loop.__name__} took longer than 0.3 s")
    assert not result
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)        # the interval is switched off too
    assert signal.getsignal(signal.SIGALRM) is not time_limit._on_alarm
    assert sys.gettrace() is trace_before                             # the tracer that stopped it is gone
    assert run(limited, lambda x: x)                                  # and the next call runs normally


def test_the_time_limit_of_a_chapter_check_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv(framework.TIME_LIMIT_ENV, "0.3")
    assert_hint(run(ch01.step, _endless), "_endless took longer than 0.3 s", "look for an endless loop")
    assert_hint(run(ch05.sgd_momentum_step, _endless), "took longer than 0.3 s")


def test_a_call_within_its_time_limit_passes():
    @check("demo_slow_but_fine", time_limit=2.0)
    def slow(t: Tester, fn) -> None:
        t.close(t.call(fn, np.ones(2)), [2.0, 2.0], "fn(ones)")

    def a_bit_slow(x):
        time.sleep(0.05)
        return 2 * x

    assert run(slow, a_bit_slow)


def test_an_interrupted_kernel_gives_one_line_not_the_checks_traceback(capsys):
    def interrupted(z):
        raise KeyboardInterrupt  # what Kernel → Interrupt does inside the learner's function

    result = ch01.step(interrupted)
    out = capsys.readouterr().out
    assert out.startswith("✗ step: interrupted before the check finished") and out.count("\n") == 1
    assert "look for an endless loop" in out and "Traceback" not in out and not result


# --------------------------------------------------------------------------------------------------
# The framework: types
# --------------------------------------------------------------------------------------------------


@check("demo_types")
def _demo_types(t: Tester, value) -> None:
    t.ndarray(value, "the result")
    t.ok()


@pytest.mark.parametrize("value, needles", [
    ([[0.5, 0.5]], ["the result is a list, expected a NumPy array", "np.exp(z)"]),
    ((0.5, 0.5), ["is a tuple, expected a NumPy array"]),
    (None, ["returned None", "return statement"]),
    (0.5, ["the result is float 0.5, expected a NumPy array"]),
    (np.array([1, 0]), ["holds integers (int64), expected floating-point numbers", "1.0 and 0.0"]),
    (np.array([True, False]), ["holds booleans (True/False) (bool)", ".astype(float)"]),
])
def test_ndarray_insists_on_a_numpy_array_of_floats(value, needles):
    assert_hint(run(_demo_types, value), *needles)


def test_ndarray_names_a_tensor_and_the_conversion():
    assert_hint(run(_demo_types, torch.zeros(2, requires_grad=True)),
                "the result is a torch.Tensor, expected a NumPy array", ".numpy()", ".detach()")
    assert run(_demo_types, np.zeros(2, dtype=np.float32))


def test_expect_type_and_a_hint_computed_from_the_exception():
    @check("demo_expect")
    def expect(t: Tester, value) -> None:
        t.expect_type(value, "paths", dict, hint="return a dict of paths.")
        t.ok()

    assert_hint(run(expect, [1, 2]), "paths is list [1, 2], expected dict", "return a dict of paths.")
    assert run(expect, {"sgd": 1})

    @check("demo_error_hint")
    def error_hint(t: Tester, fn) -> None:
        t.call(fn, errors=[(ValueError, "shapes", lambda exc: None),  # does not apply: the next one is tried
                           (ValueError, "shapes", lambda exc: f"read it: {str(exc)[-5:]}")])

    def raises():
        raise ValueError("bad shapes (2,3)")

    assert_hint(run(error_hint, raises), "read it: (2,3)")


@check("demo_long")
def _demo_long(t: Tester, values) -> None:
    want = np.arange(40, dtype=np.float64).reshape(2, 20) / 8
    t.close(values, want, "the values")


def test_long_arrays_that_print_alike_say_where_they_differ():
    values = np.arange(40, dtype=np.float64).reshape(2, 20) / 8
    values[1, 4] += 0.5
    result = run(_demo_long, values)
    assert_hint(result, "first difference at [1, 4]: should be 3, yours 3.5", "largest difference 0.5")
    head, tail = result.message.split(", yours returns ")
    assert head.split("should be ")[1] == tail.split(";")[0]   # the abbreviations alone read the same
    assert result.generic                                      # and no mistake is named


@check("demo_float64")
def _demo_float64(t: Tester, fn) -> None:
    z = np.linspace(-3.0, 3.0, 30)
    t.close(t.call(fn, z), np.exp(z) / np.exp(z).sum(), "softmax of 30 scores", rtol=1e-9, atol=1e-12)


def test_a_float32_answer_is_told_its_dtype_is_the_problem():
    result = run(_demo_float64, lambda z: (np.exp(z) / np.exp(z).sum()).astype(np.float32))
    assert_hint(result, "softmax of 30 scores is float32", "compares in float64", "the dtype is the problem")
    tensor = run(_demo_float64, lambda z: torch.softmax(torch.from_numpy(z).float(), 0))
    assert_hint(tensor, "is float32", "dtype=torch.float64")
    # a float32 answer that is wrong for another reason gets the usual message, not the dtype one
    wrong = run(_demo_float64, lambda z: (np.exp(z) / np.exp(z).sum() * 1.01).astype(np.float32))
    assert not wrong and "float32" not in wrong.message and "should be" in wrong.message
    assert run(_demo_float64, lambda z: np.exp(z) / np.exp(z).sum())


def test_number_refuses_tensors_and_lists():
    @check("demo_number")
    def number(t: Tester, value) -> None:
        t.close(t.number(value, "the loss"), 0.5, "the loss")

    assert run(number, 0.5) and run(number, np.float32(0.5)) and run(number, np.array(0.5))
    assert_hint(run(number, torch.tensor(0.5)), "the loss returned a torch.Tensor, expected a number", ".item()")
    assert_hint(run(number, [0.5]), "the loss returned a list, expected a number")


def test_a_named_mistake_is_specific_and_the_fallback_is_generic():
    @check("demo_generic")
    def demo(t: Tester, value) -> None:
        t.close(value, 1.0, "x", mistakes=[(2.0, "you doubled it.")], hint="x is one.")

    named, fallback = run(demo, 2.0), run(demo, 3.0)
    assert named.hint == "you doubled it." and not named.generic
    assert fallback.hint == "x is one." and fallback.generic


def test_cells_are_named_by_prompt_and_first_line():
    source = "# Exercise 2\n%time\n\ndef relu(z):\n    return nq.maximum(z, 0)\n"
    assert framework.cell_first_line(source) == "def relu(z):"
    assert framework.cell_label(source, 7) == 'cell In[7] ("def relu(z):")'
    assert framework.cell_label(source) == 'the cell starting "def relu(z):"'
    assert framework.cell_first_line("x = " + "1 + " * 20) == "x = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1..."


# --------------------------------------------------------------------------------------------------
# In-place updates in the chapters' exercises
# --------------------------------------------------------------------------------------------------


def _predict(w, x, b):
    return 1.0 if w @ x + b >= 0 else 0.0


def _update_plus_equals(w, b, x, y, lr=1.0):
    error = y - _predict(w, x, b)
    w += lr * error * x
    return w, b + lr * error


def _update_slice_assign(w, b, x, y, lr=1.0):
    error = y - _predict(w, x, b)
    w[:] = w + lr * error * x
    return w, b + lr * error


@pytest.mark.parametrize("wrong", [_update_plus_equals, _update_slice_assign])
def test_perceptron_update_in_place(wrong):
    assert_hint(run(ch01.perceptron_update, wrong), f"{wrong.__name__} changed its input w in place",
                "w_new = w + lr * error * x")


def _momentum_times_equals(p, g, v, lr, momentum):
    v *= momentum
    v += g
    return p - lr * v, v


def _momentum_p_minus_equals(p, g, v, lr, momentum):
    v_new = momentum * v + g
    p -= lr * v_new
    return p, v_new


@pytest.mark.parametrize("wrong, argument", [(_momentum_times_equals, "v"), (_momentum_p_minus_equals, "p")])
def test_momentum_in_place(wrong, argument):
    assert_hint(run(ch05.sgd_momentum_step, wrong), f"changed its input {argument} in place",
                "v_new = momentum * v + g", "race's paths")


def _adam_slice_assign(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m[:] = beta1 * m + (1 - beta1) * g
    v[:] = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_adam_in_place():
    assert_hint(run(ch05.adam_step, _adam_slice_assign), "_adam_slice_assign changed its input m in place",
                "return new arrays")


def test_a_race_whose_paths_hold_one_array():
    start = ch05.START

    def race():
        paths = {}
        for name in ("sgd", "momentum", "adam"):
            p = start.copy()
            path = [p]
            for _ in range(ch05.RACE_STEPS):
                p -= 0.05 * ch05._bowl_grad(p)  # in place: every entry of the path is the same array
                path.append(p)
            paths[name] = np.array(path)
        return paths

    assert_hint(run(ch05.race, race), "every point of the sgd path is the same", "changes p in place")


# --------------------------------------------------------------------------------------------------
# Wrong types in the chapters' exercises
# --------------------------------------------------------------------------------------------------


def _softmax_lists(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).tolist()


def test_softmax_returning_a_list_of_lists():
    assert_hint(run(ch02.softmax, _softmax_lists), "is a list, expected a NumPy array")


def test_step_returning_integers():
    assert_hint(run(ch01.step, lambda z: np.where(z >= 0, 1, 0)), "holds integers (int64), expected floating-point",
                "1.0 and 0.0, not 1 and 0")


def test_sigmoid_returning_a_list():
    import math

    assert_hint(run(ch02.sigmoid, lambda z: [1 / (1 + math.exp(-v)) for v in z]),
                "is a list, expected a NumPy array")


def test_predict_proba_returning_a_tensor_with_its_graph():
    def with_graph(model, X):
        return torch.softmax(model(torch.from_numpy(X)), dim=1)  # no no_grad, no .numpy()

    assert_hint(run(ch06.predict_proba, with_graph), "torch.Tensor, expected a NumPy array", ".numpy()")


def _train_keeping_tensors(model, X, y, lr, epochs=3, batch_size=64):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, len(X), batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(torch.from_numpy(X[start:start + batch_size])),
                           torch.from_numpy(y[start:start + batch_size]))
            loss.backward()
            optimizer.step()
            batch_losses.append(loss)  # the tensor, not loss.item()
        losses.append(sum(batch_losses) / len(batch_losses))
    return losses


def test_train_loop_returning_loss_tensors_gets_a_hint_and_no_torch_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(ch06.train_loop, _train_keeping_tensors)
    assert_hint(result, "returns the losses as torch tensors", "loss.item()")
    assert not [w for w in caught if issubclass(w.category, UserWarning)], [str(w.message) for w in caught]


# --------------------------------------------------------------------------------------------------
# Mistakes that got numbers but no hint
# --------------------------------------------------------------------------------------------------


def test_dense_forward_w_times_x_transposed_plus_b():
    assert_hint(run(ch02.dense_forward, lambda x, W, b: W @ x.T + b), "W @ x.T is (out, batch) = (2, 3)",
                "x @ W.T + b")


def test_dense_forward_bias_of_the_wrong_shape_keeps_the_bias_hint():
    assert_hint(run(ch02.dense_forward, lambda x, W, b: x @ W.T + b[:, None]), "the bias b has one entry per output")


def test_sigmoid_derivative_with_one_minus_z():
    def derivative(z):
        s = 1 / (1 + np.exp(-z))
        return s * (1 - z)

    assert_hint(run(ch02.sigmoid_derivative, derivative), "1 − σ(z), not 1 − z")


def test_sigmoid_backward_with_one_minus_z():
    def backward(z, grad_out):
        s = 1 / (1 + np.exp(-z))
        return grad_out * s * (1 - z)

    assert_hint(run(ch04.sigmoid_backward, backward), "1 − σ(z), not 1 − z")


def _ce(log_softmax):
    def cross_entropy(logits, targets):
        log_p = log_softmax(logits)
        return -np.mean(log_p[np.arange(len(targets)), targets])

    return cross_entropy


def _max(z):
    return z.max(axis=1, keepdims=True)


LSE_MISTAKES = [
    (lambda z: z - np.log(np.exp(z - _max(z)).sum(axis=1, keepdims=True)), "did not take it off z too"),
    (lambda z: (z - _max(z)) - np.log(np.exp(z - _max(z)).sum()), "not over the whole batch"),
    (lambda z: (z - _max(z)) + np.log(np.exp(z - _max(z)).sum(axis=1, keepdims=True)), "subtract the log-sum-exp"),
    (lambda z: (z - _max(z)) - np.exp(z - _max(z)).sum(axis=1, keepdims=True), "take the logarithm of the sum"),
    (lambda z: (z - _max(z)) - np.log(np.exp(z - _max(z)).mean(axis=1, keepdims=True)), "don't average them"),
]


def test_cross_entropy_without_keepdims():
    def log_softmax(z):
        shifted = z - z.max(axis=1)  # (batch, classes) - (batch,): fails to broadcast, or pairs rows with columns
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    assert_hint(run(ch03.cross_entropy, _ce(log_softmax)), "keepdims=True", "z.max(axis=1, keepdims=True)")


@pytest.mark.parametrize("log_softmax, hint", LSE_MISTAKES)
def test_cross_entropy_wrong_log_sum_exp(log_softmax, hint):
    assert_hint(run(ch03.cross_entropy, _ce(log_softmax)), hint)


def _adam_with(v_rule):
    def adam_step(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m_new = beta1 * m + (1 - beta1) * g
        v_new = v_rule(v, g, beta2)
        with np.errstate(invalid="ignore"):
            step = lr * (m_new / (1 - beta1**t)) / (np.sqrt(v_new / (1 - beta2**t)) + eps)
        return p - step, m_new, v_new

    return adam_step


@pytest.mark.parametrize("v_rule, hint", [
    (lambda v, g, b2: b2 * v - (1 - b2) * g**2, "it never subtracts it"),
    (lambda v, g, b2: b2 * v - g**2, "your v has negative entries"),
])
def test_adam_negative_v(v_rule, hint):
    assert_hint(run(ch05.adam_step, _adam_with(v_rule)), hint, "v = β₂·v + (1 − β₂)·g²")


def test_ndarray_keeps_a_float32_answer_so_the_comparison_can_name_its_dtype():
    @check("demo_ndarray_float32")
    def demo(t: Tester, fn) -> None:
        z = np.linspace(-3.0, 3.0, 30)
        t.close(t.ndarray(t.call(fn, z), "softmax(z)"), np.exp(z) / np.exp(z).sum(), "softmax(z)", rtol=1e-9,
                atol=1e-12)

    assert_hint(run(demo, lambda z: (np.exp(z) / np.exp(z).sum()).astype(np.float32)), "is float32",
                "the dtype is the problem")


# -- values that print alike, and results in another order -------------------------------------------

@check("demo_step")
def _demo_step(t: Tester, load) -> None:
    t.equal(load(), 3, "the step")


@pytest.mark.parametrize("value, needles", [
    (lambda: torch.tensor(3), ["should be int 3, yours returns torch.Tensor 3 (0-d)", "its type is not", ".item()"]),
    (lambda: np.array(3), ["should be int 3, yours returns numpy.ndarray 3 (0-d)", "return a plain int"]),
    (lambda: torch.tensor([3]), ["yours returns torch.Tensor [3] of shape (1,)", "its type is not"]),
])
def test_a_value_that_prints_like_the_answer_shows_its_type(value, needles):
    result = run(_demo_step, value)
    assert_hint(result, *needles)
    assert not result.generic


def test_equal_still_takes_a_float_for_an_int_and_stays_generic_otherwise():
    assert run(_demo_step, lambda: 3.0) and run(_demo_step, lambda: np.int64(3))
    wrong = run(_demo_step, lambda: 4)
    assert not wrong and wrong.generic and wrong.message == "the step should be 3, yours returns 4"


@check("demo_order")
def _demo_order(t: Tester, fn) -> None:
    a, b = fn()
    t.in_order([a, b], [np.ones((2, 3)), np.zeros(3)], "f(x)", "grad_w, grad_b")
    t.close(a, np.ones((2, 3)), "grad_w")
    t.close(b, np.zeros(3), "grad_b")


def test_results_in_another_order_are_named():
    assert run(_demo_order, lambda: (np.ones((2, 3)), np.zeros(3)))
    assert_hint(run(_demo_order, lambda: (np.zeros(3), np.ones((2, 3)))),
                "f(x) returns grad_b, grad_w: the right values in the wrong order", "return grad_w, grad_b")
    # a wrong value in the right order is left to the comparisons that follow
    assert_hint(run(_demo_order, lambda: (np.ones((2, 3)), np.ones(3))), "grad_b should be")
