"""Chapter 16: the chapter 10/14 GPT against the Llama block on chapter 14's Shakespeare task, at equal compute.

Run with one thread (writes ``chapters/results/llama_vs_gpt.json``, which chapter 16 reads)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_llama_vs_gpt.py [--steps 400]

The rules: the same byte-level BPE tokenizer (512 tokens, trained on the training plays), the same batches
(windows of 64 tokens, 16 per step, the same stream for every run of a seed), the same number of steps, so
the same tokens seen; parameter counts within 2 %; AdamW with chapter 14's warm-up + cosine schedule
(``train_gpt``), whose learning rate is picked for each model from three on the validation plays (seed 0);
then three seeds at the chosen rate, scored in bits per byte on the test plays. Both models are the torch
twins (the NumPy models compute the same numbers, more slowly).
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

from nncourse.data.shakespeare import load_shakespeare  # noqa: E402
from nncourse.models.gpt_training import evaluate_gpt, train_gpt  # noqa: E402
from nncourse.models.torch import GPT, Llama  # noqa: E402
from nncourse.tokenizers import BPETokenizer, bits_per_byte, consecutive_windows, random_windows  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "llama_vs_gpt.json"
VOCAB, BLOCK, BATCH, D_MODEL, HEADS, LAYERS, WARMUP = 512, 64, 16, 64, 4, 2, 50
KV_HEADS, D_FF = 2, 208          # SwiGLU width chosen so that the two models have the same parameter count
LRS = (1e-3, 3e-3, 1e-2)
CHECK_STEPS = 20                 # the chapter reruns this many steps of seed 0 and compares the losses


def build(name, seed):
    if name == "GPT":
        return GPT(VOCAB, BLOCK, D_MODEL, HEADS, LAYERS, seed=seed)
    return Llama(VOCAB, BLOCK, D_MODEL, HEADS, KV_HEADS, LAYERS, D_FF, seed=seed)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def score(model, batches, tok):
    """Bits per byte of ``model`` over ``batches`` of ``tok``'s ids."""
    loss = evaluate_gpt(model, batches["batches"])
    return bits_per_byte(loss, batches["n_tokens"], batches["n_bytes"])


def windows(tok, text, limit=None):
    ids = tok.encode(text)[:limit]
    batches, n_tokens = consecutive_windows(ids, BLOCK, batch_size=256)
    n_bytes = sum(len(tok.decode_bytes(targets.ravel())) for _, targets in batches)
    return {"batches": batches, "n_tokens": n_tokens, "n_bytes": n_bytes}


def run(name, lr, seed, steps, stream):
    torch.manual_seed(seed)
    model = build(name, seed)
    start = time.perf_counter()
    losses = train_gpt(model, random_windows(stream, BATCH, BLOCK, seed=100 + seed), steps, lr=lr, warmup=WARMUP)
    return model, losses, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--val-tokens", type=int, default=60_000, help="validation tokens used to pick the LR")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plays = load_shakespeare(seed=0)
    t0 = time.perf_counter()
    tok = BPETokenizer.train(plays.train, vocab_size=VOCAB)
    stream = np.array(tok.encode(plays.train), dtype=np.int64)
    val, test = windows(tok, plays.val, args.val_tokens), windows(tok, plays.test)
    print(f"tokenizer and data: {time.perf_counter() - t0:.0f} s; {len(stream):,} training tokens, "
          f"{val['n_tokens']:,} validation tokens, {test['n_tokens']:,} test tokens")
    counts = {name: n_params(build(name, 0)) for name in ("GPT", "Llama")}
    gap = abs(counts["Llama"] / counts["GPT"] - 1)
    print(f"parameters: GPT {counts['GPT']:,}, Llama {counts['Llama']:,} ({100 * gap:.2f} % apart)")
    assert gap <= 0.02
    tokens_seen = args.steps * BATCH * BLOCK
    results = {"settings": dict(vocab_size=VOCAB, block=BLOCK, batch=BATCH, d_model=D_MODEL, n_heads=HEADS,
                                n_layers=LAYERS, llama_n_kv_heads=KV_HEADS, llama_d_ff=D_FF, gpt_d_ff=4 * D_MODEL,
                                steps=args.steps, warmup=WARMUP, tokens_seen=tokens_seen, lrs=list(LRS),
                                seeds=args.seeds, val_tokens=val["n_tokens"], test_tokens=test["n_tokens"],
                                test_bytes=test["n_bytes"], optimizer="AdamW(betas=(0.9, 0.99), weight_decay=0.01)",
                                schedule="linear warm-up, cosine to lr/10 (train_gpt)"),
               "params": counts, "machine": platform.machine(), "torch": torch.__version__, "models": {}}
    for name in ("GPT", "Llama"):
        val_bpb = {}
        first = {}
        for lr in LRS:
            model, losses, seconds = run(name, lr, args.seeds[0], args.steps, stream)
            val_bpb[lr] = score(model, val, tok)
            first[lr] = (model, losses)
            print(f"{name:5s} lr {lr:g}: validation {val_bpb[lr]:.4f} bits per byte ({seconds:.0f} s)")
        best = min(val_bpb, key=val_bpb.get)
        test_bpb = {args.seeds[0]: score(first[best][0], test, tok)}
        for seed in args.seeds[1:]:
            model, _, seconds = run(name, best, seed, args.steps, stream)
            test_bpb[seed] = score(model, test, tok)
        values = np.array(list(test_bpb.values()))
        print(f"{name:5s} lr {best:g}: test {values.mean():.4f} ± {values.std(ddof=1):.4f} bits per byte "
              f"({', '.join(f'{v:.4f}' for v in values)})")
        results["models"][name] = {"val_bpb": {str(lr): round(v, 5) for lr, v in val_bpb.items()}, "lr": best,
                                   "test_bpb": {str(s): round(v, 5) for s, v in test_bpb.items()},
                                   "mean": round(float(values.mean()), 5), "sd": round(float(values.std(ddof=1)), 5),
                                   "check_losses": [round(v, 5) for v in first[best][1][:CHECK_STEPS]]}
    g, m = results["models"]["GPT"], results["models"]["Llama"]
    diff = g["mean"] - m["mean"]
    spread = np.hypot(g["sd"], m["sd"])
    results["difference"] = {"gpt_minus_llama": round(diff, 5), "combined_sd": round(float(spread), 5)}
    print(f"GPT - Llama: {diff:+.4f} bits per byte; combined sd {spread:.4f}")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
