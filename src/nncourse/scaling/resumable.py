"""A small training run that checkpoints as it goes, can be killed, and resumes where it stopped.

``train(folder, steps, every)`` trains a little MLP for ``steps`` steps and saves a checkpoint every
``every`` steps. Each step draws a batch with torch's global generator, dropout masks with torch's
generator again, and label noise with NumPy's global generator, so resuming gives the same weights
only if every piece of state (model, optimizer, scheduler, all generators) was saved and restored.

From a shell (the tests run it this way, and kill it)::

    python -m nncourse.scaling.resumable --dir runs/demo --steps 40 --every 5
    python -m nncourse.scaling.resumable --dir runs/demo --steps 40 --every 5 --crash-after 23   # SIGKILL at step 23
    python -m nncourse.scaling.resumable --dir runs/demo --steps 40 --every 5                   # resumes at step 20
"""

from __future__ import annotations

import argparse
import os
import random
import signal
from pathlib import Path

import numpy as np
import torch

from .. import torch_nn
from ..errors import ConfigError
from ..validation import boolean, non_negative_int, positive_int
from .checkpoint import checkpoint_name, latest_checkpoint, load_checkpoint, save_checkpoint

__all__ = ["build_run", "train"]

N_EXAMPLES, N_FEATURES, BATCH = 256, 8, 32


def build_run(seed: int = 0):
    """The data, model, optimizer and scheduler of the demo run (same numbers for the same seed)."""
    seed = non_negative_int(seed, "seed", "build_run")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N_EXAMPLES, N_FEATURES, generator=g, dtype=torch.float64)
    y = torch.sin(x @ torch.randn(N_FEATURES, 1, generator=g, dtype=torch.float64))
    model = torch_nn.mlp([N_FEATURES, 32, 32, 1], "tanh", dropout=0.1, seed=seed, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    return (x, y), model, optimizer, scheduler


def train(folder, steps: int = 40, every: int = 5, *, seed: int = 0, resume: bool = True,
          restore_rng: bool = True, crash_after: int | None = None) -> dict[str, torch.Tensor]:
    """Train for ``steps`` steps, checkpointing into ``folder`` every ``every`` steps; return the weights.

    ``resume=True`` continues from the newest checkpoint in ``folder`` if there is one.
    ``crash_after=k`` kills this very process with SIGKILL right after step k (for the tests and the
    chapter: the hardest crash, no clean-up runs). ``restore_rng=False`` shows what goes wrong when
    the generators are not restored.
    """
    steps = positive_int(steps, "steps", "train")
    every = positive_int(every, "every", "train")
    resume = boolean(resume, "resume", "train")
    restore_rng = boolean(restore_rng, "restore_rng", "train")
    if crash_after is not None:
        crash_after = positive_int(crash_after, "crash_after", "train")
    seed = non_negative_int(seed, "seed", "train")
    folder = Path(folder)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    (x, y), model, optimizer, scheduler = build_run(seed)
    start = 0
    last = latest_checkpoint(folder) if resume else None
    if last is not None:
        start = load_checkpoint(last, model=model, optimizer=optimizer, scheduler=scheduler,
                                restore_rng=restore_rng)["step"]    # this run's own model: nothing else changes
        if start > steps:
            raise ConfigError(f"train: the newest checkpoint in {folder} ({last.name}) is at step {start}, "
                              f"more than steps={steps}: the run is already past that point. Ask for "
                              f"steps >= {start}, load that checkpoint to use its weights, or pass "
                              f"resume=False (or another folder) to start from scratch.")
    model.train()
    for step in range(start, steps):
        idx = torch.randint(0, N_EXAMPLES, (BATCH,))                               # torch's generator
        noise = torch.from_numpy(np.random.normal(0.0, 0.01, size=(BATCH, 1)))     # NumPy's generator
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx] + noise)         # dropout: torch's again
        loss.backward()
        optimizer.step()
        scheduler.step()
        done = step + 1
        if done % every == 0 or done == steps:
            save_checkpoint(folder / checkpoint_name(done), model=model, optimizer=optimizer,
                            scheduler=scheduler, step=done)
        if crash_after is not None and done == crash_after:
            os.kill(os.getpid(), signal.SIGKILL)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="folder for the checkpoints")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crash-after", type=int, default=None, help="SIGKILL this process after that step")
    parser.add_argument("--fresh", action="store_true", help="ignore existing checkpoints")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    weights = train(args.dir, args.steps, args.every, seed=args.seed, resume=not args.fresh,
                    crash_after=args.crash_after)
    torch.save(weights, Path(args.dir) / "final-weights.pt")
    print(f"trained to step {args.steps}; weights in {Path(args.dir) / 'final-weights.pt'}")


if __name__ == "__main__":
    main()
