"""Recurrent name models: NumPy against PyTorch, in speed (one thread) and in test loss.

    .venv/bin/python benchmarks/bench_rnn.py [--repeats 5] [--names 20000] [--batch-size 64]
        [--hidden 64] [--profile] [--quality]

Speed: one training epoch (Adam, gradient clipping at 1.0, float32, batches of names of similar
length) of ``RecurrentLM("rnn")`` and ``RecurrentLM("lstm")`` (embedding 16, hidden 64) and of
their PyTorch twins (same weights, same batches), on ONE thread (BLAS variables set before NumPy is
imported, ``torch.set_num_threads(1)``). The four variants are timed interleaved, round after round,
so a busy moment on the shared machine hits all alike; medians over ``--repeats`` rounds. Target:
numpy / torch <= 2.

``--profile`` adds where the NumPy LSTM epoch spends its time (cProfile, by own time).

``--quality`` trains every model of chapter 8 on both back ends with the chapter's settings and
prints the test loss (nats per character) side by side. Target: each model better than the one
before, and |numpy - torch| <= 0.01 on every row.

A measurement, not a test: it never fails.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from nncourse.models import charlm  # noqa: E402
from nncourse.data import load_names  # noqa: E402

torch.set_num_threads(1)


def one_epoch(model, names, batch_size, seed):
    start = time.perf_counter()
    charlm.train_lm(model, names, epochs=1, batch_size=batch_size, lr=1e-2, clip=1.0, seed=seed)
    return time.perf_counter() - start


def speed(args, names):
    variants = {}
    for cell in ("rnn", "lstm"):
        model = charlm.RecurrentLM(cell, 16, args.hidden, seed=0)
        variants[f"numpy {cell}"] = model
        variants[f"torch {cell}"] = charlm.torch_twin(model)
    times = {name: [] for name in variants}
    for r in range(args.repeats):
        for name, model in variants.items():
            times[name].append(one_epoch(model, names, args.batch_size, seed=r))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"one epoch over {len(names):,} names, batch {args.batch_size}, hidden {args.hidden}, "
          f"median of {args.repeats} interleaved rounds, one thread")
    for name, t in med.items():
        print(f"  {name:<11} {t:7.3f} s   (min {min(times[name]):.3f}, max {max(times[name]):.3f})")
    for cell in ("rnn", "lstm"):
        print(f"  numpy/torch {cell}: {med[f'numpy {cell}'] / med[f'torch {cell}']:.2f}")
    if args.profile:
        model = variants["numpy lstm"]
        profiler = cProfile.Profile()
        profiler.enable()
        one_epoch(model, names, args.batch_size, seed=0)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def quality(args):
    """The chapter's table: every model, both back ends, the chapter's settings."""
    splits = load_names("last", seed=0)
    train, test = list(splits.train[:args.names]), list(splits.test)
    rows = [("counting bigram", charlm.BigramCounts().fit(train), None, {})]
    settings = [
        ("bigram network", lambda: charlm.BigramNet(seed=0), dict(epochs=3, batch_size=1024, lr=0.03)),
        ("window MLP", lambda: charlm.WindowMLP(3, 10, 64, seed=0), dict(epochs=2, batch_size=256, lr=1e-2)),
        ("RNN", lambda: charlm.RecurrentLM("rnn", 16, 64, seed=0), dict(epochs=2, batch_size=64, lr=1e-2, clip=1.0)),
        ("LSTM", lambda: charlm.RecurrentLM("lstm", 16, 64, seed=0), dict(epochs=2, batch_size=64, lr=1e-2, clip=1.0)),
    ]
    for name, make, kw in settings:
        model = make()
        twin = charlm.torch_twin(model)
        charlm.train_lm(model, train, seed=0, **kw)
        charlm.train_lm(twin, train, seed=0, **kw)
        rows.append((name, model, twin, kw))
    print(f"test loss, nats/char ({len(train):,} training names, {len(test):,} test names)")
    print(f"  {'model':<16} {'params':>7} {'numpy':>7} {'torch':>7} {'|diff|':>7}")
    for name, model, twin, _ in rows:
        a = charlm.evaluate_lm(model, test)
        b = charlm.evaluate_lm(twin, test) if twin is not None else float("nan")
        print(f"  {name:<16} {charlm.count_parameters(model):>7,} {a:7.3f} {b:7.3f} {abs(a - b):7.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--names", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quality", action="store_true")
    args = parser.parse_args()
    names = list(load_names("last", seed=0).train[:args.names])
    speed(args, names)
    if args.quality:
        quality(args)


if __name__ == "__main__":
    main()
