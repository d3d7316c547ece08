"""Chapter 17: decoding speed and memory of SmolLM2-135M, NumPy (chapter 16's Llama) against transformers,
one thread, against the ceiling that memory bandwidth sets.

    python benchmarks/bench_smollm2.py            # all engines, each in a fresh process; writes the JSON

Each engine runs in its own process (so that its peak resident memory is its own): it loads the model,
generates 32 tokens greedily after a chat prompt (minimum 32: the stop token is ignored here) and
reports tokens per second (generation only, prefill included) and peak RSS. ``numpy-nocache`` reruns
the whole sequence at every step. The bandwidth is the best of five ``np.copyto`` of 256 MiB (bytes read
+ bytes written per second). Decoding reads every weight once per token, so tokens/s <= bandwidth /
bytes of weights. Writes chapters/results/17_speed.json.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "chapters" / "results" / "17_speed.json"
NEW = 32
PROMPT = [{"role": "user", "content": "Write a short poem about the sea."}]


def bandwidth():
    src = np.ones(32 * 2**20, np.float64)                 # 256 MiB
    dst = np.empty_like(src)
    best = min(_time(lambda: np.copyto(dst, src)) for _ in range(5))
    return 2 * src.nbytes / best


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def engine(name):
    from nncourse.pretrained import load_smollm2, smollm2_path, smollm2_tokenizer

    start = time.perf_counter()
    if name.startswith("numpy"):
        model, tok = load_smollm2()
        ids = np.array([tok.encode_chat(PROMPT)])
        load = time.perf_counter() - start
        new = NEW if name == "numpy" else NEW // 2
        seconds = _time(lambda: model.generate(ids, new, top_k=1, use_cache=name == "numpy"))
        weight_bytes = sum(p.data.nbytes for _, p in model.named_parameters())
    else:
        import torch
        import transformers

        torch.set_num_threads(1)

        path = smollm2_path()
        model = transformers.AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                                   dtype=torch.float32).eval()
        tok = smollm2_tokenizer()
        ids = torch.tensor([tok.encode_chat(PROMPT)])
        load = time.perf_counter() - start
        new = NEW
        with torch.no_grad():
            seconds = _time(lambda: model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False))
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": name, "tokens_per_s": new / seconds, "load_s": load, "peak_rss_gib": peak / 2**30,
            "weight_bytes": weight_bytes}


def _cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            return next(line.split(":", 1)[1].strip() for line in file if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["numpy", "numpy-nocache", "transformers"])
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(engine(args.engine)))
        return
    rows = []
    for name in ("numpy", "numpy-nocache", "transformers"):
        out = subprocess.run([sys.executable, __file__, "--engine", name], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    bw = bandwidth()
    for row in rows:
        row["ceiling_tokens_per_s"] = bw / row["weight_bytes"]
    from nncourse.pretrained import smollm2_path

    q4_bytes = smollm2_path().stat().st_size
    result = {"rows": rows, "bandwidth_gb_s": bw / 1e9, "q4_1_file_bytes": q4_bytes,
              "q4_1_ceiling_tokens_per_s": bw / q4_bytes, "new_tokens": NEW,
              "machine": f"{_cpu_name()}, {os.cpu_count()} cores, one thread used",
              "load_average_at_start": os.getloadavg()[0]}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
