"""Data parallelism from scratch, in NumPy: N simulated workers and the all-reduce that joins them.

Every worker holds the same copy of the model and a different *shard* of the batch. Each computes the
gradient of its own shard; an **all-reduce** then leaves every worker with the average of those
gradients, so each can take the same optimizer step and the copies stay identical.

Why that is exactly the full-batch gradient: with a mean loss over the N examples of the batch,

    L = (1/N) sum_n l_n = sum_w (N_w / N) * L_w,      L_w = (1/N_w) sum_{n in shard w} l_n

and the gradient is linear, so grad L = sum_w (N_w / N) grad L_w. With equal shards every weight
N_w / N is 1/W and this is the plain mean of the workers' gradients (what DistributedDataParallel
computes); with uneven shards the mean must be weighted by the shard sizes.

``ring_all_reduce`` is the algorithm that real libraries (NCCL, gloo) use to compute the sum without a
central server, written out step by step with a counter of the bytes each worker sends.

NumPy only: this module never imports torch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, ShapeError
from ..validation import as_array, boolean, finite, finite_number, positive_int

__all__ = ["shard_indices", "shard_batch", "replicate", "gradients", "worker_gradients", "all_reduce_mean",
           "data_parallel_gradients", "RingAllReduce", "ring_all_reduce", "ring_bytes_per_worker",
           "naive_all_reduce_bytes"]


def _check_world_size(world_size, n=None):
    if not isinstance(world_size, (int, np.integer)) or isinstance(world_size, bool) or world_size < 1:
        raise ConfigError(f"world_size (the number of workers) must be an integer >= 1, got {world_size!r}.")
    if n is not None and world_size > n:
        raise ConfigError(f"world_size={world_size} workers for a batch of {n} examples would leave some "
                          f"workers without data: use at most {n} workers or a larger batch.")
    return int(world_size)


def shard_indices(n: int, world_size: int) -> list[np.ndarray]:
    """Split ``range(n)`` into ``world_size`` contiguous shards whose sizes differ by at most one."""
    n = positive_int(n, "n", "shard_indices")
    world_size = _check_world_size(world_size, n)
    return np.array_split(np.arange(n), world_size)


def shard_batch(x, y, world_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The shard ``(x_w, y_w)`` of each worker ``w`` (contiguous rows, sizes differ by at most one)."""
    who = "shard_batch"
    x, y = as_array(x, "x", who), as_array(y, "y", who)
    for name, values in (("x", x), ("y", y)):
        if values.ndim == 0:
            raise ShapeError(f"{who}: {name} must hold one row per example, got a single number {values!r}.")
        if values.dtype.kind == "f":
            finite(values, who, argument=f"batch's {name}")
    if len(x) != len(y):
        raise ShapeError(f"shard_batch: x has {len(x)} rows but y has {len(y)}: one target per example.")
    return [(x[idx], y[idx]) for idx in shard_indices(len(x), world_size)]


def replicate(model, world_size: int) -> list:
    """``world_size`` independent copies of ``model`` (the same weights, separate gradients)."""
    return [copy.deepcopy(model) for _ in range(_check_world_size(world_size))]


def gradients(model, loss_fn, x, y) -> tuple[float, dict[str, np.ndarray]]:
    """One forward and backward pass of a ``numpy_nn`` model: ``(loss, {name: gradient})``.

    The model's gradients are cleared first and left in place afterwards; the returned arrays are copies.
    """
    who = "gradients"
    x, y = as_array(x, "x", who), as_array(y, "y", who)
    for name, values in (("x", x), ("y", y)):
        if values.dtype.kind == "f":
            finite(values, who, argument=f"batch's {name}")
        if values.ndim == 0 or len(values) == 0:
            raise ShapeError(f"{who}: {name} holds no examples (shape {values.shape}); a gradient needs a batch of "
                             f"at least one example.")
    if len(x) != len(y):
        raise ShapeError(f"{who}: x has {len(x)} rows but y has {len(y)}: give one target in y per example of x.")
    model.zero_grad()
    loss = loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    return float(loss), {name: p.grad.copy() for name, p in model.named_parameters()}


def worker_gradients(models, loss_fn, shards) -> list[dict[str, np.ndarray]]:
    """What each worker computes on its own: the gradient of the mean loss over its shard."""
    if not isinstance(models, (list, tuple)) or not isinstance(shards, (list, tuple)):
        raise ConfigError(f"worker_gradients: models and shards must be lists (replicate(model, W) and "
                          f"shard_batch(x, y, W)), got {type(models).__name__} and {type(shards).__name__}.")
    if len(models) != len(shards):
        raise ConfigError(f"worker_gradients: models holds {len(models)} model copies for {len(shards)} shards: one "
                          f"copy per worker, from replicate(model, len(shards)).")
    return [gradients(m, loss_fn, xs, ys)[1] for m, (xs, ys) in zip(models, shards)]


def all_reduce_mean(grads: list[dict[str, np.ndarray]], weights=None) -> dict[str, np.ndarray]:
    """The all-reduce: the (weighted) mean of every worker's gradients, name by name.

    ``weights`` (one per worker, summing to 1) default to ``1 / W`` each; pass the shard fractions
    ``N_w / N`` when the shards are uneven.
    """
    if grads is None or (isinstance(grads, (list, tuple)) and not grads):
        raise ConfigError(f"all_reduce_mean: grads must hold the gradients of at least one worker (a list with one "
                          f"dict per worker, such as worker_gradients(...) returns), got {grads!r}.")
    if isinstance(grads, dict) or not all(isinstance(g, dict) for g in grads):
        raise ConfigError("all_reduce_mean: grads must be a list with one dict {name: gradient} per worker, "
                          "such as worker_gradients(...) returns; wrap a single worker's dict in a list.")
    W = len(grads)
    if weights is None:
        weights = np.full(W, 1.0 / W)
    else:
        raw = np.asarray(weights, dtype=object) if not isinstance(weights, np.ndarray) else weights
        if raw.ndim != 1 or len(raw) != W:
            raise ShapeError(f"all_reduce_mean: weights has shape {raw.shape} for {W} workers: give one weight per "
                             f"worker, such as the shard fractions N_w / N.")
        if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) for v in raw.tolist()):
            raise ConfigError(f"all_reduce_mean: weights must be numbers, got {list(raw)!r}; write them without "
                              f"quotes, such as the shard fractions N_w / N.")
        weights = np.asarray(raw, dtype=np.float64)
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ConfigError(f"all_reduce_mean: every weight must be a finite number >= 0, got {weights.tolist()}: "
                              f"weights are the workers' shares of the batch, N_w / N.")
    if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-12):
        raise ConfigError(f"all_reduce_mean: the weights sum to {weights.sum():.6g}, not 1: use the shard "
                          f"fractions N_w / N.")
    names = list(grads[0])
    for w, g in enumerate(grads):
        if list(g) != names:
            raise ConfigError(f"all_reduce_mean: in grads, worker {w} has gradients for {list(g)}, worker 0 for "
                              f"{names}: every worker must hold a copy of the same model.")
        for name in names:
            if np.shape(g[name]) != np.shape(grads[0][name]):
                raise ShapeError(f"all_reduce_mean: worker {w}'s gradient '{name}' has shape {np.shape(g[name])}, "
                                 f"worker 0's {np.shape(grads[0][name])}: every worker must hold a copy of the same "
                                 f"model (replicate(model, world_size)).")
    return {name: sum(wt * g[name] for wt, g in zip(weights, grads)) for name in names}


def data_parallel_gradients(model, loss_fn, x, y, world_size: int, *, weighted: bool = True):
    """Simulate one data-parallel step: shard, compute on each copy, all-reduce. Returns ``{name: grad}``.

    ``weighted=True`` weights each worker by its shard's size (exact for uneven shards too);
    ``weighted=False`` takes the plain mean, exact only when the shards are equal.
    """
    weighted = boolean(weighted, "weighted", "data_parallel_gradients")
    shards = shard_batch(x, y, world_size)
    grads = worker_gradients(replicate(model, world_size), loss_fn, shards)
    weights = [len(xs) / len(x) for xs, _ in shards] if weighted else None
    return all_reduce_mean(grads, weights)


# --------------------------------------------------------------------------------------------------
# The ring all-reduce
# --------------------------------------------------------------------------------------------------


@dataclass
class RingAllReduce:
    """What ``ring_all_reduce`` returns: each worker's result, its bytes sent, and the steps taken.

    ``log`` holds one entry per transfer: ``(phase, step, sender, receiver, chunk, nbytes)``.
    """

    results: list[np.ndarray]
    bytes_sent: list[int]
    log: list[tuple[str, int, int, int, int, int]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return int(sum(self.bytes_sent))


def ring_all_reduce(arrays, *, average: bool = False) -> RingAllReduce:
    """Sum (or average) one array per worker with the ring algorithm, counting the bytes sent.

    The W workers sit in a ring; worker ``r`` only ever sends to worker ``(r + 1) % W``. Each array is
    cut into W chunks.

    1. Reduce-scatter, W - 1 steps: at step ``s`` worker ``r`` sends its running sum of chunk
       ``(r - s) % W`` to its neighbour, which adds it to its own. Afterwards worker ``r`` holds the
       complete sum of chunk ``(r + 1) % W``.
    2. All-gather, W - 1 steps: at step ``s`` worker ``r`` passes on the complete chunk ``(r + 1 - s) % W``,
       which its neighbour stores. Afterwards every worker holds every complete chunk.

    Each worker sends 2 (W - 1) chunks of size/W: ``2 (W - 1) / W * size`` bytes, whatever W is, where
    sending everything to one server costs that server ``2 (W - 1) * size``.
    """
    average = boolean(average, "average", "ring_all_reduce")
    if isinstance(arrays, (str, bytes, np.ndarray)) or not isinstance(arrays, (list, tuple)) or not arrays:
        raise ConfigError(f"ring_all_reduce: arrays must be a list with one array per worker (at least one), got "
                          f"{type(arrays).__name__} {arrays!r:.40}.")
    arrays = [as_array(a, f"arrays[{r}]", "ring_all_reduce") for r, a in enumerate(arrays)]
    W = _check_world_size(len(arrays))
    shape, dtype = arrays[0].shape, arrays[0].dtype
    for r, a in enumerate(arrays):
        if a.shape != shape or a.dtype != dtype:
            raise ShapeError(f"ring_all_reduce: in arrays, worker {r} holds {a.shape} {a.dtype}, worker 0 holds "
                             f"{shape} {dtype}: every worker must reduce an array of the same shape and dtype.")
    # chunks[r][c]: worker r's copy of chunk c (np.array_split: sizes differ by at most one element)
    chunks = [[c.copy() for c in np.array_split(a.reshape(-1), W)] for a in arrays]
    sent = [0] * W
    log = []

    for step in range(W - 1):                                   # 1. reduce-scatter
        outgoing = [(r, (r - step) % W, chunks[r][(r - step) % W].copy()) for r in range(W)]
        for r, c, payload in outgoing:                          # everyone sends at once, then receives
            receiver = (r + 1) % W
            chunks[receiver][c] = chunks[receiver][c] + payload
            sent[r] += payload.nbytes
            log.append(("reduce-scatter", step, r, receiver, c, payload.nbytes))

    for step in range(W - 1):                                   # 2. all-gather
        outgoing = [(r, (r + 1 - step) % W, chunks[r][(r + 1 - step) % W].copy()) for r in range(W)]
        for r, c, payload in outgoing:
            receiver = (r + 1) % W
            chunks[receiver][c] = payload
            sent[r] += payload.nbytes
            log.append(("all-gather", step, r, receiver, c, payload.nbytes))

    results = []
    for r in range(W):
        out = np.concatenate(chunks[r]).reshape(shape)
        results.append(out / W if average else out)
    return RingAllReduce(results, sent, log)


def ring_bytes_per_worker(nbytes: int, world_size: int) -> float:
    """The formula: each worker of a ring all-reduce sends ``2 (W - 1) / W * nbytes``."""
    _check_nbytes(nbytes, "ring_bytes_per_worker")                                # checked; an int stays an int
    W = _check_world_size(world_size)
    return 2 * (W - 1) / W * nbytes


def naive_all_reduce_bytes(nbytes: int, world_size: int) -> int:
    """Bytes the central worker moves when all send to it and it sends the sum back: ``2 (W - 1) * nbytes``."""
    _check_nbytes(nbytes, "naive_all_reduce_bytes")                               # checked; an int stays an int
    W = _check_world_size(world_size)
    return 2 * (W - 1) * nbytes


def _check_nbytes(nbytes, who):
    """A number of bytes: finite, >= 0 and whole (``4.96e8`` is fine, ``2.5`` is not)."""
    finite_number(nbytes, "nbytes", who, minimum=0)
    if not float(nbytes).is_integer():
        raise ConfigError(f"{who}: nbytes must be a whole number of bytes, got {nbytes!r}; pass the size of the "
                          f"gradients in bytes, such as n_params * 4 for float32.")
