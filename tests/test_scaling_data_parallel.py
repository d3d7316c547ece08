"""Data parallelism from scratch (NumPy): the all-reduce of the workers' gradients is the full-batch
gradient, and the ring all-reduce sums correctly while each worker sends 2 (W - 1) / W of the data."""

import numpy as np
import pytest

import nncourse.numpy_nn as nn
from nncourse.errors import ConfigError, ShapeError
from nncourse.scaling import data_parallel as dp


def _problem(n=13, seed=0):
    rng = np.random.default_rng(seed)
    model = nn.mlp([4, 9, 3], "tanh", seed=seed, dtype=np.float64)
    return model, rng.normal(size=(n, 4)), rng.normal(size=(n, 3))


def _max_diff(a, b):
    assert list(a) == list(b)
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 5, 13])
def test_weighted_all_reduce_is_the_full_batch_gradient_even_for_uneven_shards(world_size):
    model, x, y = _problem()
    _, full = dp.gradients(model, nn.MSELoss(), x, y)
    got = dp.data_parallel_gradients(model, nn.MSELoss(), x, y, world_size)
    assert _max_diff(got, full) <= 1e-12


def test_plain_mean_is_exact_for_equal_shards_and_wrong_for_uneven_ones():
    model, x, y = _problem(n=12)
    _, full = dp.gradients(model, nn.MSELoss(), x, y)
    assert _max_diff(dp.data_parallel_gradients(model, nn.MSELoss(), x, y, 4, weighted=False), full) <= 1e-12
    model, x, y = _problem(n=13)
    _, full = dp.gradients(model, nn.MSELoss(), x, y)
    assert _max_diff(dp.data_parallel_gradients(model, nn.MSELoss(), x, y, 4, weighted=False), full) > 1e-4


def test_cross_entropy_workers_and_shards():
    rng = np.random.default_rng(3)
    model = nn.mlp([5, 7, 4], "relu", seed=1, dtype=np.float64)
    x, y = rng.normal(size=(10, 5)), rng.integers(0, 4, size=10)
    shards = dp.shard_batch(x, y, 3)
    assert [len(s[0]) for s in shards] == [4, 3, 3]
    assert np.array_equal(np.concatenate([s[1] for s in shards]), y)
    grads = dp.worker_gradients(dp.replicate(model, 3), nn.CrossEntropyLoss(), shards)
    assert len(grads) == 3 and _max_diff(grads[0], grads[1]) > 0        # the workers really differ
    got = dp.all_reduce_mean(grads, [0.4, 0.3, 0.3])
    assert _max_diff(got, dp.gradients(model, nn.CrossEntropyLoss(), x, y)[1]) <= 1e-12


def test_replicas_are_independent_copies():
    model, x, y = _problem()
    copies = dp.replicate(model, 2)
    copies[0][0].weight.data += 1.0
    assert not np.array_equal(copies[0][0].weight.data, copies[1][0].weight.data)
    assert np.array_equal(copies[1][0].weight.data, model[0].weight.data)


@pytest.mark.parametrize("world_size, size", [(2, 8), (4, 1000), (8, 64), (3, 9), (1, 5)])
def test_ring_all_reduce_sums_and_sends_2_w_minus_1_over_w_of_the_bytes(world_size, size):
    rng = np.random.default_rng(world_size)
    arrays = [rng.normal(size=size) for _ in range(world_size)]
    result = dp.ring_all_reduce(arrays)
    want = np.sum(arrays, axis=0)
    for r in range(world_size):
        np.testing.assert_allclose(result.results[r], want, rtol=1e-12, atol=1e-12)
    nbytes = arrays[0].nbytes
    assert result.bytes_sent == [dp.ring_bytes_per_worker(nbytes, world_size)] * world_size
    assert len(result.log) == 2 * (world_size - 1) * world_size
    assert all(receiver == (sender + 1) % world_size for _, _, sender, receiver, _, _ in result.log)


def test_ring_all_reduce_uneven_chunks_total_and_average():
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=(2, 5)).astype(np.float32) for _ in range(4)]   # 10 floats into 4 chunks
    result = dp.ring_all_reduce(arrays, average=True)
    np.testing.assert_allclose(result.results[3], np.mean(arrays, axis=0), rtol=1e-6)
    assert result.results[0].shape == (2, 5)
    assert result.total_bytes == 2 * (4 - 1) * arrays[0].nbytes
    # chunks of 3, 3, 2, 2 floats: every worker sends 6 chunks of 12 or 8 bytes
    assert all(6 * 8 <= b <= 6 * 12 for b in result.bytes_sent) and len(set(result.bytes_sent)) > 1


def test_naive_all_reduce_costs_the_server_w_times_more():
    assert dp.naive_all_reduce_bytes(400, 8) == 2 * 7 * 400
    assert dp.naive_all_reduce_bytes(400, 8) / dp.ring_bytes_per_worker(400, 8) == pytest.approx(8)


def test_bad_inputs():
    model, x, y = _problem(n=4)
    with pytest.raises(ConfigError, match="without data.*at most 4 workers"):
        dp.shard_indices(4, 5)
    with pytest.raises(ConfigError, match="integer >= 1"):
        dp.shard_indices(4, 0)
    with pytest.raises(ShapeError, match="one target per example"):
        dp.shard_batch(x, y[:3], 2)
    with pytest.raises(ConfigError, match="sum to .* shard fractions"):
        dp.all_reduce_mean([{"w": np.ones(2)}, {"w": np.ones(2)}], [0.5, 0.6])
    with pytest.raises(ShapeError, match="one weight per worker"):
        dp.all_reduce_mean([{"w": np.ones(2)}], [0.5, 0.5])
    with pytest.raises(ConfigError, match="same model"):
        dp.all_reduce_mean([{"w": np.ones(2)}, {"v": np.ones(2)}])
    with pytest.raises(ShapeError, match="same shape and dtype"):
        dp.ring_all_reduce([np.ones(3), np.ones(4)])
    with pytest.raises(ConfigError, match="one copy per worker"):
        dp.worker_gradients(dp.replicate(model, 2), nn.MSELoss(), dp.shard_batch(x, y, 3))


def test_data_parallel_module_does_not_import_torch():
    from pathlib import Path
    source = (Path(dp.__file__)).read_text()
    assert "import torch" not in source and "from torch" not in source
