"""How well and how fast do the course's MNIST recipes train, with each back end?

    .venv/bin/python benchmarks/bench_mnist.py [--kind mlp softmax] [--backend numpy torch]
        [--seeds 0] [--full] [--epochs N]

For each recipe of ``nncourse.recipes`` (default: the MLP 784-256-128-10 and softmax regression) and
each back end, trains with ``nncourse.train.fit`` on ONE thread and prints the test accuracy, the
seconds per epoch (median over the epochs) and, at the end, the peak memory of the whole process
(``ru_maxrss``: resident set size, including the torch library itself when the torch back end runs;
``--backend numpy`` never imports torch). Both back ends start from the
same weights and see the same batches for the same seed.

Data: by default the offline sample (``NNCOURSE_MNIST_SAMPLE``: 8,000 train / 2,000 test); ``--full``
uses the full 60,000 / 10,000 split (downloaded into ``data/`` on first use; ``NNCOURSE_MNIST_SAMPLE``
is ignored). ``--epochs`` overrides the recipe's 10 epochs (at most 20; the cosine schedule stretches
to the new length). Several ``--seeds`` give a spread instead of one number.

Back ends run one after the other per seed (NumPy, torch, NumPy, torch, ...) so that a busy machine
slows both alike; compare the ratio printed by one run. A measurement, not a test: it never fails.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from nncourse.data import load_mnist  # noqa: E402
from nncourse.recipes import BACKENDS, MNIST_RECIPES  # noqa: E402
from nncourse.train import evaluate, fit  # noqa: E402


def peak_memory_mib():
    """Peak resident memory of this process so far, in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def train_once(recipe, backend, seed, mnist):
    model, loss_fn, optimizer, _, fit_kwargs = recipe.build(backend, seed=seed)
    started = time.perf_counter()
    history = fit(model, loss_fn, optimizer, (recipe.prepare(mnist.X_train), mnist.y_train), quiet=True,
                  **fit_kwargs)
    total = time.perf_counter() - started
    _, accuracy = evaluate(model, loss_fn, recipe.prepare(mnist.X_test), mnist.y_test)
    return {"accuracy": accuracy, "train_accuracy": history["accuracy"][-1],
            "epoch_s": statistics.median(history.epoch_seconds), "total_s": total}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", nargs="+", default=["mlp", "softmax"], choices=list(MNIST_RECIPES))
    parser.add_argument("--backend", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--full", action="store_true", help="full MNIST 60k/10k (downloads once)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (1..20)")
    args = parser.parse_args(argv)
    if args.epochs is not None and not 1 <= args.epochs <= 20:
        parser.error("--epochs must be between 1 and 20")

    mnist = load_mnist(sample=False if args.full else None, quiet=True)
    versions = f"NumPy {np.__version__}"
    if "torch" in args.backend:  # imported only when needed, so `--backend numpy` measures NumPy's memory
        import torch

        torch.set_num_threads(1)
        versions += f", torch {torch.__version__}"
    print(f"data: {mnist.source} MNIST, {len(mnist.X_train):,} train / {len(mnist.X_test):,} test; "
          f"{versions}, 1 thread; peak memory after loading: {peak_memory_mib():.0f} MiB")

    for kind in args.kind:
        recipe = MNIST_RECIPES[kind]
        if args.epochs is not None:
            recipe = dataclasses.replace(recipe, epochs=args.epochs)
        print(f"\n{recipe.describe()}")
        results = {backend: [] for backend in args.backend}
        for seed in args.seeds:
            for backend in args.backend:
                r = train_once(recipe, backend, seed, mnist)
                results[backend].append(r)
                print(f"  seed {seed:<3} {backend:<6} test accuracy {100 * r['accuracy']:6.2f} %   "
                      f"train {100 * r['train_accuracy']:6.2f} %   {r['epoch_s']:.3f} s/epoch   "
                      f"({r['total_s']:.1f} s in all)", flush=True)
        for backend, runs in results.items():
            accs = [100 * r["accuracy"] for r in runs]
            spread = f" (min {min(accs):.2f}, max {max(accs):.2f}, {len(accs)} seeds)" if len(accs) > 1 else ""
            print(f"  {backend:<6} mean test accuracy {statistics.mean(accs):6.2f} %{spread}; "
                  f"median {statistics.median(r['epoch_s'] for r in runs):.3f} s/epoch")
        if set(results) == set(BACKENDS):
            ratio = (statistics.median(r["epoch_s"] for r in results["numpy"])
                     / statistics.median(r["epoch_s"] for r in results["torch"]))
            print(f"  seconds per epoch, numpy / torch: {ratio:.2f}")
    print(f"\npeak memory of the process (ru_maxrss): {peak_memory_mib():.0f} MiB")


if __name__ == "__main__":
    main()
