"""DistributedDataParallel with 2 gloo processes on 127.0.0.1: the same weights as one process on the
full batch; a worker that raises or hangs ends the run quickly with a clear error and no process left.

Every run is bounded: ``timeout`` (the whole run) and ``collective_timeout`` (one all-reduce)."""

import time

import psutil
import pytest
import torch

from nncourse.errors import ConfigError
from nncourse.scaling import ddp

STEPS = 6     # 64 examples, 2 x 8 per step: step 5 starts the second epoch (a new shuffle)


def _gone(pids):
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def _children():
    """This process's children, except multiprocessing's resource tracker (it lives as long as we do)."""
    found = []
    for c in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(c.cmdline()):
                found.append(c.pid)
        except psutil.NoSuchProcess:
            pass
    return found


def test_ddp_two_processes_equal_one_process_on_the_full_batch(tmp_path):
    configs = [ddp.DDPConfig(steps=STEPS, dtype="float64"), ddp.DDPConfig(steps=STEPS, dtype="float32")]
    outs = [tmp_path / "f64.pt", tmp_path / "f32.pt"]
    results = ddp.train_ddp_many(configs, 2, outs=outs, timeout=120, collective_timeout=60)
    (state64, info), (state32, _) = results
    assert all(p.is_file() for p in outs)                   # rank 0 wrote both checkpoints
    assert _gone(info["pids"])
    single64, losses64 = ddp.train_single(configs[0], 2)
    single32, _ = ddp.train_single(configs[1], 2)
    assert state64["0.weight"].dtype == torch.float64 and state32["0.weight"].dtype == torch.float32
    assert ddp.max_difference(state64, single64) <= 1e-10
    assert ddp.max_difference(state32, single32) <= 1e-5     # float32: summation order differs (~1e-7 seen)
    # the weights moved (the comparison is not between two untouched models)
    start = ddp._model_and_optimizer(configs[0])[0].state_dict()
    assert ddp.max_difference(state64, start) > 1e-3
    # rank 0's loss is the mean over its own shard only: not the full batch's loss, but close to it
    assert len(info["losses"]) == STEPS and info["losses"] != losses64


def test_a_worker_that_raises_fails_the_run_fast_and_leaves_no_process():
    config = ddp.DDPConfig(steps=STEPS, fail_rank=1, fail_at_step=2, fail_mode="raise")
    start = time.monotonic()
    try:
        with pytest.raises(ddp.WorkerError, match="worker 1 .* raised RuntimeError: worker 1 failed on purpose"
                                                  ".*Every worker was stopped") as caught:
            ddp.train_ddp(config, 2, timeout=90, collective_timeout=60)
    finally:
        leftover = _children()
    assert time.monotonic() - start < 60                 # well before the collective timeout
    assert len(caught.value.pids) == 2 and _gone(caught.value.pids), caught.value.pids
    assert _gone(leftover), leftover


def test_a_worker_that_hangs_is_stopped_by_the_collective_timeout():
    config = ddp.DDPConfig(steps=STEPS, fail_rank=1, fail_at_step=1, fail_mode="hang")
    try:
        with pytest.raises(ddp.WorkerError, match="timed out in a collective.*never joined the all-reduce") \
                as caught:
            ddp.train_ddp(config, 2, timeout=90, collective_timeout=3)
    finally:
        leftover = _children()
    assert len(caught.value.pids) == 2 and _gone(caught.value.pids), caught.value.pids
    assert _gone(leftover), leftover


def test_the_deadline_stops_every_worker():
    start = time.monotonic()
    try:
        with pytest.raises(ddp.WorkerError, match="deadline of 0.5 s.*every worker was stopped") as caught:
            ddp.train_ddp(ddp.DDPConfig(steps=STEPS), 2, timeout=0.5)   # shorter than the start-up itself
    finally:
        leftover = _children()
    assert len(caught.value.pids) == 2 and _gone(caught.value.pids), caught.value.pids
    assert _gone(leftover), leftover
    assert time.monotonic() - start < 30


def test_free_port_is_on_localhost_and_bad_configs_are_refused():
    port = ddp.free_port()
    assert 0 < port < 65536 and ddp.HOST == "127.0.0.1"
    with pytest.raises(ConfigError, match="not a multiple of world_size x batch_size.*pad"):
        ddp.DDPConfig(n_examples=60).check(2)
    with pytest.raises(ConfigError, match="'float32' or 'float64'"):
        ddp.DDPConfig(dtype="bfloat16").check(2)
    with pytest.raises(ConfigError, match="positive number of seconds"):
        ddp.train_ddp(ddp.DDPConfig(), 2, timeout=0)
    with pytest.raises(ConfigError, match="world_size must be an integer >= 1"):
        ddp.train_single(ddp.DDPConfig(), 0)
