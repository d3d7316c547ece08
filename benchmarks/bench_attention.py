"""Chapter 9: how fast is the NumPy MultiheadAttention next to torch's, and how long does the task train?

    .venv/bin/python benchmarks/bench_attention.py [--repeats 21] [--skip-training]

One thread (the BLAS variables are set before NumPy is imported, ``torch.set_num_threads(1)``).

1. ``MultiheadAttention`` forward + backward, self-attention, float32, at the sizes the chapter uses
   (the reversal model: batch 50, length 8, embed 32, 2 heads) and two larger ones. NumPy: ``out, w =
   mha(x, x, x)`` then ``mha.backward(g)``; torch: the same layer (weights copied by ``from_numpy``),
   ``out, w = mha(x, x, x)`` then ``out.backward(g)`` through autograd, with ``x.requires_grad``.
   Both with ``need_weights=True, average_attn_weights=False`` (what the chapter's model asks for) and
   with ``need_weights=False`` (what a GPT asks for; torch then takes its fused attention kernel).
   Timed interleaved (a busy moment hits both alike), many calls per sample, median of ``--repeats``.
2. Training the chapter's ``AttentionTagger`` on the reversal task with the chapter's settings (5 epochs),
   in each back end, from the same initial weights: seconds, and the first epoch with 100 % held-out
   exact match.

Target: NumPy / torch <= 1.5 for forward + backward at the chapter's sizes. A measurement, not a
test: it never fails. On a shared machine quote the ratios of one run, not seconds across runs.
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

torch.set_num_threads(1)

# (batch, length, embed_dim, heads): the chapter's model first
SIZES = [(50, 8, 32, 2), (32, 32, 64, 4), (8, 128, 64, 4)]
# the chapter's training settings (chapters/09_attention.ipynb)
TASK = dict(n_train=4000, n_test=1000, length=8)
MODEL = dict(vocab_size=10, max_length=8, embed_dim=32, num_heads=2, num_layers=2)
TRAIN = dict(epochs=5, batch_size=50, lr=3e-3, seed=0)


def make_steps(N, L, E, H, need_weights):
    rng = np.random.default_rng(0)
    layer = numpy_nn.MultiheadAttention(E, H, batch_first=True, seed=0)
    twin = torch_nn.from_numpy(layer)
    x = rng.standard_normal((N, L, E), dtype=np.float32)
    g = rng.standard_normal((N, L, E), dtype=np.float32)
    xt, gt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)

    def numpy_step():
        layer(x, x, x, need_weights=need_weights, average_attn_weights=False)
        layer.backward(g)

    def torch_step():
        out, _ = twin(xt, xt, xt, need_weights=need_weights, average_attn_weights=False)
        out.backward(gt)
    return numpy_step, torch_step


def time_calls(step, calls):
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def bench_layer(repeats):
    print("MultiheadAttention forward + backward, self-attention, float32, 1 thread "
          f"(median of {repeats} interleaved samples; microseconds per call)")
    print(f"  {'batch x length x embed / heads':<32}{'need_weights':<14}{'numpy':>9}{'torch':>9}{'numpy/torch':>13}")
    for N, L, E, H in SIZES:
        for need_weights in (True, False):
            numpy_step, torch_step = make_steps(N, L, E, H, need_weights)
            calls = max(1, int(2e7 / (N * L * L * E + N * L * E * E)))   # roughly equal work per sample
            for step in (numpy_step, torch_step):
                time_calls(step, calls)                                     # warm up
            samples = {"numpy": [], "torch": []}
            for _ in range(repeats):
                samples["numpy"].append(time_calls(numpy_step, calls))
                samples["torch"].append(time_calls(torch_step, calls))
            med = {k: statistics.median(v) * 1e6 for k, v in samples.items()}
            label = f"{N} x {L} x {E} / {H}" + ("  (chapter)" if (N, L, E, H) == SIZES[0] else "")
            print(f"  {label:<32}{str(need_weights):<14}{med['numpy']:9.0f}{med['torch']:9.0f}"
                  f"{med['numpy'] / med['torch']:13.2f}")


def bench_training():
    from nncourse.data import reversal_task
    from nncourse.models import AttentionTagger, train_tagger

    task = reversal_task(**TASK, seed=0)
    print(f"\nTraining the chapter's AttentionTagger ({MODEL}) on reversal ({TASK}, {TRAIN}), 1 thread:")
    model = AttentionTagger(**MODEL, seed=0)
    twin = torch_nn.from_numpy(model)
    for name, m in (("numpy", model), ("torch", twin)):
        torch.manual_seed(0)
        log = train_tagger(m, task.X_train, task.y_train, **TRAIN, validation=(task.X_test, task.y_test))
        first = next((i + 1 for i, v in enumerate(log["test_exact_match"]) if v == 1.0), None)
        print(f"  {name}: {log.epochs} epochs in {log.seconds:.2f} s ({log.seconds / log.epochs:.2f} s/epoch); "
              f"100 % held-out exact match from epoch {first}; final held-out exact match "
              f"{log['test_exact_match'][-1]:.1%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)
    print(f"NumPy {np.__version__}, torch {torch.__version__}\n")
    bench_layer(args.repeats)
    if not args.skip_training:
        bench_training()


if __name__ == "__main__":
    main()
