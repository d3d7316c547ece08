"""What the tape costs: one training step of chapter 6's MLP with the autograd engine of chapter 13,
against numpy_nn's hand-written backward pass and against torch.

    .venv/bin/python benchmarks/bench_autograd.py [--repeats 7] [--steps 60] [--batch-size 64]

The network is 784-256-128-10 with ReLU, float32, plain SGD (lr 0.05), mini-batches of 64 random
MNIST-shaped rows, ONE thread (the BLAS variables are set before NumPy is imported and
``torch.set_num_threads(1)``). A step is forward, cross-entropy, zero_grad, backward, SGD step. All
three start from the same weights (``numpy_nn.mlp(seed=0)``, copied). Timed in interleaved rounds
(round 1: ``--steps`` steps of every variant, round 2: ..., so that a busy moment hits all alike);
the median time per step over ``--repeats`` rounds is printed, and the ratios.

Memory: the peak of NumPy allocations during one step (``tracemalloc``, which sees every NumPy array)
for numpy_nn and the engine; and, for all three, the bytes that the forward pass keeps alive for the
backward pass, weights excluded (numpy_nn: the arrays its layers and loss cache; engine: every node's
output, since a node holds its parents, and the arrays its backward function captured; torch, which
``tracemalloc`` cannot see: the tensors autograd saves, via ``torch.autograd.graph.saved_tensors_hooks``).

Timings on shared 2-core machines swing by 1.5x from run to run; compare the ratios printed by one run.
This is a measurement, not a test: it never fails.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nncourse import numpy_nn, torch_nn  # noqa: E402
from nncourse.autograd import Tensor, functional as F, nn as ag_nn  # noqa: E402

torch.set_num_threads(1)

SIZES = [784, 256, 128, 10]
LR = 0.05


def make_batches(steps, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((steps * batch_size, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], steps * batch_size)
    return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]


# --- the variants: each returns step(X, y) -> loss ------------------------------------------------

def numpy_step():
    model = numpy_nn.mlp(SIZES, seed=0)
    loss_fn = numpy_nn.CrossEntropyLoss()
    opt = numpy_nn.SGD(model.parameters(), lr=LR)

    def step(X, y):
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        model.backward(loss_fn.backward(), need_input_grad=False)
        opt.step()
        return loss
    return step


def engine_step():
    model = ag_nn.from_numpy(numpy_nn.mlp(SIZES, seed=0))
    opt = ag_nn.SGD(model.parameters(), lr=LR)

    def step(X, y):
        loss = F.cross_entropy(model(Tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def torch_step():
    model = torch_nn.mlp(SIZES, seed=0)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(X, y):
        loss = loss_fn(model(torch.from_numpy(X)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    return step


VARIANTS = {"numpy_nn": numpy_step, "engine": engine_step, "torch": torch_step}


def time_per_step(repeats, batches):
    steps = {name: make() for name, make in VARIANTS.items()}
    for step in steps.values():                                   # warm up
        for X, y in batches[:5]:
            step(X, y)
    seconds = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for X, y in batches:
                step(X, y)
            seconds[name].append((time.perf_counter() - start) / len(batches))
    return seconds


def numpy_peak_bytes(make, X, y):
    """Peak NumPy allocation during one step, beyond what existed before it."""
    step = make()
    step(X, y)                                                    # warm up, allocate optimizer state
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    step(X, y)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


def engine_graph_bytes(X, y):
    """Bytes of the arrays that one step's graph keeps alive until backward(), weights excluded: the
    output of every node (a node holds its parents) and the arrays its backward function captured."""
    model = ag_nn.from_numpy(numpy_nn.mlp(SIZES, seed=0))
    weights = [p.data for p in model.parameters()]
    loss = F.cross_entropy(model(Tensor(X)), y)
    arrays, seen, stack = {}, set(), [loss]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        captured = [c.cell_contents for c in (node._backward.__closure__ or ())] if node._backward else []
        for value in [node.data, *captured]:
            value = value.data if isinstance(value, Tensor) else value
            if isinstance(value, np.ndarray) and not any(np.shares_memory(value, w) for w in weights):
                arrays[value.__array_interface__["data"][0]] = value.nbytes   # W.T is a view of W: skipped
        stack.extend(node._parents)
    return sum(arrays.values())


def numpy_cache_bytes(X, y):
    """Bytes of the arrays numpy_nn's layers keep from the forward pass for their backward pass."""
    model = numpy_nn.mlp(SIZES, seed=0)
    loss_fn = numpy_nn.CrossEntropyLoss()
    loss_fn(model(X), y)
    total, seen = 0, set()
    for owner in [*model, loss_fn]:
        for value in vars(owner).values():
            if isinstance(value, np.ndarray) and id(value) not in seen:
                seen.add(id(value))
                total += value.nbytes
    return total


def torch_saved_bytes(X, y):
    """Bytes of the tensors torch's autograd saves for backward in one step, weights excluded."""
    model = torch_nn.mlp(SIZES, seed=0)
    weights = {p.data_ptr() for p in model.parameters()}
    saved = {}

    def pack(t):
        if t.data_ptr() not in weights:
            saved[t.data_ptr()] = t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    return sum(saved.values())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (median reported)")
    parser.add_argument("--steps", type=int, default=60, help="training steps per round and variant")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    batches = make_batches(args.steps, args.batch_size)
    print(f"MLP {'-'.join(map(str, SIZES))}, float32, batch {args.batch_size}, SGD lr {LR}, "
          f"{args.steps} steps per round; NumPy {np.__version__}, torch {torch.__version__}, 1 thread")
    seconds = time_per_step(args.repeats, batches)
    median = {name: statistics.median(v) for name, v in seconds.items()}
    print(f"\nmilliseconds per training step, median of {args.repeats} interleaved rounds (min .. max):")
    for name, values in seconds.items():
        print(f"  {name:<9} {1e3 * median[name]:7.3f} ms   ({1e3 * min(values):.3f} .. {1e3 * max(values):.3f})")
    print("\nratios per step:")
    for a, b in (("engine", "numpy_nn"), ("engine", "torch"), ("numpy_nn", "torch")):
        print(f"  {a:>8} / {b:<8} {median[a] / median[b]:5.2f}")

    X, y = batches[0]
    print("\nmemory of one step (kB):")
    print(f"  peak NumPy allocation   numpy_nn {numpy_peak_bytes(numpy_step, X, y) / 1e3:8.1f}   "
          f"engine {numpy_peak_bytes(engine_step, X, y) / 1e3:8.1f}")
    print(f"  kept for backward       numpy_nn {numpy_cache_bytes(X, y) / 1e3:8.1f}   "
          f"engine {engine_graph_bytes(X, y) / 1e3:8.1f}   torch (saved tensors) "
          f"{torch_saved_bytes(X, y) / 1e3:8.1f}")


if __name__ == "__main__":
    main()
