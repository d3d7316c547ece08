"""Data parallelism with the real engine: ``torch.distributed`` and ``DistributedDataParallel``.

Two (or more) processes on this machine, talking over TCP on 127.0.0.1 with the **gloo** back end
(the CPU one; NCCL is the GPU one). Each process holds a copy of the model, reads its own part of
the data through a ``DistributedSampler``, and after every ``backward`` DDP all-reduces the gradients
(the mean, as ``data_parallel.all_reduce_mean``), so the copies take identical steps. Rank 0 alone
writes the checkpoint.

``train_ddp(...)`` starts the processes with ``torch.multiprocessing.spawn`` on a free port, waits
for them with a deadline, and turns a failing or hanging worker into a ``WorkerError`` after killing
every worker: the run never hangs and leaves no process behind. ``train_single(...)`` is the same
training in one process on the full batch, to compare with.

The same code is a ``torchrun`` script::

    torchrun --standalone --nproc-per-node 2 -m nncourse.scaling.ddp --steps 5 --out ddp.pt
    python -m nncourse.scaling.ddp --world-size 2 --steps 5 --out ddp.pt      # spawns the processes itself
"""

from __future__ import annotations

import argparse
import datetime
import math
import numbers
import os
import socket
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessException, ProcessRaisedException
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from .. import torch_nn
from ..errors import ConfigError
from ..validation import non_negative_int, positive_float, positive_int, probability
from .checkpoint import load_checkpoint, save_checkpoint

__all__ = ["DDPConfig", "WorkerError", "free_port", "make_dataset", "train_ddp", "train_ddp_many", "train_single",
           "max_difference"]

HOST = "127.0.0.1"


class WorkerError(RuntimeError):
    """A distributed run failed: a worker raised, died, or the run passed its deadline.

    ``.pids`` lists the worker processes, all stopped by the time the error is raised.
    """

    def __init__(self, message: str, pids=()):
        super().__init__(message)
        self.pids = list(pids)


@dataclass(frozen=True)
class DDPConfig:
    """What to train. Every process builds the same data and model from these numbers.

    ``batch_size`` is per process, so one step sees ``world_size * batch_size`` examples.
    ``fail_rank`` / ``fail_at_step`` make that worker raise at that step (``fail_mode="raise"``), hang
    (``"hang"``) or die without a word (``"exit"``): how the tests show that a failure ends the run.
    """

    steps: int = 5
    batch_size: int = 8
    n_examples: int = 64
    sizes: tuple[int, ...] = (6, 16, 1)
    lr: float = 0.1
    momentum: float = 0.9
    dtype: str = "float64"
    seed: int = 0
    fail_rank: int | None = None
    fail_at_step: int = 0
    fail_mode: str = "raise"

    def __post_init__(self):
        """Refuse a field that no run could use as soon as the config is built (``check`` adds world_size's)."""
        self._check_fields()

    def _check_fields(self) -> None:
        who = "DDPConfig"
        for name in ("steps", "batch_size", "n_examples"):
            positive_int(getattr(self, name), name, who)
        non_negative_int(self.seed, "seed", who)
        positive_float(self.lr, "lr", who)
        probability(self.momentum, "momentum", who)
        if isinstance(self.sizes, (str, bytes)) or not isinstance(self.sizes, (tuple, list)) or len(self.sizes) < 2 \
                or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in self.sizes):
            raise ConfigError(f"DDPConfig: sizes must be the layer widths, at least an input and an output size "
                              f"(whole numbers >= 1), such as (6, 16, 1), got {self.sizes!r}.")
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(f"DDPConfig: dtype must be 'float32' or 'float64', got {self.dtype!r}.")
        if self.fail_rank is not None:
            non_negative_int(self.fail_rank, "fail_rank", who)
        non_negative_int(self.fail_at_step, "fail_at_step", who)
        if self.fail_mode not in ("raise", "hang", "exit"):
            raise ConfigError(f"DDPConfig: fail_mode must be 'raise', 'hang' or 'exit', got {self.fail_mode!r}.")

    def check(self, world_size: int) -> None:
        """Refuse a setting that cannot train, before any process is started."""
        if isinstance(world_size, bool) or not isinstance(world_size, numbers.Integral) or world_size < 1:
            raise ConfigError(f"world_size must be an integer >= 1 (the number of processes), got {world_size!r}.")
        cores = os.cpu_count() or 1
        limit = max(4, 2 * cores)
        if world_size > limit:
            raise ConfigError(f"world_size={world_size} processes on a machine with {cores} CPU core(s): each "
                              f"process is a full copy of Python, torch and the model, and so many would only "
                              f"fight for the cores (or run out of memory). Use world_size <= {limit} here; more "
                              f"workers need more machines.")
        self._check_fields()          # again: dataclasses.replace or object.__setattr__ may have changed them
        per_step = world_size * self.batch_size
        if self.n_examples % per_step:
            raise ConfigError(f"n_examples={self.n_examples} is not a multiple of world_size x batch_size = "
                              f"{per_step}: DistributedSampler would pad the last batch with repeated examples "
                              f"and the comparison with one process would not hold. Choose a multiple.")


def _check_config(config, world_size, who):
    """``config`` must be a ``DDPConfig`` (a dict is refused with the fix) that can train on ``world_size``."""
    if isinstance(config, dict):
        raise ConfigError(f"{who}: config must be a DDPConfig, got a dict; build one from it: "
                          f"DDPConfig(**config) (its fields: {', '.join(DDPConfig.__dataclass_fields__)}).")
    if not isinstance(config, DDPConfig):
        raise ConfigError(f"{who}: config must be a DDPConfig, such as DDPConfig(steps=5), got "
                          f"{type(config).__name__}.")
    config.check(world_size)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def make_dataset(config: DDPConfig) -> TensorDataset:
    """A small regression set, the same in every process (seeded)."""
    if not isinstance(config, DDPConfig):
        raise ConfigError(f"make_dataset: config must be a DDPConfig, such as DDPConfig(steps=5), got "
                          f"{type(config).__name__}" + ("; build one from the dict: DDPConfig(**config)."
                                                        if isinstance(config, dict) else "."))
    dtype = getattr(torch, config.dtype)
    g = torch.Generator().manual_seed(config.seed)
    x = torch.randn(config.n_examples, config.sizes[0], generator=g, dtype=torch.float64)
    w = torch.randn(config.sizes[0], config.sizes[-1], generator=g, dtype=torch.float64)
    return TensorDataset(x.to(dtype), torch.tanh(x @ w).to(dtype))


def _model_and_optimizer(config: DDPConfig):
    model = torch_nn.mlp(list(config.sizes), "tanh", seed=config.seed, dtype=getattr(torch, config.dtype))
    return model, torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


def _steps(model, optimizer, loader, sampler, config, fail_hook=None):
    """The training loop shared by one process and many: ``config.steps`` optimizer steps."""
    losses, step, epoch = [], 0, 0
    while step < config.steps:
        sampler.set_epoch(epoch)                  # a new shuffle each epoch, the same in every process
        for x, y in loader:
            if fail_hook is not None:
                fail_hook(step)
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()                       # DDP: the gradients are all-reduced (averaged) here
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
            if step == config.steps:
                break
        epoch += 1
    return losses


def _fail_hook(rank: int, config: DDPConfig):
    def hook(step):
        if rank == config.fail_rank and step == config.fail_at_step:
            if config.fail_mode == "raise":
                raise RuntimeError(f"worker {rank} failed on purpose at step {step} (fail_rank={rank})")
            if config.fail_mode == "exit":
                os._exit(3)
            time.sleep(3600)                      # "hang": the others wait in the all-reduce
    return hook


def _run_worker(rank: int, world_size: int, configs, outs, collective_timeout: float) -> None:
    """The body of one process: join the group, train each config, rank 0 saves, always leave the group."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=collective_timeout))
    try:
        for config, out in zip(configs, outs):
            _train_one(rank, world_size, config, out)
        dist.barrier()                               # nobody leaves before the checkpoints are written
    finally:
        dist.destroy_process_group()


def _train_one(rank: int, world_size: int, config: DDPConfig, out: str | None) -> None:
    dataset = make_dataset(config)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=config.seed, drop_last=False)
    loader = DataLoader(dataset, batch_size=config.batch_size, sampler=sampler)
    model, _ = _model_and_optimizer(config)
    ddp_model = DistributedDataParallel(model)       # broadcasts rank 0's weights, then syncs gradients
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=config.lr, momentum=config.momentum)
    losses = _steps(ddp_model, optimizer, loader, sampler, config, _fail_hook(rank, config))
    if rank == 0 and out is not None:                # one writer: the others would race on the file
        save_checkpoint(out, model=ddp_model, optimizer=optimizer, step=config.steps,
                        extra={"losses": losses, "world_size": world_size, "config": asdict(config)})


def _spawned(rank, world_size, port, configs, outs, collective_timeout):
    os.environ.update(MASTER_ADDR=HOST, MASTER_PORT=str(port))
    _run_worker(rank, world_size, configs, outs, collective_timeout)


def _kill_all(processes) -> None:
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 5
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(5)


def train_ddp(config: DDPConfig = DDPConfig(), world_size: int = 2, *, out=None, timeout: float = 60.0,
              collective_timeout: float = 30.0):
    """Train ``config`` with DDP on ``world_size`` local processes; return ``(state_dict, info)``.

    ``info`` holds ``"losses"`` (rank 0's per-step losses), ``"pids"`` (the worker processes, all gone
    when this returns) and ``"seconds"``. ``out`` is where rank 0 writes its checkpoint (a temporary
    file when ``None``). Raises ``WorkerError`` if a worker fails, if a collective (the all-reduce)
    waits over ``collective_timeout`` s, or if the whole run lasts over ``timeout`` s.
    """
    (state, info), = train_ddp_many([config], world_size, outs=None if out is None else [out],
                                    timeout=timeout, collective_timeout=collective_timeout)
    return state, info


def train_ddp_many(configs, world_size: int = 2, *, outs=None, timeout: float = 60.0,
                   collective_timeout: float = 30.0):
    """``train_ddp`` for several configs, one after the other in the same processes (one start-up)."""
    if isinstance(configs, (DDPConfig, dict)):
        raise ConfigError("train_ddp_many: configs must be a list of DDPConfig, got a single "
                          f"{type(configs).__name__}; wrap it in a list, or call train_ddp for one config.")
    configs = list(configs)
    if not configs:
        raise ConfigError("train_ddp_many needs at least one DDPConfig.")
    for config in configs:
        _check_config(config, world_size, "train_ddp")
    for name, value in (("timeout", timeout), ("collective_timeout", collective_timeout)):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}.")
    with tempfile.TemporaryDirectory(prefix="nncourse-ddp-") as tmp:
        targets = [Path(o) for o in outs] if outs is not None else \
            [Path(tmp) / f"ddp-{i}.pt" for i in range(len(configs))]
        if len(targets) != len(configs):
            raise ConfigError(f"{len(targets)} output files for {len(configs)} configs: one each.")
        port = free_port()
        start = time.monotonic()
        context = mp.spawn(_spawned, args=(world_size, port, configs, [str(t) for t in targets],
                                           collective_timeout),
                           nprocs=world_size, join=False)
        pids = list(context.pids())
        try:
            while True:
                try:
                    if context.join(timeout=0.2):
                        break
                except ProcessException as exc:        # a worker raised or died; spawn ended the rest
                    raise WorkerError(_describe_failure(exc), pids) from None
                if time.monotonic() - start > timeout:
                    raise WorkerError(f"the distributed run passed its deadline of {timeout:g} s (a worker "
                                      f"hangs, or waits for one that never joined the all-reduce); every "
                                      f"worker was stopped. Look for a worker stuck before a collective, "
                                      f"or raise timeout= if the run is just slow.", pids)
        finally:
            _kill_all(context.processes)
        seconds = time.monotonic() - start
        results = []
        for config, target in zip(configs, targets):
            model, _ = _model_and_optimizer(config)
            info = load_checkpoint(target, model=model, restore_rng=False)
            results.append((model.state_dict(), {"losses": info["extra"]["losses"], "pids": pids,
                                                 "seconds": seconds}))
    return results


def _describe_failure(exc) -> str:
    if isinstance(exc, ProcessRaisedException):
        last = [line for line in str(exc).strip().splitlines() if line.strip()][-1].strip()
        if "Timed out" in last or "timed out" in last:
            return (f"worker {exc.error_index} of the distributed run timed out in a collective ({last}): "
                    f"another worker never joined the all-reduce (it hangs, or it skipped a step). Every "
                    f"worker was stopped. Make every rank run the same steps, or raise collective_timeout= "
                    f"if a step is just slow.")
        return (f"worker {exc.error_index} of the distributed run raised {last}. Every worker was stopped. "
                f"Fix what the worker reports (its full traceback is printed above) and run again.")
    return (f"worker {exc.error_index} of the distributed run died ({str(exc).strip()}). Every worker was "
            f"stopped. A worker killed by the system (out of memory?) or calling os._exit ends like this.")


def train_single(config: DDPConfig = DDPConfig(), world_size: int = 2):
    """The same training in this process, each step on the full ``world_size * batch_size`` batch.

    The batches are the ones the DDP workers see together: ``DistributedSampler`` deals the shuffled
    indices out round-robin, so the union of the workers' k-th batches is the k-th slice of
    ``world_size * batch_size`` indices of the same shuffle. Returns ``(state_dict, losses)``.
    """
    _check_config(config, world_size, "train_single")
    dataset = make_dataset(config)
    sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=config.seed)
    loader = DataLoader(dataset, batch_size=world_size * config.batch_size, sampler=sampler)
    model, optimizer = _model_and_optimizer(config)
    losses = _steps(model, optimizer, loader, sampler, config)
    return model.state_dict(), losses


def max_difference(a: dict, b: dict) -> float:
    """The largest absolute difference between two state_dicts with the same keys."""
    for name, state in (("a", a), ("b", b)):
        if not isinstance(state, dict) or not state:
            raise ConfigError(f"max_difference: {name} must be a non-empty state_dict (model.state_dict()), got "
                              f"{type(state).__name__} {state!r:.40}")
    if set(a) != set(b):
        raise ConfigError(f"max_difference: a and b are state_dicts with different keys "
                          f"{sorted(set(a) ^ set(b))[:5]}: compare two copies of the same model.")
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train a small model with DistributedDataParallel (gloo).")
    parser.add_argument("--world-size", type=int, default=2, help="processes to spawn (ignored under torchrun)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--out", default="ddp-checkpoint.pt", help="rank 0 writes the checkpoint here")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    config = DDPConfig(steps=args.steps, dtype=args.dtype)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:      # started by torchrun: env:// rendezvous
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        config.check(world_size)
        try:
            _run_worker(rank, world_size, [config], [args.out], args.timeout)
        except Exception:
            traceback.print_exc()
            raise SystemExit(1)
        if rank == 0:
            print(f"rank 0 of {world_size}: trained {args.steps} steps, checkpoint {args.out}")
        return
    state, info = train_ddp(config, args.world_size, out=args.out, timeout=args.timeout)
    single, _ = train_single(config, args.world_size)
    print(f"{args.world_size} processes, {args.steps} steps: checkpoint {args.out}; largest difference from "
          f"one process on the full batch {max_difference(state, single):.1e}")


if __name__ == "__main__":
    main()
