"""The census name lists: reading, the seeded split, the vocabulary and the model inputs."""

import math

import numpy as np
import pytest

from nncourse.data import names as names_module
from nncourse.data import (
    END, PAD_TARGET, VOCAB, context_windows, count_predictions, load_names, padded_batch,
    read_census_names,
)
from nncourse.errors import ConfigError, DataError, ShapeError


@pytest.fixture(scope="module")
def last():
    return load_names("last", seed=0)


def test_census_lists_have_the_documented_sizes():
    surnames = read_census_names("last")
    assert len(surnames) == len(set(surnames)) == 88_799
    assert all(n.isascii() and n.isalpha() and n.islower() for n in surnames)
    assert min(map(len, surnames)) == 2 and max(map(len, surnames)) == 13
    assert 6.7 < np.mean([len(n) for n in surnames]) < 6.9
    first = read_census_names("first")
    female, male = read_census_names("female"), read_census_names("male")
    assert len(first) == len(set(female) | set(male)) and 4_500 < len(first) < 5_500
    assert surnames[0] == "smith"            # the files are ordered by frequency


def test_vocabulary_is_end_token_then_a_to_z():
    assert len(VOCAB) == 27 and VOCAB.end_index == 0 and VOCAB.symbols[0] == END == "."
    assert VOCAB.symbols[1:] == "abcdefghijklmnopqrstuvwxyz"
    assert math.isclose(math.log(len(VOCAB)), 3.2958, abs_tol=1e-4)   # a uniform guess, in nats


def test_encode_decode_round_trip(last):
    for name in last.train[:200]:
        code = VOCAB.encode(name)
        assert code.dtype == np.int64 and code.min() >= 1
        assert VOCAB.decode(code) == name
    assert VOCAB.decode([1, 4, 1, 0]) == "ada."


def test_split_is_disjoint_complete_and_seeded(last):
    train, val, test = map(set, (last.train, last.val, last.test))
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == set(read_census_names("last"))
    assert (len(last.train), len(last.val), len(last.test)) == (71_039, 8_880, 8_880)
    again = load_names("last", seed=0)
    assert again.train == last.train and again.test == last.test
    other = load_names("last", seed=1)
    assert other.test != last.test
    assert set(other.test) | set(other.val) | set(other.train) == set(last.train) | val | test


def test_first_names_split_and_fractions():
    s = load_names("first", seed=3, fractions=(0.5, 0.25, 0.25))
    total = len(s.train) + len(s.val) + len(s.test)
    assert total == len(read_census_names("first"))
    assert abs(len(s.test) - total / 4) <= 1


def test_context_windows_one_row_per_prediction():
    X, Y = context_windows(["ada", "bo"], 3)
    assert X.dtype == Y.dtype == np.int64 and X.shape == (7, 3) and Y.shape == (7,)
    assert count_predictions(["ada", "bo"]) == 7
    assert VOCAB.decode(X[3]) == "ada" and VOCAB.decode(Y[[3]]) == "."
    assert X[0].tolist() == [0, 0, 0] and Y[0] == VOCAB.index["a"]
    X1, Y1 = context_windows(["ada"], 1)           # bigram pairs
    assert X1.ravel().tolist() == [0, 1, 4, 1] and Y1.tolist() == [1, 4, 1, 0]


def test_padded_batch_shifts_by_one_and_pads_targets():
    inputs, targets = padded_batch(["ada", "bo"])
    assert inputs.shape == targets.shape == (2, 4)
    assert inputs[:, 0].tolist() == [0, 0]                          # every name starts after "."
    np.testing.assert_array_equal(inputs[0, 1:], targets[0, :-1])   # targets are inputs shifted by one
    assert targets[1, -1] == PAD_TARGET and (targets != PAD_TARGET).sum() == count_predictions(["ada", "bo"])
    wide, _ = padded_batch(["ada"], length=10)
    assert wide.shape == (1, 10)


def test_clear_errors():
    with pytest.raises(ConfigError, match="kind must be one of"):
        load_names("middle")
    with pytest.raises(ConfigError, match="fractions"):
        load_names("last", fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ConfigError, match="name.lower"):
        VOCAB.encode("Ada")
    with pytest.raises(ConfigError, match="single string"):
        context_windows("ada", 2)
    with pytest.raises(ConfigError, match="block_size"):
        context_windows(["ada"], 0)
    with pytest.raises(ShapeError, match="too short"):
        padded_batch(["abcdef"], length=3)
    with pytest.raises(ConfigError, match="integer indices"):
        VOCAB.decode(np.array([1.0, 2.0]))


def test_missing_names_package_says_pip_install(monkeypatch):
    import importlib.resources

    def missing(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(importlib.resources, "files", missing)
    with pytest.raises(DataError, match="pip install names"):
        load_names("last")


def test_damaged_file_says_reinstall(tmp_path, monkeypatch):
    import importlib.resources

    (tmp_path / "dist.all.last").write_text("SMITH          1.006  1.006      1\nGARBAGE LINE\n")
    monkeypatch.setattr(importlib.resources, "files", lambda package: tmp_path)
    with pytest.raises(DataError, match="line 2 is damaged.*pip install --force-reinstall names"):
        names_module.read_census_names("last")
    (tmp_path / "dist.male.first").write_text("")
    (tmp_path / "dist.female.first").write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match="names"):
        names_module.read_census_names("first")
