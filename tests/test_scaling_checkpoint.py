"""Checkpoints: a round trip restores model, optimizer, scheduler and every generator; saving is atomic;
a run killed with SIGKILL mid-way resumes to the same weights as a run never interrupted."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import nncourse.torch_nn as tnn
from nncourse.errors import ConfigError, DataError
from nncourse.scaling import checkpoint as ck
from nncourse.scaling.resumable import train

ROOT = Path(__file__).resolve().parents[1]


def _setup(seed=0):
    model = tnn.mlp([3, 5, 2], "tanh", seed=seed, dtype=torch.float64)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _steps(model, opt, sched, k):
    for _ in range(k):
        x = torch.randn(4, 3, dtype=torch.float64)
        noise = float(np.random.normal()) + random.random()
        opt.zero_grad()
        (model(x).pow(2).mean() * (1 + 0.01 * noise)).backward()
        opt.step()
        sched.step()


def test_round_trip_restores_everything_and_continues_identically(tmp_path):
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    model, opt, sched = _setup()
    _steps(model, opt, sched, 3)
    path = ck.save_checkpoint(tmp_path / ck.checkpoint_name(3), model=model, optimizer=opt, scheduler=sched,
                              step=3, extra={"note": "x"})
    _steps(model, opt, sched, 4)
    want = {k: v.clone() for k, v in model.state_dict().items()}

    model2, opt2, sched2 = _setup(seed=5)              # other weights: the checkpoint must overwrite them
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    info = ck.load_checkpoint(path, model=model2, optimizer=opt2, scheduler=sched2)
    assert info == {"step": 3, "extra": {"note": "x"}}
    assert sched2.last_epoch == 3 and opt2.param_groups[0]["lr"] == pytest.approx(0.005)
    _steps(model2, opt2, sched2, 4)
    for k in want:
        assert torch.equal(want[k], model2.state_dict()[k]), k


def test_rng_state_round_trip():
    state = ck.rng_state()
    a = (random.random(), np.random.normal(), torch.rand(1).item())
    ck.set_rng_state(state)
    assert (random.random(), np.random.normal(), torch.rand(1).item()) == a


def test_saving_is_atomic_a_crash_while_saving_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model, opt, _ = _setup()
    path = ck.save_checkpoint(tmp_path / "c.pt", model=model, step=1)
    before = path.read_bytes()

    def crash(src, dst):
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(ck.os, "replace", crash)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(path, model=model, step=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]          # no temporary file left behind


def test_ddp_wrapped_models_are_saved_unwrapped(tmp_path):
    model, _, _ = _setup()

    class Wrapper(torch.nn.Module):                   # what DistributedDataParallel looks like
        def __init__(self, module):
            super().__init__()
            self.module = module
    path = ck.save_checkpoint(tmp_path / "c.pt", model=Wrapper(model))
    assert set(torch.load(path, weights_only=True)["model"]) == set(model.state_dict())


def test_latest_checkpoint(tmp_path):
    assert ck.latest_checkpoint(tmp_path / "nothing") is None
    assert ck.latest_checkpoint(tmp_path) is None
    for step in (5, 40, 10):
        (tmp_path / ck.checkpoint_name(step)).write_bytes(b"")
    assert ck.latest_checkpoint(tmp_path).name == "step-00000040.pt"


def test_bad_checkpoints_get_clear_errors(tmp_path):
    model, opt, sched = _setup()
    with pytest.raises(DataError, match="no checkpoint at.*from scratch"):
        ck.load_checkpoint(tmp_path / "missing.pt", model=model)
    good = ck.save_checkpoint(tmp_path / "good.pt", model=model)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(DataError, match="not a readable checkpoint.*truncated.*earlier checkpoint"):
        ck.load_checkpoint(truncated, model=model)
    bare = tmp_path / "bare.pt"
    torch.save(model.state_dict(), bare)
    with pytest.raises(DataError, match="not written by save_checkpoint.*load_state_dict"):
        ck.load_checkpoint(bare, model=model)
    with pytest.raises(ConfigError, match="does not fit this model.*same architecture"):
        ck.load_checkpoint(good, model=tnn.mlp([3, 5, 5, 2], seed=0, dtype=torch.float64))
    with pytest.raises(ConfigError, match="tensors do not fit.*same sizes"):
        ck.load_checkpoint(good, model=tnn.mlp([3, 6, 2], "tanh", seed=0, dtype=torch.float64))
    with pytest.raises(ConfigError, match="no optimizer state.*save_checkpoint\\(\\.\\.\\., optimizer=optimizer\\)"):
        ck.load_checkpoint(good, model=model, optimizer=opt)


def test_a_run_killed_mid_way_resumes_to_identical_weights(tmp_path):
    """SIGKILL after step 23 (checkpoints every 5): the resumed run redoes steps 21-23 and ends where an
    uninterrupted run ends, bit for bit. Resuming without the generators' state does not."""
    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    try:
        proc = subprocess.run([sys.executable, "-m", "nncourse.scaling.resumable", "--dir", str(killed),
                               "--steps", "40", "--every", "5", "--crash-after", "23"],
                              env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the training subprocess did not end within 120 s")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert ck.latest_checkpoint(killed).name == ck.checkpoint_name(20)
    assert not (killed / "final-weights.pt").exists()

    uninterrupted = train(tmp_path / "clean", 40, 5)
    resumed = train(killed, 40, 5)                     # picks up step-00000020.pt
    for k in uninterrupted:
        assert torch.equal(uninterrupted[k], resumed[k]), k

    for name in (ck.checkpoint_name(s) for s in (25, 30, 35, 40)):
        (killed / name).unlink()
    drifted = train(killed, 40, 5, restore_rng=False)  # resume at 20, but with fresh generators
    assert max(float((uninterrupted[k] - drifted[k]).abs().max()) for k in uninterrupted) > 1e-6
