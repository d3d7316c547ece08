"""How fast is the NumPy MLP compared with PyTorch, and with the cost of its matrix products alone?

    .venv/bin/python benchmarks/bench_mlp_speed.py [--repeats 7] [--samples 8000] [--batch-size 64]
        [--random] [--profile]

One network, 784-256-128-10 with ReLU, float32, trained with SGD (lr 0.05, momentum 0.9) on 8,000
MNIST-shaped rows per epoch in mini-batches of 64, on ONE thread (the BLAS variables are set before
NumPy is imported and ``torch.set_num_threads(1)``). Timed, one epoch each, interleaved
(round 1: every variant once, round 2: every variant once, ...), so that a busy moment on a shared
machine hits all variants alike; the median over ``--repeats`` rounds is printed:

* ``numpy fit`` / ``torch fit``: one epoch of ``nncourse.train.fit`` (quiet), what the course uses;
* ``numpy loop`` / ``torch loop``: the bare step loop (forward, loss, zero_grad, backward, step) over
  the same batches, to show how much ``fit`` itself adds (shuffling, batch copies, accuracy counting);
* ``GEMM bound``: only the matrix products one epoch needs, on preallocated arrays
  (``np.matmul(..., out=...)``): 3 forward products and 5 backward ones per batch (two per layer for
  d loss / d W and d loss / d input, minus d loss / d input of the first layer, which nobody needs).
  No implementation of this network with these BLAS calls can be faster, so ``numpy / bound`` says how
  much the NumPy code spends outside the arithmetic that matters.

Targets: numpy / torch <= 1.0 and numpy / bound <= 1.5. ``--profile`` adds a cProfile of one NumPy
``fit`` epoch (the 15 most expensive functions by own time). Data: the offline MNIST sample when
``NNCOURSE_MNIST_SAMPLE`` is set (the first ``--samples`` training rows), else random pixels
(``--random`` forces them); speed does not depend on which.

Timings on shared 2-core machines swing by 1.5x from run to run; compare the ratios printed by one run,
not seconds printed by different runs. This is a measurement, not a test: it never fails.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nncourse import numpy_nn, torch_nn  # noqa: E402
from nncourse.train import fit  # noqa: E402

torch.set_num_threads(1)

SIZES = [784, 256, 128, 10]
LR, MOMENTUM = 0.05, 0.9


def load_data(samples, force_random):
    """``samples`` rows of 784 float32 pixels in [0, 1] and int64 labels 0..9."""
    if not force_random and os.environ.get("NNCOURSE_MNIST_SAMPLE"):
        from nncourse.data import load_mnist

        mnist = load_mnist(quiet=True)
        if len(mnist.X_train) >= samples:
            return mnist.X_train[:samples], mnist.y_train[:samples], "MNIST sample"
    rng = np.random.default_rng(0)
    X = rng.random((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    return X, y, "random pixels"


# --- the variants: each returns a function that trains one epoch ------------------------------------

def numpy_fit_epoch(X, y, batch_size):
    model = numpy_nn.mlp(SIZES, seed=0)
    loss_fn = numpy_nn.CrossEntropyLoss()
    opt = numpy_nn.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    seeds = iter(range(10**6))
    return lambda: fit(model, loss_fn, opt, (X, y), epochs=1, batch_size=batch_size,
                       seed=next(seeds), quiet=True)


def torch_fit_epoch(X, y, batch_size):
    model = torch_nn.mlp(SIZES, seed=0)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    seeds = iter(range(10**6))
    return lambda: fit(model, loss_fn, opt, (X, y), epochs=1, batch_size=batch_size,
                       seed=next(seeds), quiet=True)


def _batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def numpy_loop_epoch(X, y, batch_size):
    model = numpy_nn.mlp(SIZES, seed=0)
    loss_fn = numpy_nn.CrossEntropyLoss()
    opt = numpy_nn.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    rng = np.random.default_rng(0)

    def epoch():
        for rows in _batches(len(X), batch_size, rng):
            loss_fn(model(X[rows]), y[rows])
            opt.zero_grad()
            model.backward(loss_fn.backward(), need_input_grad=False)
            opt.step()
    return epoch


def torch_loop_epoch(X, y, batch_size):
    model = torch_nn.mlp(SIZES, seed=0)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(0)

    def epoch():
        for rows in _batches(len(X), batch_size, rng):
            rows = torch.from_numpy(rows)
            loss = loss_fn(model(Xt[rows]), yt[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def gemm_bound_epoch(X, y, batch_size):
    """Only the 8 matrix products per batch, into preallocated arrays (a lower bound for an epoch)."""
    rng = np.random.default_rng(0)
    n_batches = -(-len(X) // batch_size)
    B = batch_size
    f32 = np.float32
    W = [rng.standard_normal((o, i), dtype=f32) * f32(0.05) for i, o in zip(SIZES[:-1], SIZES[1:])]
    x0 = np.ascontiguousarray(X[:B])
    a = [x0] + [np.empty((B, o), f32) for o in SIZES[1:]]           # layer inputs / outputs
    g = [np.full((B, o), 1e-3, f32) for o in SIZES[1:]]              # d loss / d layer outputs
    dW = [np.empty_like(w) for w in W]
    dx = [None] + [np.empty((B, i), f32) for i in SIZES[1:-1]]       # d loss / d inputs of layers 2, 3

    def epoch():
        for _ in range(n_batches):
            for k in range(3):                                       # forward: 3 products
                np.matmul(a[k], W[k].T, out=a[k + 1])
            for k in (2, 1, 0):                                      # backward: 5 products
                np.matmul(g[k].T, a[k], out=dW[k])
                if k > 0:
                    np.matmul(g[k], W[k], out=dx[k])
    return epoch


VARIANTS = {
    "numpy fit": numpy_fit_epoch,
    "torch fit": torch_fit_epoch,
    "numpy loop": numpy_loop_epoch,
    "torch loop": torch_loop_epoch,
    "GEMM bound": gemm_bound_epoch,
}


def profile_numpy_epoch(X, y, batch_size, top=15):
    import cProfile
    import pstats

    epoch = numpy_fit_epoch(X, y, batch_size)
    epoch()                                                          # warm up
    profiler = cProfile.Profile()
    profiler.enable()
    epoch()
    profiler.disable()
    print(f"\ncProfile of one NumPy fit epoch (top {top} by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (median reported)")
    parser.add_argument("--samples", type=int, default=8000, help="rows per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--random", action="store_true", help="random pixels instead of the MNIST sample")
    parser.add_argument("--profile", action="store_true", help="also cProfile one NumPy fit epoch")
    args = parser.parse_args(argv)

    X, y, what = load_data(args.samples, args.random)
    print(f"MLP {'-'.join(map(str, SIZES))}, float32, batch {args.batch_size}, SGD lr {LR} momentum "
          f"{MOMENTUM}, {len(X):,} rows/epoch ({what}); NumPy {np.__version__}, torch {torch.__version__}, "
          f"1 thread")
    epochs = {name: make(X, y, args.batch_size) for name, make in VARIANTS.items()}
    for epoch in epochs.values():                                    # warm up: imports, caches, allocator
        epoch()
    seconds = {name: [] for name in epochs}
    for _ in range(args.repeats):
        for name, epoch in epochs.items():
            start = time.perf_counter()
            epoch()
            seconds[name].append(time.perf_counter() - start)

    median = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"\nseconds per epoch, median of {args.repeats} interleaved rounds (min .. max):")
    for name, values in seconds.items():
        print(f"  {name:<11} {median[name]:7.4f} s   ({min(values):.4f} .. {max(values):.4f})")
    print("\nratios (target: numpy/torch <= 1.0, numpy/bound <= 1.5):")
    for a, b in (("numpy fit", "torch fit"), ("numpy loop", "torch loop"),
                 ("numpy fit", "GEMM bound"), ("numpy loop", "GEMM bound"),
                 ("numpy fit", "numpy loop"), ("torch fit", "torch loop")):
        print(f"  {a:>10} / {b:<10} {median[a] / median[b]:5.2f}")
    if args.profile:
        profile_numpy_epoch(X, y, args.batch_size)


if __name__ == "__main__":
    main()
