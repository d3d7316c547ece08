"""How long does the playground take to answer a click? (retrain + redraw, single thread)

    .venv/bin/python benchmarks/bench_playground.py [--repeats 21] [--backend numpy torch]
        [--static]

For each back end, a live ``Playground`` with the default settings is built, then the learning-rate
widget is moved back and forth ``--repeats`` times, exactly as a click in Jupyter would (the widget's
observer retrains and redraws). Printed: the median and the spread of the whole click, and of its two
halves (training, drawing the PNG). The goal is a median under 150 ms for the NumPy back end.
``--static`` also times building the precomputed page widget (5 learning rates x 5 layer counts).

Timings on shared 2-core machines swing; the median of many clicks and one BLAS thread keep them
comparable. This is a measurement, not a test: it never fails.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")        # before NumPy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from nncourse.widgets import Playground, PlaygroundSettings, static_playground  # noqa: E402


def clicks(backend: str, repeats: int):
    """Time ``repeats`` learning-rate changes on a live playground; returns lists of seconds."""
    pg = Playground(PlaygroundSettings(backend=backend))
    slider = pg.widgets["learning_rate"]
    values = [0.03, 0.1]
    pg.widgets["learning_rate"].value = values[1]        # warm up (imports, first background)
    total, train, draw = [], [], []
    for i in range(repeats):
        start = time.perf_counter()
        slider.value = values[i % 2]                      # -> observer -> retrain -> redraw
        total.append(time.perf_counter() - start)
        train.append(pg.timings["train"])
        draw.append(pg.timings["draw"])
    assert pg.retrain_count == repeats + 2, "each click must retrain exactly once"
    return total, train, draw


def bare_numpy_steps(steps: int = 500, repeats: int = 5) -> float:
    """Median seconds of ``steps`` full-batch SGD steps of a hand-written [2, 8, 8, 2] tanh MLP.

    A yardstick for this machine *right now*: on a shared, busy machine every timing grows, so the
    ratio click / yardstick says more than the click alone.
    """
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    times = []
    for _ in range(repeats):
        W = [rng.uniform(-.5, .5, (a, b)).astype(np.float32) for a, b in ((2, 8), (8, 8), (8, 2))]
        start = time.perf_counter()
        for _ in range(steps):
            h1 = np.tanh(X @ W[0])
            h2 = np.tanh(h1 @ W[1])
            z = h2 @ W[2]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(y)), y] -= 1
            g = p / len(y)
            g2 = (g @ W[2].T) * (1 - h2 ** 2)
            g1 = (g2 @ W[1].T) * (1 - h1 ** 2)
            W[2] -= 0.1 * h2.T @ g
            W[1] -= 0.1 * h1.T @ g2
            W[0] -= 0.1 * X.T @ g1
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def describe(name, seconds):
    ms = sorted(1000 * s for s in seconds)
    return (f"{name:<22} median {statistics.median(ms):6.1f} ms   "
            f"min {ms[0]:6.1f}   max {ms[-1]:6.1f}   (n={len(ms)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--backend", nargs="+", default=["numpy", "torch"],
                        choices=["numpy", "torch"])
    parser.add_argument("--static", action="store_true", help="also time the static page widget")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        args.backend = [b for b in args.backend if b != "torch"]

    s = PlaygroundSettings()
    steps = s.epochs * -(-round(s.samples * (1 - s.test_fraction)) // s.batch_size)
    print(f"settings: {s!r}")
    print(f"({steps} optimizer steps per retrain, 60x60 boundary grid; one BLAS thread)\n")
    yardstick = bare_numpy_steps()
    print(f"yardstick: 500 hand-written NumPy steps of a [2, 8, 8, 2] MLP: {1000 * yardstick:.1f} ms"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    for backend in args.backend:
        total, train, draw = clicks(backend, args.repeats)
        print(f"[{backend}]")
        print(describe("click (retrain+redraw)", total))
        print(describe("  train", train))
        print(describe("  draw (PNG)", draw))
        verdict = "OK" if statistics.median(total) < 0.150 else "SLOW"
        print(f"  click / yardstick: {statistics.median(total) / yardstick:.1f}x;"
              f" goal < 150 ms: {verdict}\n")
    if args.static:
        start = time.perf_counter()
        static_playground()
        print(f"static_playground() (25 trainings + 25 PNGs): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
