"""Chapter 11's regularization explorer: training and validation curves over a grid of settings.

    .venv/bin/python benchmarks/bench_regularization.py          # trains the grid, writes the JSON file

The grid is ``nncourse.models.regularized.CURVE_GRID``: training-set size (500, 1,000, 2,000 digits of
the offline MNIST split, ``NNCOURSE_MNIST_SAMPLE``) x dropout (0, 0.3) x weight decay (0, 0.005) x
augmentation (none, two shifted copies of each digit), 24 runs of the chapter's 784-64-10 MLP
(``train_regularized``, NumPy float64, seed 0, 20 epochs), each scored on the 1,000 validation digits
after every epoch. It writes ``chapters/results/regularization_curves.json``, which the chapter's widget
draws; the chapter retrains the 500-digit run without regularization itself and checks it against the
file.

A measurement, not a test: float64 training agrees between machines to many digits but not to the last.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from nncourse.data import load_mnist, validation_split  # noqa: E402
from nncourse.models.regularized import regularization_curves  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "regularization_curves.json"


def main():
    data = load_mnist()
    split = validation_split(data.X_train, data.y_train, 1000, seed=0)
    split = type(split)(split.X_train.astype(np.float64), split.y_train, split.X_val.astype(np.float64), split.y_val)
    started = time.perf_counter()
    curves = regularization_curves(split)
    seconds = time.perf_counter() - started
    curves["settings"]["machine"] = f"{platform.machine()}, numpy {np.__version__}, one thread"
    curves["settings"]["seconds"] = round(seconds, 1)
    RESULTS.write_text(json.dumps(curves, indent=1) + "\n", encoding="utf-8")
    print(f"{len(curves['runs'])} runs in {seconds:.0f} s -> {RESULTS}")
    for run in curves["runs"]:
        print(f"  n={run['n_train']:5d} p={run['dropout']:.1f} wd={run['weight_decay']:.3f} aug={run['augment']}: "
              f"val acc {run['val_accuracy'][-1]:.3f}, lowest val loss {min(run['val_loss']):.3f}")


if __name__ == "__main__":
    main()
