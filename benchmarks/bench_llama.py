"""Chapter 16's speed figures: the NumPy Llama's training step against its torch twin, and the KV cache.

Run with one thread (writes ``chapters/results/llama_speed.json``, which chapter 16 plots)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_llama.py [--repeats 7]

1. Training step (float32): forward, cross-entropy, backward, AdamW, on the chapter's Shakespeare model
   (vocab 512, d_model 64, 4 heads / 2 KV heads, 2 layers, d_ff 208), batch 16 x 64 tokens; the two back
   ends alternate, medians of ``--repeats`` (goal: NumPy <= 1.5x torch).
2. Generation (NumPy, float32, batch 1): 256 new tokens after a 16-token prompt, greedy, with and without
   the KV cache (the model's context_length is 272 = 16 + 256, so that every token fits); best of the
   rounds (on a shared machine the least disturbed run is the best estimate); goal >= 10x.
3. Time per new token as the context grows (NumPy): a full forward of L tokens (no cache) against one
   cached step with L - 1 tokens stored, for L = 16 ... 256; best of ``--repeats``.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nncourse.numpy_nn as nn  # noqa: E402
from nncourse.models import Llama  # noqa: E402
from nncourse.models.torch import Llama as TorchLlama  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "llama_speed.json"
CONFIG = dict(vocab_size=512, d_model=64, n_heads=4, n_kv_heads=2, n_layers=2, d_ff=208)
PROMPT, NEW = 16, 256
LENGTHS = (16, 32, 64, 128, 256)


def training_step(repeats, batch=16, block=64):
    ours, theirs = Llama(context_length=block, **CONFIG, seed=0), TorchLlama(context_length=block, **CONFIG, seed=0)
    opt, opt_t = nn.AdamW(ours.parameters(), lr=1e-3), torch.optim.AdamW(theirs.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    V = CONFIG["vocab_size"]
    idx, targets = rng.integers(0, V, size=(batch, block)), rng.integers(0, V, size=(batch, block))
    idx_t, targets_t = torch.from_numpy(idx), torch.from_numpy(targets)
    loss_fn = nn.CrossEntropyLoss()

    def numpy_step():
        loss_fn(ours(idx).reshape(-1, V), targets.reshape(-1))
        opt.zero_grad()
        ours.backward(loss_fn.backward().reshape(batch, block, V))
        opt.step()

    def torch_step():
        loss = torch.nn.functional.cross_entropy(theirs(idx_t).reshape(-1, V), targets_t.reshape(-1))
        opt_t.zero_grad()
        loss.backward()
        opt_t.step()

    times = {"numpy": [], "torch": []}
    for step in (numpy_step, torch_step):
        step()                                              # warm-up
    for _ in range(repeats):
        for name, step in (("numpy", numpy_step), ("torch", torch_step)):
            start = time.perf_counter()
            for _ in range(5):
                step()
            times[name].append((time.perf_counter() - start) / 5)
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f"1. training step, batch {batch} x {block}: NumPy {1e3 * med['numpy']:.1f} ms, torch "
          f"{1e3 * med['torch']:.1f} ms, ratio {med['numpy'] / med['torch']:.2f} (goal <= 1.5)")
    return {"numpy_ms": round(1e3 * med["numpy"], 2), "torch_ms": round(1e3 * med["torch"], 2),
            "ratio": round(med["numpy"] / med["torch"], 3), "batch": batch, "block": block}


def generation(repeats):
    model = Llama(context_length=PROMPT + NEW, **CONFIG, seed=0)
    prompt = np.random.default_rng(1).integers(0, CONFIG["vocab_size"], size=(1, PROMPT))
    times = {True: [], False: []}
    outputs = {}
    for _ in range(max(3, repeats // 2)):
        for use_cache in (True, False):
            start = time.perf_counter()
            outputs[use_cache] = model.generate(prompt, NEW, top_k=1, use_cache=use_cache)
            times[use_cache].append(time.perf_counter() - start)
    assert np.array_equal(outputs[True], outputs[False])
    cached, full = float(np.min(times[True])), float(np.min(times[False]))        # best of the rounds
    print(f"2. generating {NEW} tokens after {PROMPT}: with the cache {cached:.2f} s ({NEW / cached:.0f} tokens/s), "
          f"without {full:.2f} s ({NEW / full:.0f} tokens/s): {full / cached:.1f}x faster (goal >= 10x); "
          f"the same tokens")
    return {"with_cache_s": round(cached, 4), "without_cache_s": round(full, 4), "speedup": round(full / cached, 2),
            "prompt": PROMPT, "new_tokens": NEW, "context_length": PROMPT + NEW}


def per_token(repeats):
    model = Llama(context_length=max(LENGTHS), **CONFIG, seed=0)
    model.eval()
    rng = np.random.default_rng(2)
    rows = []
    for L in LENGTHS:
        idx = rng.integers(0, CONFIG["vocab_size"], size=(1, L))
        full, cached = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            model(idx)
            full.append(time.perf_counter() - start)
            cache = model.new_cache(1)
            model(idx[:, :-1], cache=cache)
            start = time.perf_counter()
            model(idx[:, -1:], cache=cache)
            cached.append(time.perf_counter() - start)
        row = {"context": L, "without_cache_ms": round(1e3 * float(np.min(full)), 3),        # best of the repeats:
               "with_cache_ms": round(1e3 * float(np.min(cached)), 3)}              # the least disturbed
        rows.append(row)
        print(f"3. context {L:4d}: next token without the cache {row['without_cache_ms']:.2f} ms, with "
              f"{row['with_cache_ms']:.2f} ms")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {"model": CONFIG, "machine": platform.machine(), "processor": platform.processor(),
               "numpy": np.__version__, "torch": torch.__version__, "threads": 1,
               "training_step": training_step(args.repeats), "generation": generation(args.repeats),
               "per_token": per_token(args.repeats)}
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
