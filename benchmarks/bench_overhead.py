"""What the argument checks cost: the same training steps with the package as it is and as it was at an
earlier git revision, interleaved in one process, one thread.

    .venv/bin/python benchmarks/bench_overhead.py [--before 125f777] [--rounds 21]

The earlier package is taken from git (``git archive``) into a temporary folder and imported under another
name (``nncourse_before``), so both versions run side by side on the same data and the same CPU state. Timed,
round after round (the order alternates): one epoch of ``fit`` on 4,000 MNIST rows for the NumPy MLP
784-256-128-10 (SGD with momentum, batches of 64) and its torch twin, the bare NumPy step loop of the same MLP,
one epoch of a small NumPy CNN on 1,000 images, and 8 steps of a small MLP in chapter 13's autograd engine.
Prints the median time of each and the ratio now / before, and the NumPy / torch ratio of ``fit`` before
and now. Issue 27 asks that its checks move the benchmarks' speed ratios by at most 2 %.

This is a measurement, not a test: it never fails. Needs ``$NNCOURSE_MNIST_SAMPLE`` (or random pixels).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"                  # before NumPy (and torch) are imported

import argparse  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
SIZES = [784, 256, 128, 10]


def import_revision(revision, folder):
    """``src/nncourse`` at ``revision``, imported as the package ``nncourse_before``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src/nncourse"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = Path(folder) / "nncourse_before"
    (Path(folder) / "src" / "nncourse").rename(package)
    for path in package.rglob("*.py"):        # absolute self-imports point at the renamed package
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\b(from|import) nncourse\b", r"\1 nncourse_before", text)
        path.write_text(text.replace('"nncourse.', '"nncourse_before.'), encoding="utf-8")
    sys.path.insert(0, str(folder))
    return importlib.import_module("nncourse_before")


def load_data():
    if os.environ.get("NNCOURSE_MNIST_SAMPLE"):
        from nncourse.data import load_mnist
        mnist = load_mnist(quiet=True)
        return mnist.X_train[:4000], mnist.y_train[:4000]
    rng = np.random.default_rng(0)
    return rng.random((4000, 784), dtype=np.float32), rng.integers(0, 10, 4000)


def variants(pkg, X, y):
    """name -> a function that runs one timed piece of work with package ``pkg``."""
    for module in ("numpy_nn", "torch_nn", "train", "autograd"):
        importlib.import_module(f"{pkg.__name__}.{module}")
    nn, tnn, fit, ag = pkg.numpy_nn, pkg.torch_nn, pkg.train.fit, pkg.autograd
    out = {}
    m = nn.mlp(SIZES, seed=0)
    opt, loss = nn.SGD(m.parameters(), lr=0.05, momentum=0.9), nn.CrossEntropyLoss()
    out["numpy fit (MLP)"] = lambda: fit(m, loss, opt, (X, y), epochs=1, batch_size=64, seed=0, quiet=True)

    m2 = nn.mlp(SIZES, seed=0)
    opt2, loss2 = nn.SGD(m2.parameters(), lr=0.05, momentum=0.9), nn.CrossEntropyLoss()
    order = np.random.default_rng(0).permutation(len(X))

    def loop():
        for i in range(0, len(X), 64):
            rows = order[i:i + 64]
            loss2(m2(X[rows]), y[rows])
            opt2.zero_grad()
            m2.backward(loss2.backward(), need_input_grad=False)
            opt2.step()
    out["numpy loop (MLP)"] = loop

    tm = tnn.mlp(SIZES, seed=0)
    topt, tloss = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9), torch.nn.CrossEntropyLoss()
    out["torch fit (MLP)"] = lambda: fit(tm, tloss, topt, (X, y), epochs=1, batch_size=64, seed=0, quiet=True)

    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * 14 * 14, 10))
    copt, closs = nn.SGD(cnn.parameters(), lr=0.01), nn.CrossEntropyLoss()
    images = X[:1000].reshape(-1, 1, 28, 28)
    out["numpy fit (CNN)"] = lambda: fit(cnn, closs, copt, (images, y[:1000]), epochs=1, batch_size=64, seed=0,
                                         quiet=True)

    rng = np.random.default_rng(0)
    W1 = ag.Tensor(rng.standard_normal((784, 64)) * 0.05, requires_grad=True)
    W2 = ag.Tensor(rng.standard_normal((64, 10)) * 0.05, requires_grad=True)
    Xa, ya = X[:512].astype(np.float64), y[:512]

    def autograd_steps():
        for i in range(0, 512, 64):
            logits = (ag.Tensor(Xa[i:i + 64]) @ W1).relu() @ W2
            total = ag.cross_entropy(logits, ya[i:i + 64])
            W1.grad = W2.grad = None
            total.backward()
            W1.data -= 0.01 * W1.grad
            W2.data -= 0.01 * W2.grad
    out["autograd (small MLP)"] = autograd_steps
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="125f777", help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    import nncourse
    X, y = load_data()
    with tempfile.TemporaryDirectory() as folder:
        before = import_revision(args.before, folder)
        runs = {"now": variants(nncourse, X, y), "before": variants(before, X, y)}
        times = {name: {"now": [], "before": []} for name in runs["now"]}
        for r in range(args.rounds):
            for name in times:
                for label in (("now", "before") if r % 2 == 0 else ("before", "now")):
                    start = time.perf_counter()
                    runs[label][name]()
                    times[name][label].append(time.perf_counter() - start)
    median = {name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()}
    print(f"one thread, {args.rounds} interleaved rounds, medians; before = {args.before}")
    for name, m in median.items():
        print(f"  {name:22s} before {m['before'] * 1e3:8.1f} ms   now {m['now'] * 1e3:8.1f} ms   "
              f"now / before {m['now'] / m['before']:.3f}")
    ratio = {k: median["numpy fit (MLP)"][k] / median["torch fit (MLP)"][k] for k in ("before", "now")}
    print(f"  NumPy / torch (fit): before {ratio['before']:.3f}, now {ratio['now']:.3f} "
          f"({100 * (ratio['now'] / ratio['before'] - 1):+.1f} %)")


if __name__ == "__main__":
    main()
