"""Chapter 12's results table: depth x {no BN, BN} x {plain, residual}, and the best ResNet against chapter 7's CNN.

    .venv/bin/python benchmarks/bench_deep.py grid [--seeds 0 1 2] [--blocks 1 3] [--epochs 3]
    .venv/bin/python benchmarks/bench_deep.py best [--seeds 0 1 2] [--epochs 8]
    .venv/bin/python benchmarks/bench_deep.py all            # both, then writes the JSON file

``grid``: ``nncourse.models.ResNet`` with ``blocks=(n, n, n)``, widths (8, 16, 32) (depth 6n + 2), with
and without BatchNorm, with and without the shortcuts (``residual=False``: a plain network of the same
depth), trained on the offline MNIST split (``NNCOURSE_MNIST_SAMPLE``) shrunk to 14 x 14 (2 x 2 average
pooling) and its first 4,000 training images; test accuracy on the 2,000 test images (at 14 x 14).

``best``: the same ResNet with ``blocks=(1, 1, 1)`` on the full 28 x 28 images and all 8,000 training
images, test accuracy on the 2,000 test images, per seed: to compare with chapter 7's CNN
(``benchmarks/README.md``: 99.25 / 99.15 / 99.15 % with seeds 0 / 1 / 2).

Both train the torch twin (``nncourse.models.torch.ResNet``, the same initial weights as the NumPy
model of the same seed) with ``nncourse.train.fit``, float32, one thread: SGD momentum 0.9, lr 0.05,
cosine schedule, batch 64, He initialisation. ``all`` writes ``chapters/results/deep_networks.json``,
which chapter 12 reads (it reruns one cell of the grid itself and checks it against the file).

A measurement, not a test. Float32 torch training differs in the last digits between machines, so the
chapter quotes these figures as measured here.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nncourse.data import load_mnist  # noqa: E402
from nncourse.models.torch import ResNet  # noqa: E402
from nncourse.train import evaluate, fit  # noqa: E402

torch.set_num_threads(1)
RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "deep_networks.json"
SETTINGS = {"optimizer": "SGD(lr=0.05, momentum=0.9)", "schedule": "cosine", "batch_size": 64,
            "widths": [8, 16, 32], "init": "he", "dtype": "float32", "backend": "torch"}


def images(X, size):
    """Rows of 784 pixels -> standardised (N, 1, size, size) images (2 x 2 average pooling for 14)."""
    X = X.reshape(-1, 1, 28, 28)
    if size == 14:
        X = X.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))
    return ((X - 0.1307) / 0.3081).astype(np.float32)


def train_one(blocks, residual, batch_norm, seed, epochs, data):
    X_train, y_train, X_test, y_test = data
    model = ResNet(blocks=blocks, widths=SETTINGS["widths"], residual=residual, batch_norm=batch_norm, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    started = time.perf_counter()
    try:
        history = fit(model, torch.nn.CrossEntropyLoss(), optimizer, (X_train, y_train), epochs=epochs,
                      batch_size=64, scheduler=scheduler, seed=seed, quiet=True)
        losses = [round(v, 4) for v in history["loss"]]
        _, accuracy = evaluate(model, torch.nn.CrossEntropyLoss(), X_test, y_test)
    except RuntimeError as error:             # DivergenceError: the run blew up
        losses, accuracy = [str(error)[:60]], None
    return {"blocks": blocks[0], "depth": 2 + 2 * sum(blocks), "residual": residual, "batch_norm": batch_norm,
            "seed": seed, "epochs": epochs, "train_loss": losses,
            "test_accuracy": None if accuracy is None else round(accuracy, 4),
            "seconds": round(time.perf_counter() - started, 1)}


def grid(args, mnist):
    n_train = 4000
    data = (images(mnist.X_train[:n_train], 14), mnist.y_train[:n_train], images(mnist.X_test, 14), mnist.y_test)
    rows = []
    for n in args.blocks:
        for batch_norm in (False, True):
            for residual in (False, True):
                for seed in args.seeds:
                    row = train_one((n, n, n), residual, batch_norm, seed, args.epochs, data)
                    rows.append(row)
                    print(f"  depth {row['depth']:2d} BN={batch_norm!s:5} residual={residual!s:5} seed {seed}: "
                          f"test {row['test_accuracy']}  loss {row['train_loss']}  ({row['seconds']} s)", flush=True)
    return {"images": "14x14", "train_images": n_train, "test_images": len(mnist.X_test), "rows": rows}


def best(args, mnist):
    data = (images(mnist.X_train, 28), mnist.y_train, images(mnist.X_test, 28), mnist.y_test)
    rows = []
    for seed in args.seeds:
        row = train_one((1, 1, 1), True, True, seed, args.best_epochs, data)
        rows.append(row)
        print(f"  best ResNet seed {seed}: test {row['test_accuracy']}  ({row['seconds']} s)", flush=True)
    return {"images": "28x28", "train_images": len(mnist.X_train), "test_images": len(mnist.X_test),
            "rows": rows, "cnn_chapter7": {"seeds": [0, 1, 2], "test_accuracy": [0.9925, 0.9915, 0.9915],
                                            "source": "benchmarks/README.md, bench_cnn.py accuracy (NumPy)"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["grid", "best", "all"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--blocks", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--best-epochs", type=int, default=8)
    args = parser.parse_args()
    mnist = load_mnist(quiet=True)
    out = {"settings": SETTINGS, "machine": platform.processor() or platform.machine(),
           "torch": torch.__version__}
    if args.what in ("grid", "all"):
        out["grid"] = grid(args, mnist)
    if args.what in ("best", "all"):
        out["best"] = best(args, mnist)
    if args.what == "all":
        RESULTS.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    else:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
