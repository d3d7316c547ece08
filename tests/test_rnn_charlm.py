"""The name models of chapter 8 (nncourse.charlm) and the shared results table (nncourse.results)."""

import json

import numpy as np
import pytest

from nncourse.models import charlm
from nncourse.data import VOCAB, count_predictions, load_names
from nncourse.errors import ConfigError, DataError
from nncourse.results import load_results, results_markdown, results_table, update_results


@pytest.fixture(scope="module")
def names():
    s = load_names("last", seed=0)
    return list(s.train[:3000]), list(s.test[:1000])


MODELS = {
    "bigram": lambda: charlm.BigramNet(seed=0),
    "mlp": lambda: charlm.WindowMLP(3, 5, 16, seed=0),
    "rnn": lambda: charlm.RecurrentLM("rnn", 8, 16, seed=0),
    "lstm": lambda: charlm.RecurrentLM("lstm", 8, 16, num_layers=2, seed=0),
    "gru": lambda: charlm.RecurrentLM("gru", 8, 16, seed=0),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_numpy_and_torch_train_alike(kind, names):
    train, test = names
    model = MODELS[kind]()
    twin = charlm.torch_twin(model)
    assert sum(p.numel() for p in twin.parameters()) == charlm.count_parameters(model)
    start = charlm.evaluate_lm(model, test)
    assert start == pytest.approx(charlm.evaluate_lm(twin, test), abs=1e-5)
    a = charlm.train_lm(model, train, epochs=1, batch_size=100, lr=1e-2, clip=1.0, seed=1)
    b = charlm.train_lm(twin, train, epochs=1, batch_size=100, lr=1e-2, clip=1.0, seed=1)
    np.testing.assert_allclose(a, b, atol=1e-3)
    end = charlm.evaluate_lm(model, test)
    assert end == pytest.approx(charlm.evaluate_lm(twin, test), abs=1e-3)
    assert end < start


def test_uniform_start_and_counting_model(names):
    train, test = names
    assert charlm.evaluate_lm(charlm.BigramNet(seed=0), test) == pytest.approx(np.log(27), abs=1e-6)
    counts = charlm.BigramCounts(alpha=1.0).fit(train)
    assert counts.counts.sum() == count_predictions(train)
    np.testing.assert_allclose(counts.probs.sum(axis=1), 1.0)
    assert counts.nll(test) < np.log(27)


def test_bigram_net_reaches_the_counting_loss(names):
    train, _ = names
    counts = charlm.BigramCounts(alpha=0.0).fit(train)
    net = charlm.BigramNet(seed=0, dtype=np.float64)
    charlm.train_lm(net, train, epochs=40, batch_size=100_000, lr=0.3, seed=0)
    assert charlm.evaluate_lm(net, train) == pytest.approx(counts.nll(train), abs=5e-3)


def test_sampling_is_seeded_and_valid(names):
    model = charlm.RecurrentLM("lstm", 8, 16, seed=0)
    a = charlm.sample_names(model, 20, temperature=0.8, seed=3)
    assert a == charlm.sample_names(model, 20, temperature=0.8, seed=3)
    assert all(set(n) <= set(VOCAB.symbols[1:]) for n in a)
    counts = charlm.BigramCounts().fit(names[0])
    cold = charlm.sample_names(counts, 50, temperature=0.05, seed=0)
    assert len(set(cold)) < 5                            # near-greedy: almost always the same name
    p = charlm.softmax_with_temperature(np.array([1.0, 2.0, 3.0]), 1e6)
    np.testing.assert_allclose(p, 1 / 3, atol=1e-5)
    with pytest.raises(ConfigError, match="temperature"):
        charlm.softmax_with_temperature(np.zeros(3), 0)


def test_gradient_by_distance(names):
    model = charlm.RecurrentLM("rnn", 8, 16, seed=0)
    same = [n for n in names[0] if len(n) == 8][:50]
    norms = charlm.gradient_by_distance(model, same)
    assert norms.shape == (9,) and (norms > 0).all()
    with pytest.raises(ConfigError, match="one length"):
        charlm.gradient_by_distance(model, ["ab", "abc"])


def test_results_file_round_trip(tmp_path):
    path = tmp_path / "results" / "names_models.json"
    update_results(path, chapter=8, rows=[{"model": "bigram", "parameters": 729, "numpy": 2.56789, "torch": None}])
    rows = update_results(path, chapter=10, rows=[{"model": "GPT", "parameters": 5000, "numpy": 2.1, "torch": 2.1004}])
    row = {"model": "bigram", "parameters": 729, "numpy": 2.5671, "torch": 2.5674}
    rows = update_results(path, chapter=8, rows=[row])
    assert [r["chapter"] for r in rows] == [8, 10] and rows[0]["numpy"] == 2.567 and rows[1]["torch"] == 2.1
    assert load_results(path) == rows
    assert json.loads(path.read_text())["unit"].startswith("test loss")
    text = results_table(rows)
    assert "2.567" in text and "5,000" in text and text.count("\n") == 3
    assert results_markdown(rows).count("|---|") == 1
    path.write_text("{}")
    with pytest.raises(DataError, match="not a results file"):
        load_results(path)
    with pytest.raises(ConfigError, match="lacks"):
        update_results(tmp_path / "x.json", chapter=9, rows=[{"model": "x"}])


def test_temperature_sampler_widget(names):
    from nncourse.widgets import temperature_sampler
    from nncourse.widgets.sampling import TEMPERATURES

    counts = charlm.BigramCounts().fit(names[0])
    box = temperature_sampler(counts, names[0], n=8, seed=0)
    (control,) = box.controls
    assert control.index == TEMPERATURES.index(0.8)
    assert len(box.stack.children) == len(TEMPERATURES)
    pictures = {child.value for child in box.stack.children}
    assert len(pictures) == len(TEMPERATURES) and all(p[:4] == b"\x89PNG" for p in pictures)
    assert box.links and box.stack.selected_index == control.index
    live = temperature_sampler(counts, names[0], n=8, seed=0, static=False)
    before = live.children[1].value
    live.controls[0].index = 0
    assert live.children[1].value != before


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float64_language_model_training_matches_torch(cell, names):
    """A whole training run (Adam, clipping, padded batches, masked loss) in float64: the same numbers."""
    train, test = names
    model = charlm.RecurrentLM(cell, 6, 12, num_layers=2, seed=3, dtype=np.float64)
    twin = charlm.torch_twin(model)
    a = charlm.train_lm(model, train[:1500], epochs=2, batch_size=50, lr=1e-2, clip=0.5, seed=4)
    b = charlm.train_lm(twin, train[:1500], epochs=2, batch_size=50, lr=1e-2, clip=0.5, seed=4)
    np.testing.assert_allclose(a, b, rtol=1e-9)
    for (name, p), (tname, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
    assert charlm.evaluate_lm(model, test) == pytest.approx(charlm.evaluate_lm(twin, test), abs=1e-9)


def test_next_char_probs_and_explorer(names):
    from nncourse.widgets import next_char_explorer

    counts = charlm.BigramCounts().fit(names[0])
    mlp = charlm.WindowMLP(3, 5, 8, seed=0)
    lstm = charlm.RecurrentLM("lstm", 4, 8, seed=0)
    for model in (counts, mlp, lstm):
        p = charlm.next_char_probs(model, "mc")
        assert p.shape == (27,) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(charlm.next_char_probs(counts, "mc"), counts.probs[VOCAB.index["c"]])
    X, _ = charlm.encode(mlp, ["mcx"])
    np.testing.assert_allclose(charlm.next_char_probs(mlp, "mc"),
                               charlm.softmax_with_temperature(mlp(X[2:3])[0]), rtol=1e-6)
    box = next_char_explorer({"counts": counts, "lstm": lstm}, prefixes=("", "mc", "o"))
    assert len(box.stack.children) == 3 and len({c.value for c in box.stack.children}) == 3
