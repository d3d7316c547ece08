"""Valid calls of the Part III public API (chapters 11-15) for the contract sweep."""

import numpy as np

from contract import Call, recipe

F32 = np.float32


def arr(*shape, dtype=F32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ autograd (chapter 13)

A = "nncourse.autograd"


def ag():
    import nncourse.autograd as module
    return module


def T(*shape, seed=0):
    return ag().Tensor(arr(*shape, dtype=np.float64, seed=seed), requires_grad=True)


@recipe(A + ".Tensor")
def _():
    return Call(arr(2, 3, dtype=np.float64), requires_grad=True, kinds={"data": "array"})


@recipe(A + ".tensor")
def _():
    return Call(arr(2, 3, dtype=np.float64), requires_grad=True, kinds={"data": "array"})


@recipe(A + ".Tensor.backward")
def _():
    y = (T(2, 3) * 2.0).sum()
    return Call(y, gradient=None, retain_graph=True, kinds={"gradient": "skip: optional, a scalar's is 1"})


@recipe(A + ".Tensor.from_op")
def _():
    a = T(2, 3)
    return Call(ag().Tensor, np.ones((2, 3)), (a,), lambda out: None, op="id",
                kinds={"data": "array", "parents": "object", "backward": "object", "op": "text"})


@recipe(A + ".Tensor.gather")
def _():
    return Call(T(2, 3), 1, np.array([[0], [2]]), kinds={"dim": "count", "index": "array"})


@recipe(A + ".Tensor.gelu")
def _():
    return Call(T(2, 3), approximate="tanh", kinds={"approximate": "text"})


for _m in ("log_softmax", "softmax"):
    recipe(f"{A}.Tensor.{_m}")(lambda: Call(T(2, 3), dim=-1))


@recipe(A + ".Tensor.masked_fill")
def _():
    return Call(T(2, 3), np.eye(2, 3, dtype=bool), -1e9, kinds={"value": "rate"})


for _m in ("mean", "sum"):
    recipe(f"{A}.Tensor.{_m}")(lambda: Call(T(2, 3), axis=1, keepdims=True))


@recipe(A + ".Tensor.requires_grad_")
def _():
    return Call(ag().Tensor(np.ones(3)), True, kinds={"flag": "bool"})


@recipe(A + ".Tensor.transpose")
def _():
    return Call(T(2, 3), 0, 1)


@recipe(A + ".Value")
def _():
    return Call(2.5, label="a", kinds={"data": "rate", "label": "text"})


@recipe(A + ".cat")
def _():
    return Call([T(2, 3), T(1, 3, seed=1)], dim=0, kinds={"tensors": "object"}, extra={"tensors": [[], None]})


@recipe(A + ".cross_entropy")
def _():
    return Call(T(4, 3), np.array([0, 1, 2, 1]), ignore_index=-100, reduction="mean",
                kinds={"logits": "object", "reduction": "text"})


@recipe(A + ".embedding")
def _():
    return Call(np.array([0, 2, 1]), T(3, 4), kinds={"indices": "array", "weight": "object"})


@recipe(A + ".gelu")
def _():
    return Call(T(2, 3), approximate="none", kinds={"x": "object", "approximate": "text"},
                extra={"x": [arr(2, 3)]})


@recipe(A + ".linear")
def _():
    return Call(T(2, 3), T(4, 3, seed=1), bias=T(4, seed=2), kinds={"x": "object", "weight": "object",
                                                                  "bias": "object"},
                extra={"x": [arr(2, 3)], "weight": [arr(4, 3)]})


for _m in ("log_softmax", "softmax"):
    recipe(f"{A}.{_m}")(lambda: Call(T(2, 3), dim=-1, kinds={"x": "object"}, extra={"x": [arr(2, 3)]}))


@recipe(A + ".masked_fill")
def _():
    return Call(T(2, 3), np.eye(2, 3, dtype=bool), -1e9, kinds={"x": "object", "value": "rate"})


@recipe(A + ".topological_order")
def _():
    v = ag().Value(2.0) * ag().Value(3.0)
    return Call(v, kinds={"root": "object"}, extra={"root": [None, 2.0]})


@recipe(A + ".unbroadcast")
def _():
    return Call(np.ones((2, 3)), (1, 3), kinds={"grad": "array", "shape": "array"})


@recipe(A + ".nn.Linear")
def _():
    # a NumPy weight is legal (from_numpy passes one; Linear wraps it in a Tensor), so only None is hostile
    return Call(T(4, 3), bias=T(4, seed=1), kinds={"weight": "object", "bias": "object"},
                extra={"weight": [None]})


@recipe(A + ".nn.SGD")
def _():
    return Call([T(3)], 0.1, momentum=0.9, kinds={"params": "object"}, extra={"params": [[], None]})


@recipe(A + ".nn.from_numpy")
def _():
    import nncourse.numpy_nn as nn
    return Call(nn.mlp([2, 3, 1], "tanh", seed=0), kinds={"model": "object"}, extra={"model": [None, "mlp"]})


# ------------------------------------------------------------------ data: augmentation, splits, Shakespeare

D = "nncourse.data"


def images(n=4):
    return np.random.default_rng(0).random((n, 28, 28)).astype(F32)


@recipe(D + ".augment.random_rotation")
def _():
    return Call(images(), max_degrees=10.0, seed=0, rng=None, kinds={"rng": "seed", "max_degrees": "rate"})


@recipe(D + ".augment.random_shift")
def _():
    return Call(images(), max_shift=2, seed=0, rng=None, kinds={"rng": "seed"})


@recipe(D + ".augment.rotate_images")
def _():
    return Call(images(), 10.0, kinds={"degrees": "rate"})


@recipe(D + ".augment.shift_images")
def _():
    return Call(images(), 1, -1, kinds={"dy": "count", "dx": "count"})


@recipe(D + ".augment_batch")
def _():
    return Call(images().reshape(4, -1), max_shift=2, max_degrees=5.0, image_shape=(28, 28), rng=None, seed=0,
                kinds={"rng": "seed", "max_degrees": "rate", "image_shape": "array"})


@recipe(D + ".augmented_copies")
def _():
    return Call(images().reshape(4, -1), np.arange(4), copies=1, max_shift=2, max_degrees=0.0,
                image_shape=(28, 28), seed=0, kinds={"copies": "count", "max_degrees": "rate",
                                                     "image_shape": "array"})


@recipe(D + ".augmented_epochs")
def _():
    return Call(images().reshape(4, -1), np.arange(4), 2, max_shift=2, max_degrees=0.0, image_shape=(28, 28),
                seed=0, kinds={"max_degrees": "rate", "image_shape": "array"})


@recipe(D + ".torchvision_augmentation")
def _():
    return Call(max_shift=2, max_degrees=5.0, image_size=28, kinds={"max_degrees": "rate"})


@recipe(D + ".shakespeare.clean_markdown")
def _():
    return Call("# Act 1\n\nTo be, or not to be.", kinds={"markdown": "text"})


@recipe(D + ".shakespeare.load_shakespeare")
def _():
    return Call(seed=0, fractions=(0.8, 0.1, 0.1), kinds={"fractions": "array"})


@recipe(D + ".shakespeare.read_play")
def _():
    from nncourse.data.shakespeare import list_plays
    return Call(list_plays()[0], kinds={"name": "text"})


# ------------------------------------------------------------------ models of chapters 11-12

M = "nncourse.models"


@recipe(M + ".RegularizedRun")
def _():
    return Call(n_train=100, hidden=(8,), dropout=0.2, weight_decay=1e-3, augment=1, max_shift=2, patience=2,
                epochs=2, lr=0.05, momentum=0.9, batch_size=32,
                kinds={"hidden": "array", "augment": "count", "patience": "count"})


def _split():
    from nncourse.data import Split
    rng = np.random.default_rng(0)
    X = rng.random((60, 784)).astype(F32)
    y = np.arange(60) % 10
    return Split(X[:40], y[:40], X[40:], y[40:])


@recipe(M + ".train_regularized")
def _():
    from nncourse.models import RegularizedRun
    return Call(RegularizedRun(n_train=20, hidden=(8,), epochs=1), _split(), seed=0, validation=True,
                kinds={"run": "object", "data": "object", "validation": "bool"},
                extra={"run": [None, {"n_train": 20}], "data": [None, (1, 2)]})


@recipe(M + ".regularized.regularization_curves")
def _():
    grid = {"n_train": (20,), "dropout": (0.0,), "weight_decay": (0.0,), "augment": (0,)}
    return Call(_split(), grid, seed=0, epochs=1, kinds={"split": "object", "grid": "object"},
                extra={"split": [None], "grid": [{}, {"n_train": ()}]})


@recipe(M + ".RegularizedRun.label")
def _():
    from nncourse.models import RegularizedRun
    return Call(RegularizedRun())


@recipe(M + ".ResNet")
def _():
    return Call(blocks=(1,), widths=(4,), in_channels=1, num_classes=3, residual=True, batch_norm=True, seed=0,
                kinds={"blocks": "array", "widths": "array"})


def _resnet():
    from nncourse.models import ResNet
    return ResNet(blocks=(1,), widths=(4,), num_classes=3, seed=0)


@recipe(M + ".ResNet.forward")
def _():
    return Call(_resnet(), arr(2, 1, 8, 8))


@recipe(M + ".ResNet.backward")
def _():
    model = _resnet()
    out = model(arr(2, 1, 8, 8))
    return Call(model, np.ones_like(out), need_input_grad=True, kinds={"grad_output": "array"})


@recipe(M + ".BasicBlock")
def _():
    return Call(2, 4, stride=2, residual=True, batch_norm=True, seed=0, rng=None, kinds={"rng": "seed"})


def _block():
    from nncourse.models import BasicBlock
    return BasicBlock(2, 4, stride=1, seed=0)


@recipe(M + ".BasicBlock.forward")
def _():
    return Call(_block(), arr(2, 2, 6, 6))


@recipe(M + ".BasicBlock.backward")
def _():
    block = _block()
    out = block(arr(2, 2, 6, 6))
    return Call(block, np.ones_like(out), need_input_grad=True, kinds={"grad_output": "array"})


@recipe(M + ".torch.ResNet")
def _():
    return Call(blocks=(1,), widths=(4,), in_channels=1, num_classes=3, residual=True, batch_norm=True, seed=0,
                kinds={"blocks": "array", "widths": "array"})


@recipe(M + ".torch.ResNet.forward")
def _():
    import torch
    from nncourse.models.torch import ResNet
    return Call(ResNet(blocks=(1,), widths=(4,), num_classes=3), torch.ones(2, 1, 8, 8))


@recipe(M + ".torch.BasicBlock")
def _():
    return Call(2, 4, stride=1, residual=True, batch_norm=True)


@recipe(M + ".torch.BasicBlock.forward")
def _():
    import torch
    from nncourse.models.torch import BasicBlock
    return Call(BasicBlock(2, 4), torch.ones(2, 2, 6, 6))


@recipe(M + ".deep_signal.init_std")
def _():
    return Call("he", 16, 16, kinds={"init": "text", "fan_in": "count", "fan_out": "count"})


@recipe(M + ".deep_signal.signal_through_depth")
def _():
    return Call(3, "tanh", "xavier", width=8, batch=16, seed=0, kinds={"activation": "text", "init": "text"})


# ------------------------------------------------------------------ numpy_nn: BatchNorm, init

N = "nncourse.numpy_nn"


@recipe(N + ".BatchNorm1d")
def _():
    return Call(3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=F32)


@recipe(N + ".BatchNorm2d")
def _():
    return Call(3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=F32)


@recipe(N + ".BatchNorm1d.forward")
def _():
    from nncourse.numpy_nn import BatchNorm1d
    return Call(BatchNorm1d(3), arr(4, 3))


@recipe(N + ".BatchNorm1d.backward")
def _():
    from nncourse.numpy_nn import BatchNorm1d
    layer = BatchNorm1d(3)
    out = layer(arr(4, 3))
    return Call(layer, np.ones_like(out), kinds={"grad_output": "array"})


I = N + ".init"


@recipe(I + ".bias")
def _():
    return Call("he", (3, 4), np.random.default_rng(0), kinds={"name": "text", "weight_shape": "array"})


@recipe(I + ".get")
def _():
    return Call("he", kinds={"name": "text"})


for _m in ("he_normal", "he_uniform", "torch_default"):
    recipe(f"{I}.{_m}")(lambda: Call((3, 4), np.random.default_rng(0), kinds={"shape": "array"}))
for _m in ("xavier_normal", "xavier_uniform"):
    recipe(f"{I}.{_m}")(lambda: Call((3, 4), np.random.default_rng(0), gain=1.0, kinds={"shape": "array"}))


@recipe(I + ".uniform")
def _():
    return Call((3, 4), np.random.default_rng(0), eps=0.12, kinds={"shape": "array"})


@recipe(I + ".zeros")
def _():
    return Call((3, 4), rng=None, kinds={"shape": "array"})


# ------------------------------------------------------------------ tokenizers (chapter 14)

K = "nncourse.tokenizers"


def tok():
    import nncourse.tokenizers as module
    return module


def _bpe():
    return tok().BPETokenizer.train(["hello hello world", "low lower lowest"], 260, special_tokens=("<|end|>",))


@recipe(K + ".BPETokenizer")
def _():
    return Call([(104, 101)], special_tokens=("<|end|>",), pattern="gpt2",
                kinds={"merges": "object", "special_tokens": "array", "pattern": "text"},
                extra={"merges": [[(1,)], "he"], "special_tokens": ["<|end|>"]})


@recipe(K + ".BPETokenizer.train")
def _():
    # one str is a documented corpus ("a str or a list of str"), so only a list of bytes is an extra hostile value
    return Call(tok().BPETokenizer, ["hello hello world"], 258, special_tokens=(), pattern="gpt2",
                kinds={"texts": "array", "pattern": "text", "special_tokens": "array"},
                extra={"texts": [[b"hello"]]})


@recipe(K + ".BPETokenizer.decode")
def _():
    return Call(_bpe(), [104, 101], errors="replace", kinds={"ids": "array", "errors": "text"})


@recipe(K + ".BPETokenizer.decode_bytes")
def _():
    return Call(_bpe(), [104, 101], kinds={"ids": "array"})


@recipe(K + ".BPETokenizer.encode")
def _():
    return Call(_bpe(), "hello <|end|>", special=True)


@recipe(K + ".BPETokenizer.save")
def _(tmp):
    return Call(_bpe(), tmp + "/tok.json")


@recipe(K + ".BPETokenizer.load")
def _(tmp):
    _bpe().save(tmp + "/tok.json")
    return Call(tok().BPETokenizer, tmp + "/tok.json")


for _m in ("token_bytes", "token_str"):
    recipe(f"{K}.BPETokenizer.{_m}")(lambda: Call(_bpe(), 104, kinds={"token_id": "count"}))


@recipe(K + ".bits_per_byte")
def _():
    return Call(2.0, 100, 400, kinds={"loss_nats": "rate", "n_tokens": "count", "n_bytes": "count"})


@recipe(K + ".bytes_per_token")
def _():
    return Call(_bpe(), "hello world", kinds={"tokenizer": "object"}, extra={"tokenizer": [None, "gpt2"]})


@recipe(K + ".compile_pattern")
def _():
    return Call("gpt2", kinds={"pattern": "text"})


@recipe(K + ".consecutive_windows")
def _():
    return Call(np.arange(50), 8, batch_size=2, kinds={"ids": "array"})


@recipe(K + ".random_windows")
def _():
    return Call(np.arange(50), 2, 8, seed=0, kinds={"ids": "array"})


@recipe(K + ".count_pairs")
def _():
    return Call([1, 2, 1, 2], counts=None, weight=2, kinds={"ids": "array", "counts": "object", "weight": "count"})


@recipe(K + ".merge")
def _():
    return Call([1, 2, 1, 2], (1, 2), 256, kinds={"ids": "array", "pair": "array", "new_id": "count"})


@recipe(K + ".pretokenize")
def _():
    return Call("hello world", pattern="gpt2", kinds={"pattern": "text"})


@recipe(K + ".train_merges")
def _():
    return Call(["hello hello world"], 2, pattern="gpt2", kinds={"texts": "array", "pattern": "text"})


@recipe(K + ".unicode_to_bytes")
def _():
    return Call("hello", kinds={"token": "text"})


# ------------------------------------------------------------------ scaling (chapter 15)

S = "nncourse.scaling"


def _tmodel():
    import torch
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def _txy():
    import torch
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 3, generator=g), torch.randn(8, 1, generator=g)


def _np_model():
    import nncourse.numpy_nn as nn
    return nn.Linear(3, 1, seed=0)


def _np_xy():
    return arr(8, 3), arr(8, 1, seed=1)


@recipe(S + ".accumulate_gradients")
def _():
    import torch
    x, y = _txy()
    return Call(_tmodel(), torch.nn.MSELoss(), x, y, 4, kinds={"model": "object", "loss_fn": "object"},
                extra={"loss_fn": [torch.nn.MSELoss(reduction="none")]})


@recipe(S + ".accumulated_step")
def _():
    import torch
    x, y = _txy()
    model = _tmodel()
    return Call(model, torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), x, y, 4,
                kinds={"model": "object", "loss_fn": "object", "optimizer": "object"})


def _grads():
    return [{"w": np.ones(3)}, {"w": np.zeros(3)}]


@recipe(S + ".all_reduce_mean")
def _():
    return Call(_grads(), weights=[0.5, 0.5], kinds={"grads": "object", "weights": "array"},
                extra={"grads": [[], None, [{"w": np.ones(3)}, {"v": np.ones(3)}]]})


@recipe(S + ".ring_all_reduce")
def _():
    return Call([np.ones(4), np.zeros(4)], average=True, kinds={"arrays": "object"},
                extra={"arrays": [[], [np.ones(4), np.ones(3)]]})


@recipe(S + ".check_same_device")
def _():
    x, _ = _txy()
    return Call(_tmodel(), x, names=["x"], kinds={"model": "object", "names": "array"})


@recipe(S + ".checkpoint_name")
def _():
    return Call(3)


@recipe(S + ".data_parallel_gradients")
def _():
    import nncourse.numpy_nn as nn
    x, y = _np_xy()
    return Call(_np_model(), nn.MSELoss(), x, y, 2, weighted=True, kinds={"model": "object", "loss_fn": "object"})


@recipe(S + ".gradients")
def _():
    import nncourse.numpy_nn as nn
    x, y = _np_xy()
    return Call(_np_model(), nn.MSELoss(), x, y, kinds={"model": "object", "loss_fn": "object"})


@recipe(S + ".worker_gradients")
def _():
    import nncourse.numpy_nn as nn
    from nncourse.scaling import replicate, shard_batch
    x, y = _np_xy()
    return Call(replicate(_np_model(), 2), nn.MSELoss(), shard_batch(x, y, 2),
                kinds={"models": "object", "loss_fn": "object", "shards": "object"},
                extra={"models": [[]], "shards": [[]]})


@recipe(S + ".replicate")
def _():
    return Call(_np_model(), 2, kinds={"model": "object"})


@recipe(S + ".shard_batch")
def _():
    x, y = _np_xy()
    return Call(x, y, 2)


@recipe(S + ".shard_indices")
def _():
    return Call(8, 2)


@recipe(S + ".micro_batches")
def _():
    return Call(8, 4)


@recipe(S + ".naive_all_reduce_bytes")
def _():
    return Call(1000, 4, kinds={"nbytes": "count"})


@recipe(S + ".ring_bytes_per_worker")
def _():
    return Call(1000, 4, kinds={"nbytes": "count"})


@recipe(S + ".device_of")
def _():
    return Call(_tmodel(), kinds={"obj": "object"})


@recipe(S + ".to_device")
def _():
    return Call(_tmodel(), "cpu", non_blocking=False, kinds={"obj": "object", "device": "text"},
                extra={"device": ["cuda:7", "tpu"]})


@recipe(S + ".to_numpy")
def _():
    x, _ = _txy()
    return Call(x, kinds={"tensor": "array"})


@recipe(S + ".require_cpu")
def _():
    x, _ = _txy()
    return Call(x, what="x", kinds={"tensor": "array", "what": "text"})


@recipe(S + ".pick_device")
def _():
    return Call("cpu", available=None, kinds={"preference": "text", "available": "array"})


@recipe(S + ".loader_settings")
def _():
    import torch
    return Call(torch.device("cpu"), num_workers=0, kinds={"device": "text"})


@recipe(S + ".latest_checkpoint")
def _(tmp):
    return Call(tmp, pattern="step-*.pt", kinds={"folder": "path", "pattern": "text"})


@recipe(S + ".save_checkpoint")
def _(tmp):
    import torch
    model = _tmodel()
    return Call(tmp + "/step-1.pt", model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                scheduler=None, step=1, extra={"note": "x"},
                kinds={"model": "object", "optimizer": "object", "scheduler": "object", "extra": "object"})


@recipe(S + ".load_checkpoint")
def _(tmp):
    import torch
    from nncourse.scaling import save_checkpoint
    model = _tmodel()
    save_checkpoint(tmp + "/step-1.pt", model=model, step=1)
    return Call(tmp + "/step-1.pt", model=_tmodel(), optimizer=None, scheduler=None, restore_rng=True,
                map_location="cpu", kinds={"model": "object", "optimizer": "object", "scheduler": "object",
                                           "map_location": "text"},
                extra={"model": [torch.nn.Linear(4, 1)], "map_location": ["cuda:7"]})


@recipe(S + ".set_rng_state")
def _():
    from nncourse.scaling import rng_state
    return Call(rng_state(), kinds={"state": "object"}, extra={"state": [{}, None]})


@recipe(S + ".memory.bytes_per_number")
def _():
    return Call("float32", kinds={"dtype": "text"})


@recipe(S + ".memory.flops_per_step")
def _():
    return Call(1000, 100, kinds={"n_params": "count", "tokens": "count"})


for _m in ("human_bytes", "human_flops"):
    recipe(f"{S}.memory.{_m}")(lambda: Call(1.5e9, kinds={"n": "rate"}))


@recipe(S + ".memory.scaling_figures")
def _():
    return Call(1000, 100, 2, dtype="float32", kinds={"n_params": "count", "tokens_per_worker": "count",
                                                     "dtype": "text"})


@recipe(S + ".memory.training_memory")
def _():
    return Call(1000, dtype="float32", optimizer="adam", kinds={"n_params": "count", "dtype": "text",
                                                                "optimizer": "text"})


@recipe(S + ".profiling.SlowDataset")
def _():
    x, y = _txy()
    return Call(x, y, delay=0.0001, kinds={"delay": "rate"})


@recipe(S + ".profiling.time_by_label")
def _():
    import torch
    with torch.profiler.profile() as prof:
        with torch.profiler.record_function("step"):
            torch.ones(2) + 1
    return Call(prof, ["step"], kinds={"prof": "object", "labels": "array"}, extra={"prof": [None]})


@recipe(S + ".resumable.build_run")
def _():
    return Call(seed=0)


@recipe(S + ".resumable.train")
def _(tmp):
    return Call(tmp, steps=2, every=1, seed=0, resume=True, restore_rng=True, crash_after=None,
                kinds={"folder": "path", "crash_after": "skip: any value SIGKILLs this process on purpose "
                                                         "(the crash demo); tests/test_scaling_checkpoint.py"})


def _ddp():
    from nncourse.scaling import ddp
    return ddp


@recipe(S + ".ddp.DDPConfig")
def _():
    return Call(steps=1, batch_size=4, n_examples=8, sizes=(3, 4, 1), lr=0.1, momentum=0.9, dtype="float64",
                seed=0, kinds={"sizes": "array", "dtype": "text", "fail_rank": "count", "fail_at_step": "count",
                               "fail_mode": "text"})


@recipe(S + ".ddp.DDPConfig.check")
def _():
    return Call(_ddp().DDPConfig(steps=1, batch_size=4, n_examples=8), 2)


@recipe(S + ".ddp.make_dataset")
def _():
    return Call(_ddp().DDPConfig(steps=1, batch_size=4, n_examples=8), kinds={"config": "object"},
                extra={"config": [{"steps": 1}, None]})


@recipe(S + ".ddp.max_difference")
def _():
    import torch
    return Call({"w": torch.ones(3)}, {"w": torch.zeros(3)}, kinds={"a": "object", "b": "object"},
                extra={"b": [{"v": torch.ones(3)}, {}]})


@recipe(S + ".ddp.train_single")
def _():
    return Call(_ddp().DDPConfig(steps=1, batch_size=4, n_examples=8), world_size=1,
                kinds={"config": "object"}, extra={"config": [{"steps": 1}, None]})


@recipe(S + ".ddp.train_ddp")
def _():
    return Call(_ddp().DDPConfig(steps=1, batch_size=4, n_examples=8), world_size=1,
                kinds={"config": "object", "world_size": "skip: each value starts worker processes (seconds "
                                                           "each); tests/test_scaling_ddp.py covers it",
                       "timeout": "skip: see world_size", "collective_timeout": "skip: see world_size",
                       "out": "skip: see world_size"})


@recipe(S + ".ddp.train_ddp_many")
def _():
    return Call([_ddp().DDPConfig(steps=1, batch_size=4, n_examples=8)], world_size=1,
                kinds={"configs": "object", "world_size": "skip: starts worker processes; test_scaling_ddp.py",
                       "outs": "skip: see world_size", "timeout": "skip: see world_size",
                       "collective_timeout": "skip: see world_size"})


# ------------------------------------------------------------------ widgets of chapters 11-15

W = "nncourse.widgets"


def _value_graph():
    a, b = ag().Value(2.0, label="a"), ag().Value(-3.0, label="b")
    loss = (a * b + a).tanh()
    return loss


@recipe(W + ".backprop.backward_frames")
def _():
    return Call(_value_graph(), kinds={"root": "object"}, extra={"root": [None, 2.0]})


@recipe(W + ".backprop.backward_stepper")
def _():
    # figsize in floats: inches may be fractions (figsize=(2.5, 2) is legal), so no "list with a fraction"
    return Call(_value_graph(), static=True, figsize=(3.0, 2.0), kinds={"root": "object", "figsize": "array"},
                extra={"root": [None]})


@recipe(W + ".backprop.draw_graph")
def _():
    return Call(_value_graph(), ax=None, grads=None, done=(), current=None, show_grad=True, title="g",
                kinds={"root": "object", "ax": "object", "grads": "object", "done": "object",
                       "current": "count"}, extra={"root": [None]})


@recipe(W + ".depth.shown_layers")
def _():
    return Call(10, count=4)


@recipe(W + ".depth_explorer")
def _():
    return Call(depths=(2,), activations=("tanh",), inits=("he",), width=8, batch=8, seed=0,
                kinds={"depths": "array", "activations": "array", "inits": "array"})


def _curves():
    import json
    from pathlib import Path
    return json.loads((Path(__file__).parent.parent / "chapters/results/regularization_curves.json").read_text())


@recipe(W + ".regularization.curve_table")
def _():
    return Call(_curves(), kinds={"curves": "object"}, extra={"curves": [{}, None]})


@recipe(W + ".regularization_explorer")
def _():
    return Call(_curves(), kinds={"curves": "object"}, extra={"curves": [{}, None]})


@recipe(W + ".scaling.calculator_table")
def _():
    return Call(1000000, 1024, 2, "float32", kinds={"n_params": "count", "tokens": "count", "dtype": "text"})


@recipe(W + ".scaling.scaling_calculator")
def _():
    return Call(model_sizes=(1000000, 2000000, 3000000), model_labels=("1M", "2M", "3M"), tokens=(1024,),
                kinds={"model_sizes": "array", "model_labels": "array", "tokens": "array",
                       "workers": "array", "dtypes": "array"})


@recipe(W + ".tokens.token_explorer")
def _():
    return Call({"bpe": _bpe()}, examples={"a": "hello"}, static=True, default=None,
                kinds={"tokenizers": "object", "examples": "object", "default": "text"},
                extra={"tokenizers": [{}, None], "examples": [{}, "hello"]})


@recipe(W + ".tokens.tokens_html")
def _():
    return Call(_bpe(), "hello", kinds={"tokenizer": "object"}, extra={"tokenizer": [None]})
