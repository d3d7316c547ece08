"""NumPy ``Conv2d`` against torch's, forward + backward, at the sizes of the book's CNNs (one thread).

    .venv/bin/python benchmarks/bench_conv.py [--rounds 7] [--network lenet resnet] [--steps 30]

For each network (``lenet``: chapter 7's recipe CNN; ``resnet``: chapter 12's ``ResNet(blocks=(1, 1, 1))``)
one training batch of 64 random images runs through the NumPy model, and the input and the upstream
gradient of every ``Conv2d`` are recorded, in the memory order they have inside the network (batch
innermost, see ``numpy_nn/conv.py``). Then, in interleaved rounds (NumPy, torch, NumPy, ...):

* **layers**: every convolution's forward + backward, NumPy against its torch twin fed the same numbers
  (contiguous NCHW tensors, as inside a torch network); the first layer skips d input in both;
* **each layer**: the same, one convolution at a time;
* **network**: ``--steps`` whole training steps (forward, loss, backward, SGD) of the network in each
  back end.

Printed: the medians of the per-round ratios NumPy / torch, then where the NumPy convolutions' time goes,
from separate timings: im2col, the forward and d weight products, then d input by the road each layer
takes (``numpy_nn/conv.py``): ``W.T @ G`` + col2im, or, for the stride-1 layers, im2col of ``G`` + the
product with the turned kernel; the rest is checks, bias and allocation.

A measurement, not a test: it never fails. Quote ratios measured in one run (the machine is shared).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nncourse.numpy_nn as nn  # noqa: E402
from nncourse.models import ResNet  # noqa: E402
from nncourse.models.torch import ResNet as _TorchResNet  # noqa: E402,F401  registers the twin
from nncourse.numpy_nn import conv  # noqa: E402
from nncourse.recipes import MNIST_RECIPES  # noqa: E402
from nncourse.torch_nn import from_numpy  # noqa: E402

torch.set_num_threads(1)
BATCH = 64


def build(name):
    if name == "lenet":
        return MNIST_RECIPES["cnn"].numpy_model(0)
    return ResNet(blocks=(1, 1, 1), widths=(8, 16, 32), seed=0)


def record_convolutions(model, x, y):
    """``[(layer, input, grad_output, is_first)]`` for every Conv2d of one training step of ``model``."""
    seen = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    for layer in convs:
        def forward(inp, _layer=layer, _forward=layer.forward):
            seen.append([_layer, inp, None])
            return _forward(inp)

        def backward(grad, _layer=layer, _backward=layer.backward, **kwargs):
            for entry in seen:
                if entry[0] is _layer:
                    entry[2] = grad
            return _backward(grad, **kwargs)

        layer.forward, layer.backward = forward, backward
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), y)
    model.backward(loss_fn.backward(), need_input_grad=False)
    for layer in convs:
        del layer.forward, layer.backward
    return [(layer, inp, grad, layer is convs[0]) for layer, inp, grad in seen]


def numpy_layers(records):
    for layer, x, g, first in records:
        layer.zero_grad()
        layer(x)
        layer.backward(g, need_input_grad=not first)


def torch_layers(records):
    for layer, x, g, first in records:
        layer.zero_grad()
        x.grad = None
        layer(x).backward(g)


def numpy_steps(model, X, y, steps):
    loss_fn, optimizer = nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for step in range(steps):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        loss_fn(model(X[rows]), y[rows])
        optimizer.zero_grad()
        model.backward(loss_fn.backward(), need_input_grad=False)
        optimizer.step()


def torch_steps(model, X, y, steps):
    loss_fn, optimizer = torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for step in range(steps):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        loss = loss_fn(model(X[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def seconds(fn, repeats):
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def breakdown(records, repeats=10):
    """Milliseconds per batch in each part of the NumPy convolutions, summed over the layers."""
    parts = dict.fromkeys(["im2col", "W @ cols", "G @ cols.T", "W.T @ G", "col2im", "im2col of G",
                           "rot180(W) @ G cols", "total fwd+bwd"], 0.0)
    for layer, x, g, first in records:
        n, c, h, w = x.shape
        ho, wo = conv._output_hw((h, w), layer.kernel_size, layer.stride, layer.padding)
        args = (layer.kernel_size, layer.stride, layer.padding)
        columns = np.zeros((c, *layer.kernel_size, ho, wo, n), dtype=x.dtype)
        x_chwn = conv.channels_last_batch(x)
        cols = conv._fill_columns(x_chwn, columns, *args).reshape(-1, ho * wo * n)
        weight = layer.weight.data.reshape(layer.out_channels, -1)
        g_ohwn = conv.channels_last_batch(g)
        G = g_ohwn.reshape(layer.out_channels, -1)
        parts["im2col"] += seconds(lambda: conv._fill_columns(conv.channels_last_batch(x), columns, *args), repeats)
        parts["W @ cols"] += seconds(lambda: weight @ cols, repeats)
        parts["G @ cols.T"] += seconds(lambda: G @ cols.T, repeats)
        if first:
            pass                                                    # no d input
        elif layer._input_grad_is_a_convolution((h, w), (ho, wo)):
            pad = layer._transposed_padding()
            g_columns = np.zeros((layer.out_channels, *layer.kernel_size, h, w, n), dtype=g.dtype)
            g_cols = conv._fill_columns(g_ohwn, g_columns, layer.kernel_size, (1, 1), pad).reshape(-1, h * w * n)
            turned = conv.turned_kernel(layer.weight.data).reshape(c, -1)
            parts["im2col of G"] += seconds(lambda: conv._fill_columns(g_ohwn, g_columns, layer.kernel_size, (1, 1),
                                                                       pad), repeats)
            parts["rot180(W) @ G cols"] += seconds(lambda: turned @ g_cols, repeats)
        else:
            grad_cols = weight.T @ G
            grad_x = np.zeros((c, h, w, n), dtype=x.dtype)
            parts["W.T @ G"] += seconds(lambda: weight.T @ G, repeats)
            parts["col2im"] += seconds(lambda: conv._add_columns(grad_cols.reshape(columns.shape), grad_x, *args),
                                       repeats)
        parts["total fwd+bwd"] += seconds(lambda: numpy_layers([(layer, x, g, first)]), repeats)
    parts = {key: value * 1e3 for key, value in parts.items()}
    parts["rest"] = parts["total fwd+bwd"] - sum(v for k, v in parts.items() if k != "total fwd+bwd")
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--network", nargs="+", default=["lenet", "resnet"], choices=["lenet", "resnet"])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((args.steps * BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, len(X))
    for name in args.network:
        model = build(name)
        twin = from_numpy(model)
        records = record_convolutions(model, X[:BATCH], y[:BATCH])
        twins = {id(m): t for m, t in zip([m for m in model.modules() if isinstance(m, nn.Conv2d)],
                                          [t for t in twin.modules() if isinstance(t, torch.nn.Conv2d)])}
        torch_records = [(twins[id(layer)], torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(not first),
                          torch.from_numpy(np.ascontiguousarray(g)), first) for layer, x, g, first in records]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        numpy_layers(records)
        torch_layers(torch_records)                      # warm up
        layer_ratios, step_ratios, times = [], [], {"numpy layers": [], "torch layers": [],
                                                    "numpy steps": [], "torch steps": []}
        for _ in range(args.rounds):
            a = seconds(lambda: numpy_layers(records), 5)
            b = seconds(lambda: torch_layers(torch_records), 5)
            c = seconds(lambda: numpy_steps(model, X, y, args.steps), 1)
            d = seconds(lambda: torch_steps(twin, Xt, yt, args.steps), 1)
            layer_ratios.append(a / b)
            step_ratios.append(c / d)
            for key, value in zip(times, (a, b, c, d)):
                times[key].append(value)
        print(f"{name}: {len(records)} convolutions, batch {BATCH}, one thread, {args.rounds} interleaved rounds")
        for layer, x, _, first in records:
            print(f"  {layer!r} on {x.shape}" + ("  (first layer: no d input)" if first else ""))
        print(f"  conv forward+backward, all layers: NumPy {statistics.median(times['numpy layers']) * 1e3:.1f} ms, "
              f"torch {statistics.median(times['torch layers']) * 1e3:.1f} ms per batch; NumPy / torch "
              f"median {statistics.median(layer_ratios):.2f} "
              f"(range {min(layer_ratios):.2f} to {max(layer_ratios):.2f})")
        print(f"  {args.steps} training steps of the network: NumPy {statistics.median(times['numpy steps']):.2f} s, "
              f"torch {statistics.median(times['torch steps']):.2f} s; NumPy / torch median "
              f"{statistics.median(step_ratios):.2f} (range {min(step_ratios):.2f} to {max(step_ratios):.2f})")
        print("  each convolution alone, forward + backward, NumPy / torch (median of interleaved rounds):")
        for record, torch_record in zip(records, torch_records):
            ratios = [seconds(lambda: numpy_layers([record]), 5) / seconds(lambda: torch_layers([torch_record]), 5)
                      for _ in range(args.rounds)]
            layer, x = record[0], record[1]
            (kh, kw), size = layer.kernel_size, f"{x.shape[2]}x{x.shape[3]}"
            print(f"    {layer.in_channels:2d} -> {layer.out_channels:2d}, {kh}x{kw}, stride {layer.stride[0]}, "
                  f"on {size}: {statistics.median(ratios):.2f}")
        parts = breakdown(records)
        total = parts["total fwd+bwd"]
        print("  where the NumPy convolutions' time goes (ms per batch, summed over the layers, timed apart):")
        for key, value in parts.items():
            print(f"    {key:18s} {value:6.2f} ms  {value / total:5.1%}")


if __name__ == "__main__":
    main()
