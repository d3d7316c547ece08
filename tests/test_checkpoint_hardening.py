"""Checkpoints never replace a good file with a worse one, and loading is all or nothing (issue 27, part 1)."""

import numpy as np
import pytest
import torch

import nncourse.torch_nn as tnn
from nncourse.errors import ConfigError, ConversionError, DataError, NonFiniteError
from nncourse.numpy_nn import Linear, Sequential
from nncourse.scaling import checkpoint as ck
from nncourse.scaling.resumable import train


def _model(sizes=(3, 5, 2), seed=0):
    return tnn.mlp(list(sizes), "tanh", seed=seed, dtype=torch.float64)


def _trained(model, optimizer, steps=2):
    for _ in range(steps):
        optimizer.zero_grad()
        model(torch.ones(4, 3, dtype=torch.float64)).pow(2).mean().backward()
        optimizer.step()


def _snapshot(model, optimizer=None, scheduler=None):
    import copy
    return (copy.deepcopy(model.state_dict()), None if optimizer is None else copy.deepcopy(optimizer.state_dict()),
            None if scheduler is None else copy.deepcopy(scheduler.state_dict()))


def _same(a, b):
    if torch.is_tensor(a):
        return torch.is_tensor(b) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.fixture
def good(tmp_path):
    model = _model()
    path = ck.save_checkpoint(tmp_path / "run.pt", model=model, step=3, extra={"best_loss": 0.5})
    return path, path.read_bytes()


def _only_the_checkpoint(path):
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]       # no temporary file left


def test_extra_that_cannot_be_loaded_back_is_refused_and_the_old_file_survives(good):
    path, before = good
    with pytest.raises(ConfigError, match=r"extra holds a value .*weights_only.*cannot read back.*float\(x\)"):
        ck.save_checkpoint(path, model=_model(seed=1), step=4, extra={"best_loss": np.float64(0.3)})
    assert path.read_bytes() == before
    _only_the_checkpoint(path)
    ck.save_checkpoint(path, model=_model(seed=1), step=4, extra={"best_loss": float(np.float64(0.3))})
    assert ck.load_checkpoint(path, model=_model())["extra"] == {"best_loss": 0.3}


def test_a_diverged_model_is_not_saved_over_a_good_checkpoint(good):
    path, before = good
    model = _model(seed=1)
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"NaN or infinite.*diverged.*previous checkpoint is kept.*smaller"):
        ck.save_checkpoint(path, model=model, step=4)
    assert path.read_bytes() == before
    _only_the_checkpoint(path)


def test_a_diverged_optimizer_state_is_not_saved(good):
    path, before = good
    model = _model(seed=1)
    optimizer = torch.optim.Adam(model.parameters())
    _trained(model, optimizer)
    optimizer.state[model[0].weight]["exp_avg_sq"][0, 0] = float("inf")
    with pytest.raises(NonFiniteError, match=r"optimizer's state.*NaN or infinite.*previous checkpoint is kept"):
        ck.save_checkpoint(path, model=model, optimizer=optimizer, step=4)
    assert path.read_bytes() == before


def test_numpy_models_are_refused_at_save_time_pointing_to_save_numpy_model(good):
    path, before = good
    with pytest.raises(ConversionError, match=r"NumPy model.*nncourse\.io\.save_numpy_model"):
        ck.save_checkpoint(path, model=Sequential(Linear(3, 2)), step=4)
    with pytest.raises(ConfigError, match=r"model must be a torch\.nn\.Module.*pass the model itself"):
        ck.save_checkpoint(path, model=list(_model().parameters()), step=4)
    assert path.read_bytes() == before


def test_folders_and_files_in_the_wrong_place_get_clear_errors(tmp_path, good):
    path, _ = good
    with pytest.raises(DataError, match=r"is a folder, not a file: give a file name inside it"):
        ck.save_checkpoint(tmp_path, model=_model())
    with pytest.raises(DataError, match=r"is a file, so it cannot hold c\.pt.*parent is a folder"):
        ck.save_checkpoint(path / "c.pt", model=_model())
    with pytest.raises(DataError, match=r"is a file, so it cannot hold"):
        ck.save_checkpoint(path / "deeper" / "c.pt", model=_model())
    with pytest.raises(DataError, match=r"is a folder, not a checkpoint file.*latest_checkpoint"):
        ck.load_checkpoint(tmp_path, model=_model())


def test_bad_arguments_to_save_and_load(good):
    path, before = good
    with pytest.raises(ConfigError, match=r"step must be a whole number >= 0"):
        ck.save_checkpoint(path, model=_model(), step=-1)
    with pytest.raises(ConfigError, match=r"optimizer must be a torch\.optim optimizer"):
        ck.save_checkpoint(path, model=_model(), optimizer=_model())
    with pytest.raises(ConfigError, match=r"restore_rng must be True or False.*without quotes"):
        ck.load_checkpoint(path, model=_model(), restore_rng="False")
    assert path.read_bytes() == before


def test_an_optimizer_of_another_class_is_refused_before_the_model_is_touched(tmp_path):
    saved = _model(seed=1)
    sgd = torch.optim.SGD(saved.parameters(), lr=0.1, momentum=0.9)
    _trained(saved, sgd)
    path = ck.save_checkpoint(tmp_path / "c.pt", model=saved, optimizer=sgd, step=2)

    model = _model()
    adam = torch.optim.Adam(model.parameters())
    _trained(model, adam)
    before = _snapshot(model, adam)
    with pytest.raises(ConfigError, match=r"state of a SGD optimizer, but optimizer is a Adam.*same optimizer class"):
        ck.load_checkpoint(path, model=model, optimizer=adam)
    assert _same(before, _snapshot(model, adam))

    adamw_path = ck.save_checkpoint(tmp_path / "w.pt", model=saved, optimizer=torch.optim.AdamW(saved.parameters()))
    with pytest.raises(ConfigError, match=r"AdamW optimizer, but optimizer is a Adam"):  # same settings' names
        ck.load_checkpoint(adamw_path, model=model, optimizer=adam)
    assert _same(before, _snapshot(model, adam))


def test_an_optimizer_state_over_other_parameters_is_refused_before_the_model_is_touched(tmp_path):
    saved = _model(seed=1)
    adam = torch.optim.Adam(saved.parameters())
    _trained(saved, adam)
    path = ck.save_checkpoint(tmp_path / "c.pt", model=saved, optimizer=adam, step=2)

    model = _model()
    partial = torch.optim.Adam(model[0].parameters())            # only the first layer
    before = _snapshot(model, partial)
    with pytest.raises(ConfigError, match=r"covers other parameters.*model's parameters"):
        ck.load_checkpoint(path, model=model, optimizer=partial)
    assert _same(before, _snapshot(model, partial))

    swapped = torch.optim.Adam(list(model.parameters())[::-1])   # same count, other tensors
    with pytest.raises(ConfigError, match=r"optimizer state 'exp_avg' has shape .*belongs to other parameters"):
        ck.load_checkpoint(path, model=model, optimizer=swapped)
    assert _same(before[0], _snapshot(model)[0])


def test_a_scheduler_of_another_kind_is_refused_before_the_model_is_touched(tmp_path):
    saved = _model(seed=1)
    adam = torch.optim.Adam(saved.parameters())
    step_lr = torch.optim.lr_scheduler.StepLR(adam, step_size=2)
    path = ck.save_checkpoint(tmp_path / "c.pt", model=saved, optimizer=adam, scheduler=step_lr, step=2)

    model = _model()
    optimizer = torch.optim.Adam(model.parameters())
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    before = _snapshot(model, optimizer, cosine)
    with pytest.raises(ConfigError, match=r"state of a StepLR scheduler, but scheduler is a CosineAnnealingLR.*same"):
        ck.load_checkpoint(path, model=model, optimizer=optimizer, scheduler=cosine)
    assert _same(before, _snapshot(model, optimizer, cosine))
    ck.load_checkpoint(path, model=model, optimizer=optimizer,                   # the right kind loads
                       scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=2))
    assert "nncourse_kind" not in optimizer.state_dict()


def test_a_model_whose_last_layer_differs_is_left_untouched(tmp_path):
    path = ck.save_checkpoint(tmp_path / "c.pt", model=_model((3, 5, 2), seed=1))
    model = _model((3, 5, 3))                                     # first layer fits, second does not
    before = _snapshot(model)
    with pytest.raises(ConfigError, match=r"tensors do not fit this model.*same sizes"):
        ck.load_checkpoint(path, model=model)
    assert _same(before, _snapshot(model))


def test_a_missing_gpu_in_map_location_is_a_device_error(good):
    path, _ = good
    missing = f"cuda:{torch.cuda.device_count() + 3}"
    with pytest.raises(ConfigError, match=r"map_location=.*names a GPU this machine does not have.*map_location='cpu'"):
        ck.load_checkpoint(path, model=_model(), map_location=missing)
    with pytest.raises(ConfigError, match=r"map_location='gpu' is not a device.*map_location='cpu'"):
        ck.load_checkpoint(path, model=_model(), map_location="gpu")


def test_a_resumable_run_asked_for_fewer_steps_than_its_checkpoint_says_so(tmp_path):
    train(tmp_path, 10, 5)
    with pytest.raises(ConfigError, match=r"at step 10, more than steps=5.*steps >= 10.*resume=False"):
        train(tmp_path, 5, 5)
    with pytest.raises(ConfigError, match=r"resume must be True or False"):
        train(tmp_path, 10, 5, resume="False")
    train(tmp_path, 10, 5)                                       # exactly the saved step: nothing to do


def test_a_hand_edited_checkpoint_without_its_contents_is_refused_before_the_model_is_touched(tmp_path):
    path = tmp_path / "edited.pt"
    torch.save({"format": ck.FORMAT, "step": 1, "model": _model(seed=2).state_dict(), "rng": {}}, path)
    model = _model()
    before = _snapshot(model)
    with pytest.raises(DataError, match=r"marker but not its contents.*earlier checkpoint"):
        ck.load_checkpoint(path, model=model)
    assert _same(before, _snapshot(model))


def test_checkpoints_written_before_the_class_names_were_stored_still_load(tmp_path):
    saved = _model(seed=1)
    adam = torch.optim.Adam(saved.parameters())
    _trained(saved, adam)
    sched = torch.optim.lr_scheduler.StepLR(adam, step_size=2)
    path = ck.save_checkpoint(tmp_path / "c.pt", model=saved, optimizer=adam, scheduler=sched, step=2)
    state = torch.load(path, weights_only=True)
    for name in ("optimizer", "scheduler"):
        del state[name]["nncourse_kind"]                   # the layout of an older checkpoint
    torch.save(state, path)
    model = _model()
    optimizer = torch.optim.Adam(model.parameters())
    assert ck.load_checkpoint(path, model=model, optimizer=optimizer,
                              scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=2))["step"] == 2
    assert _same(model.state_dict(), saved.state_dict())
    with pytest.raises(ConfigError, match="another kind of optimizer"):   # the settings still tell SGD apart
        ck.load_checkpoint(path, model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
