"""Chapter 15: what bfloat16 autocast does to the speed of a training step, and what DDP costs.

    python benchmarks/bench_scaling.py [--repeats 7] [--skip-ddp]

One thread (set before torch is imported, ``torch.set_num_threads(1)``).

1. A training step (forward, backward, AdamW) of chapter 10's GPT on batches of surnames, at the
   chapter's size (2 layers, d_model 64) and a wider one (4 layers, d_model 256), in float32 and under
   ``torch.autocast(device, dtype=torch.bfloat16)``, timed interleaved (a busy moment hits both alike),
   median of ``--repeats`` samples of 10 steps. On a CPU without bfloat16 instructions autocast is
   slower (every operand is converted); with AVX-512 BF16 / AMX, or on a GPU, it is faster.
2. ``train_ddp`` with 2 gloo processes against ``train_single``: seconds for the whole run, start-up
   included (most of it is two Python processes importing torch).

A measurement, not a test: it never fails. On a shared machine quote the ratios of one run.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from nncourse.data import load_names  # noqa: E402
from nncourse.models.gpt_training import name_batches  # noqa: E402
from nncourse.scaling import ddp, pick_device, to_device  # noqa: E402
from nncourse.models.torch import GPT  # noqa: E402

torch.set_num_threads(1)
SIZES = [(2, 64, 4), (4, 256, 8)]          # (layers, d_model, heads): the chapter's model first


def steps(model, opt, batches, device, autocast, n=10):
    start = time.perf_counter()
    for _ in range(n):
        tokens, targets = to_device(tuple(torch.from_numpy(a) for a in next(batches)), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            logits = model(tokens)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 27).float(), targets.reshape(-1),
                                                     ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-ddp", action="store_true")
    args = parser.parse_args()
    device = pick_device()
    names = load_names("last", seed=0)
    print(f"device: {device}")
    for layers, width, heads in SIZES:
        runs = {}
        for amp in (False, True):
            model = GPT(27, 16, width, heads, layers, seed=0).to(device)
            runs[amp] = (model, torch.optim.AdamW(model.parameters(), lr=3e-3), name_batches(names.train, 32, seed=1))
            steps(*runs[amp], device, amp, n=2)                        # warm-up
        times = {False: [], True: []}
        for _ in range(args.repeats):
            for amp in (False, True):
                times[amp].append(steps(*runs[amp], device, amp))
        f32, bf16 = statistics.median(times[False]), statistics.median(times[True])
        print(f"GPT {layers} layers, d_model {width}: float32 {1000 * f32 / 10:.1f} ms/step, "
              f"bfloat16 autocast {1000 * bf16 / 10:.1f} ms/step, speed-up {f32 / bf16:.2f}x")
    if not args.skip_ddp:
        config = ddp.DDPConfig(steps=6)
        start = time.perf_counter()
        state, info = ddp.train_ddp(config, 2, timeout=300)
        t_ddp = time.perf_counter() - start
        start = time.perf_counter()
        single, _ = ddp.train_single(config, 2)
        t_single = time.perf_counter() - start
        print(f"DDP, 2 gloo processes, 6 steps: {t_ddp:.1f} s (start-up included); one process: "
              f"{t_single:.2f} s; max difference {ddp.max_difference(state, single):.1e}")


if __name__ == "__main__":
    main()
