"""The chapter-7 CNN: how fast is the NumPy back end next to torch, and how accurate is the recipe?

    .venv/bin/python benchmarks/bench_cnn.py speed [--repeats 5] [--channels 16 32]
    .venv/bin/python benchmarks/bench_cnn.py accuracy [--seeds 0 1 2] [--backend numpy torch]
    .venv/bin/python benchmarks/bench_cnn.py curve [--sizes 1000 2000 4000 8000] [--seeds 0 1]

``speed``: one epoch (8,000 images, batches of 64, SGD momentum 0.9, float32, ONE thread) of the same
LeNet-style network in each back end, interleaved (NumPy, torch, NumPy, ...), median of ``--repeats``
rounds; then where the NumPy epoch's time goes, layer by layer (forward and backward of each layer
timed inside one more epoch). Random images: speed does not depend on the pixels.

``accuracy``: the ``"cnn"`` recipe of ``nncourse.recipes`` (and the ``"mlp"`` one for comparison)
trained with ``fit`` on the offline MNIST split (``NNCOURSE_MNIST_SAMPLE``: 8,000 train / 2,000
test), test accuracy per seed and back end.

``curve``: a learning curve, test error against training-set size (torch back end, the same recipe),
and a power law ``error = a * n**(-b)`` fitted to it, extrapolated to 60,000 training images: an
estimate of the accuracy on full MNIST without downloading it.

A measurement, not a test: it never fails. Quote ratios measured in one run (the machine is shared).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nncourse.numpy_nn as nn  # noqa: E402
from nncourse import torch_nn  # noqa: E402
from nncourse.recipes import MNIST_RECIPES  # noqa: E402
from nncourse.train import evaluate, fit  # noqa: E402

torch.set_num_threads(1)


# --- speed -------------------------------------------------------------------------------------------------

def numpy_epoch(model, X, y, batch_size=64):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for start in range(0, len(X), batch_size):
        out = model(X[start:start + batch_size])
        loss_fn(out, y[start:start + batch_size])
        optimizer.zero_grad()
        model.backward(loss_fn.backward(), need_input_grad=False)
        optimizer.step()


def torch_epoch(model, X, y, batch_size=64):
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    for start in range(0, len(X), batch_size):
        loss = loss_fn(model(X[start:start + batch_size]), y[start:start + batch_size])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def profile_layers(model, X, y):
    """Seconds spent in each layer's forward and backward during one epoch (wrapping the methods)."""
    spent = defaultdict(float)

    def timed(name, method):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            result = method(*args, **kwargs)
            spent[name] += time.perf_counter() - started
            return result
        return wrapper

    for index, layer in enumerate(model):
        label = f"{index} {type(layer).__name__}"
        layer.forward = timed(f"{label} forward", layer.forward)
        layer.backward = timed(f"{label} backward", layer.backward)
    started = time.perf_counter()
    numpy_epoch(model, X, y)
    total = time.perf_counter() - started
    for layer in model:                        # back to the class's own methods
        del layer.forward, layer.backward
    return total, spent


def conv_internals(model, X, repeats=20):
    """Milliseconds per batch of 64 in each step of each Conv2d: im2col, the three matrix products, col2im."""
    from nncourse.numpy_nn.conv import _add_columns, _fill_columns, _output_hw, channels_last_batch

    def ms(fn):
        fn()
        started = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - started) / repeats * 1e3

    x = X[:64]
    for index, layer in enumerate(model):
        if isinstance(layer, nn.Conv2d):
            n, c, h, w = x.shape
            ho, wo = _output_hw((h, w), layer.kernel_size, layer.stride, layer.padding)
            columns = np.zeros((c, *layer.kernel_size, ho, wo, n), dtype=x.dtype)
            args = (layer.kernel_size, layer.stride, layer.padding)
            x_chwn = channels_last_batch(x)
            cols = _fill_columns(x_chwn, columns, *args).reshape(-1, n * ho * wo)
            W = layer.weight.data.reshape(layer.out_channels, -1)
            g = np.ones((layer.out_channels, n * ho * wo), dtype=x.dtype)
            grad_cols = W.T @ g
            grad_x = np.zeros((c, h, w, n), dtype=x.dtype)
            parts = {"im2col": ms(lambda: _fill_columns(channels_last_batch(x), columns, *args)),
                     "W @ cols": ms(lambda: W @ cols), "G @ cols.T": ms(lambda: g @ cols.T),
                     "W.T @ G": ms(lambda: W.T @ g),
                     "col2im": ms(lambda: _add_columns(grad_cols.reshape(columns.shape), grad_x, *args))}
            print(f"  {index} {layer!r}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in parts.items()))
        x = layer(x)


def speed(args):
    recipe = dataclasses.replace(MNIST_RECIPES["cnn"], sizes=(1, *args.channels, 10))
    rng = np.random.default_rng(0)
    X = rng.random((8000, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 8000)
    model = recipe.numpy_model(0)
    twin = torch_nn.from_numpy(model)
    print(model)
    times = {"numpy": [], "torch": []}
    numpy_epoch(model, X[:640], y[:640])                # warm up both
    torch_epoch(twin, X[:640], y[:640])
    for _ in range(args.repeats):
        for name, run, m in (("numpy", numpy_epoch, model), ("torch", torch_epoch, twin)):
            started = time.perf_counter()
            run(m, X, y)
            times[name].append(time.perf_counter() - started)
    ratios = [a / b for a, b in zip(times["numpy"], times["torch"])]
    print(f"one epoch, 8,000 images, batch 64, one thread, {args.repeats} interleaved rounds")
    for name, values in times.items():
        print(f"  {name:5s}: median {statistics.median(values):.3f} s  (all: {', '.join(f'{v:.2f}' for v in values)})")
    print(f"  NumPy / torch: median of per-round ratios {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f} to {max(ratios):.2f})")
    total, spent = profile_layers(model, X, y)
    print(f"\nwhere one NumPy epoch's time goes ({total:.2f} s; the rest is the loss and the optimizer):")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:22s} {seconds:6.3f} s  {seconds / total:5.1%}")
    print("\ninside each convolution, per batch of 64 (the first layer skips W.T @ G and col2im in training):")
    conv_internals(model, X)


# --- accuracy ----------------------------------------------------------------------------------------------

def train_and_test(recipe, backend, seed, X_train, y_train, X_test, y_test):
    model, loss_fn, optimizer, _, fit_kwargs = recipe.build(backend, seed=seed)
    started = time.perf_counter()
    history = fit(model, loss_fn, optimizer, (recipe.prepare(X_train), y_train), quiet=True, **fit_kwargs)
    seconds = time.perf_counter() - started
    _, accuracy = evaluate(model, loss_fn, recipe.prepare(X_test), y_test)
    return accuracy, statistics.median(history.epoch_seconds), seconds


def accuracy(args):
    from nncourse.data import load_mnist

    mnist = load_mnist()
    for kind in args.kind:
        recipe = MNIST_RECIPES[kind]
        print(recipe.describe())
        for seed in args.seeds:
            for backend in args.backend:
                acc, epoch_s, total = train_and_test(recipe, backend, seed, *mnist[:4])
                print(f"  seed {seed} {backend:5s}: test accuracy {acc:.2%}  ({epoch_s:.2f} s/epoch, {total:.0f} s)",
                      flush=True)


# --- learning curve ------------------------------------------------------------------------------------------

def curve(args):
    from nncourse.data import load_mnist

    mnist = load_mnist()
    recipe = MNIST_RECIPES["cnn"]
    sizes, errors = [], []
    for n in args.sizes:
        accs = []
        for seed in args.seeds:
            rows = np.random.default_rng(100 + seed).permutation(len(mnist.X_train))[:n]
            acc, _, _ = train_and_test(recipe, args.backend[0], seed, mnist.X_train[rows], mnist.y_train[rows],
                                       mnist.X_test, mnist.y_test)
            accs.append(acc)
        mean = float(np.mean(accs))
        sizes.append(n)
        errors.append(1 - mean)
        print(f"  {n:5d} training images: test accuracy {', '.join(f'{a:.2%}' for a in accs)} (mean {mean:.2%})",
              flush=True)
    slope, intercept = np.polyfit(np.log(sizes), np.log(errors), 1)      # log error = log a - b log n
    for n in (8000, 60000):
        print(f"  power law error = {np.exp(intercept):.3g} * n^{slope:.3f}: at n = {n:,}, "
              f"predicted accuracy {1 - np.exp(intercept) * n ** slope:.2%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["speed", "accuracy", "curve"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--channels", type=int, nargs="+", default=list(MNIST_RECIPES["cnn"].sizes[1:-1]))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--kind", nargs="+", default=["cnn", "mlp"], choices=list(MNIST_RECIPES))
    parser.add_argument("--backend", nargs="+", default=["numpy", "torch"], choices=["numpy", "torch"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    args = parser.parse_args(argv)
    {"speed": speed, "accuracy": accuracy, "curve": curve}[args.what](args)


if __name__ == "__main__":
    main()
