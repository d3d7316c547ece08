"""The NumPy GPT against its torch twin: parity, speed of one training step, and a training run.

Run with one thread (the figures in the report were measured this way, on a shared, loaded machine)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_gpt.py

1. Parity (float64): largest relative difference (‖a − b‖ / ‖b‖) of the logits and of every
   parameter's gradient, for a random batch (goal: <= 1e-10).
2. Speed (float32): one training step (forward, masked cross-entropy, backward, AdamW), 2 layers,
   d_model 64, 4 heads, context 32, batch 32; both back ends alternate, medians of ``--repeats``
   (goal: NumPy <= 1.5x torch). Then a profile of the NumPy step: where the time goes.
3. Training (float32): both back ends from the same seed on the same batches of names for
   ``--steps`` steps; their test losses in nats per character (goal: within 0.01).
"""

import argparse
import cProfile
import pstats
import time
from collections import defaultdict

import numpy as np
import torch

import nncourse.models.torch as torch_models
import nncourse.numpy_nn as nn
from nncourse import models
from nncourse.data import load_names
from nncourse.data.names import PAD_TARGET
from nncourse.models.gpt_training import evaluate_gpt, length_sorted_batches, name_batches, train_gpt


def cross_entropy_grad(logits, targets):
    """d loss / d logits of the mean cross-entropy over (B, T, V) logits (padding ignored)."""
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_TARGET)
    loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return loss_fn.backward().reshape(logits.shape)


def relative(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def parity():
    config = dict(vocab_size=27, context_length=16, d_model=32, n_heads=4, n_layers=2, seed=0)
    ours, theirs = models.GPT(**config, dtype=np.float64), torch_models.GPT(**config, dtype=torch.float64)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 27, size=(8, 16))
    targets = rng.integers(0, 27, size=(8, 16))
    logits = ours(idx)
    ours.backward(cross_entropy_grad(logits, targets))
    logits_t = theirs(torch.from_numpy(idx))
    torch.nn.functional.cross_entropy(logits_t.reshape(-1, 27), torch.from_numpy(targets).reshape(-1)).backward()
    grads_t = dict(theirs.named_parameters())
    worst = max((relative(p.grad, grads_t[name].grad.numpy()), name) for name, p in ours.named_parameters())
    print(f"1. parity (float64): logits {relative(logits, logits_t.detach().numpy()):.1e}, "
          f"worst gradient {worst[0]:.1e} ({worst[1]}), {len(grads_t)} parameters")


def speed(repeats):
    V, T, C, H, L, B = 27, 32, 64, 4, 2, 32
    ours, theirs = models.GPT(V, T, C, H, L, seed=0), torch_models.GPT(V, T, C, H, L, seed=0)
    opt, opt_t = nn.AdamW(ours.parameters(), lr=1e-3), torch.optim.AdamW(theirs.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))
    idx_t, targets_t = torch.from_numpy(idx), torch.from_numpy(targets)

    def numpy_step():
        grad = cross_entropy_grad(ours(idx), targets)
        opt.zero_grad()
        ours.backward(grad)
        opt.step()

    def torch_step():
        loss = torch.nn.functional.cross_entropy(theirs(idx_t).reshape(-1, V), targets_t.reshape(-1))
        opt_t.zero_grad()
        loss.backward()
        opt_t.step()

    times = defaultdict(list)
    for _ in range(3):
        numpy_step(), torch_step()                    # warm up
    for _ in range(repeats):
        for name, step in (("numpy", numpy_step), ("torch", torch_step)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f"2. one training step (float32, 1 thread, median of {repeats}): NumPy {med['numpy'] * 1e3:.1f} ms, "
          f"torch {med['torch'] * 1e3:.1f} ms, ratio {med['numpy'] / med['torch']:.2f}")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(20):
        numpy_step()
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())   # internal time of every function
    by_function = sorted(((entry[2], f"{key[0].split('/')[-1]}:{key[1]}({key[2]})") for key, entry in stats.items()),
                         reverse=True)
    print("   where the NumPy step spends its time (internal time, share of the total):")
    for seconds, where in by_function[:10]:
        print(f"     {seconds / total:5.1%}  {where}")


def training(steps, batch_size):
    names = load_names("last", seed=0)
    results = {}
    for name, build, in (("numpy", models.GPT), ("torch", torch_models.GPT)):
        model = build(27, 16, 64, 4, 2, seed=0)
        start = time.perf_counter()
        train_gpt(model, name_batches(names.train, batch_size, seed=1), steps, lr=3e-3, warmup=100)
        seconds = time.perf_counter() - start
        results[name] = evaluate_gpt(model, length_sorted_batches(names.test))
        print(f"3. {name:5s} float32, {steps} steps of {batch_size} names: test loss "
              f"{results[name]:.4f} nats/char ({seconds:.0f} s)")
    print(f"   difference {abs(results['numpy'] - results['torch']):.4f} nats/char")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    parity()
    speed(args.repeats)
    training(args.steps, args.batch_size)


if __name__ == "__main__":
    main()
