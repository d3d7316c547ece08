"""Valid calls of the Parts I-II public API (and the shared infrastructure) for the contract sweep.

One recipe per callable (``tests/contract.py`` explains the format). Families (layers, losses,
optimizers, schedulers) are registered in loops from one table each; sizes are tiny so that the whole
sweep runs in well under two minutes.
"""

import numpy as np

from contract import Call, recipe

F32 = np.float32
RNG = np.random.default_rng(0)


def arr(*shape, dtype=F32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def labels(n, classes=3, seed=0):
    return np.random.default_rng(seed).integers(0, classes, n)


def nn():
    import nncourse.numpy_nn as module
    return module


def params():
    return [nn().Parameter(np.ones(3, F32))]


# ------------------------------------------------------------------ numpy_nn layers: constructor, forward, backward

LAYERS = {  # name: (constructor call, input maker, input kind)
    "Linear": (lambda: Call(3, 2, bias=True, init="torch", seed=0), lambda: arr(4, 3)),
    "Conv2d": (lambda: Call(1, 2, 3, stride=1, padding=1, seed=0), lambda: arr(2, 1, 5, 5)),
    "MaxPool2d": (lambda: Call(2, stride=2, padding=0), lambda: arr(2, 1, 4, 4)),
    "Flatten": (lambda: Call(start_dim=1, end_dim=-1), lambda: arr(2, 3, 4)),
    "Dropout": (lambda: Call(p=0.5, seed=0), lambda: arr(4, 3)),
    "Step": (lambda: Call(), lambda: arr(4, 3)),
    "Sigmoid": (lambda: Call(), lambda: arr(4, 3)),
    "Tanh": (lambda: Call(), lambda: arr(4, 3)),
    "ReLU": (lambda: Call(), lambda: arr(4, 3)),
    "Identity": (lambda: Call(), lambda: arr(4, 3)),
    "LeakyReLU": (lambda: Call(negative_slope=0.01), lambda: arr(4, 3)),
    "Softmax": (lambda: Call(dim=-1), lambda: arr(4, 3)),
    "GELU": (lambda: Call(approximate="tanh", kinds={"approximate": "text"}), lambda: arr(4, 3)),
    "LayerNorm": (lambda: Call(3, eps=1e-5, elementwise_affine=True, kinds={"normalized_shape": "count"}),
                  lambda: arr(4, 3)),
    "Embedding": (lambda: Call(5, 3, seed=0), lambda: np.array([[0, 1, 4], [2, 3, 0]])),
    "RNN": (lambda: Call(3, 4, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True, seed=0),
            lambda: arr(2, 5, 3)),
    "LSTM": (lambda: Call(3, 4, num_layers=1, bias=True, batch_first=True, seed=0), lambda: arr(2, 5, 3)),
    "GRU": (lambda: Call(3, 4, num_layers=1, bias=True, batch_first=True, seed=0), lambda: arr(2, 5, 3)),
    "TransformerBlock": (lambda: Call(8, 2, dropout=0.0, seed=0), lambda: arr(2, 4, 8)),
    "MultiheadAttention": (lambda: Call(8, 2, dropout=0.0, bias=True, batch_first=True, seed=0), None),
}


def _layer(name):
    make, _ = LAYERS[name]
    call = make()
    return getattr(nn(), name)(*call.args, **call.kwargs)


def _register_layer(name, make, make_input):
    recipe(f"nncourse.numpy_nn.{name}")(make)
    if make_input is None:
        return

    def forward():
        return Call(_layer(name), make_input())

    def backward():
        layer = _layer(name)
        out = layer(make_input())
        if isinstance(out, tuple):
            out = out[0]
        return Call(layer, np.ones_like(out), kinds={"grad_output": "array"})

    recipe(f"nncourse.numpy_nn.{name}.forward", generic=True)(forward)
    recipe(f"nncourse.numpy_nn.{name}.backward", generic=True)(backward)


for _name, (_make, _input) in LAYERS.items():
    _register_layer(_name, _make, _input)


@recipe("nncourse.numpy_nn.MultiheadAttention.forward")
def _():
    q = arr(2, 4, 8)
    return Call(_layer("MultiheadAttention"), q, q.copy(), q.copy(), key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False,
                kinds={"key_padding_mask": "skip: optional mask, covered by padding_mask",
                       "attn_mask": "skip: optional mask, covered by causal_mask"})


@recipe("nncourse.numpy_nn.MultiheadAttention.backward")
def _():
    layer = _layer("MultiheadAttention")
    q = arr(2, 4, 8)
    out, _ = layer(q, q, q)
    return Call(layer, np.ones_like(out), kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.LSTM.backward")
def _():
    layer = _layer("LSTM")
    out, _ = layer(arr(2, 5, 3))
    return Call(layer, np.ones_like(out), grad_h_n=None, grad_c_n=None,
                kinds={"grad_h_n": "skip: optional, None is the usual value", "grad_c_n": "skip: optional"})


@recipe("nncourse.numpy_nn.RNN.backward")
def _():
    layer = _layer("RNN")
    out, _ = layer(arr(2, 5, 3))
    return Call(layer, np.ones_like(out), grad_h_n=None, kinds={"grad_h_n": "skip: optional"})


@recipe("nncourse.numpy_nn.LSTM.forward")
def _():
    return Call(_layer("LSTM"), arr(2, 5, 3), hx=None, kinds={"hx": "skip: optional state, a tuple"})


@recipe("nncourse.numpy_nn.RNN.forward")
def _():
    return Call(_layer("RNN"), arr(2, 5, 3), hx=None, kinds={"hx": "array"})


for _name in ("Linear", "Conv2d"):
    def _make(_name=_name):
        layer = _layer(_name)
        out = layer(LAYERS[_name][1]())
        return Call(layer, np.ones_like(out), need_input_grad=True, kinds={"grad_output": "array"})
    recipe(f"nncourse.numpy_nn.{_name}.backward")(_make)  # replaces the family's


@recipe("nncourse.numpy_nn.Sequential.forward")
def _():
    return Call(nn().Sequential(nn().Linear(3, 2, seed=0), nn().ReLU()), arr(4, 3))


@recipe("nncourse.numpy_nn.Sequential.backward")
def _():
    model = nn().Sequential(nn().Linear(3, 2, seed=0), nn().ReLU())
    out = model(arr(4, 3))
    return Call(model, np.ones_like(out), need_input_grad=True, kinds={"grad_output": "array"})


@recipe("nncourse.numpy_nn.Sequential.append")
def _():
    return Call(nn().Sequential(nn().Linear(3, 2, seed=0)), nn().ReLU(), kinds={"layer": "object"},
                extra={"layer": ["relu", None]})


@recipe("nncourse.numpy_nn.Sequential.from_config")
def _():
    model = nn().Sequential(nn().Linear(3, 2, seed=0), nn().ReLU())
    return Call(nn().Sequential, model.get_config(), kinds={"config": "object"}, extra={"config": [{}, "config", None]})


# ------------------------------------------------------------------ Module, Parameter


def _model():
    return nn().Sequential(nn().Linear(3, 2, seed=0), nn().ReLU())


@recipe("nncourse.numpy_nn.Module.add_module")
def _():
    return Call(_model(), "extra", nn().ReLU(), kinds={"name": "text", "module": "object"},
                extra={"module": [np.ones(3), "relu"]})


@recipe("nncourse.numpy_nn.Module.backward")
def _():
    return Call(nn().Module(), arr(2, 3), kinds={"grad_output": "skip: the base class raises NotImplementedError "
                                                                "for every input: a layer must define backward"})


@recipe("nncourse.numpy_nn.Module.load_state_dict")
def _():
    model = _model()
    return Call(model, _model().state_dict(), kinds={"state_dict": "object"},
                extra={"state_dict": [{}, {"0.weight": np.full((2, 3), np.nan, F32)}, "weights.npz"]})


for _method in ("named_buffers", "named_modules", "named_parameters"):
    recipe(f"nncourse.numpy_nn.Module.{_method}")(lambda: Call(_model(), prefix="net", kinds={"prefix": "text"}))


@recipe("nncourse.numpy_nn.Module.register_buffer")
def _():
    return Call(nn().Linear(3, 2, seed=0), "running", np.zeros(2, F32), kinds={"name": "text"})


@recipe("nncourse.numpy_nn.Module.to")
def _():
    return Call(_model(), np.float64)


@recipe("nncourse.numpy_nn.Module.train")
def _():
    return Call(_model(), True)


@recipe("nncourse.numpy_nn.Parameter.accumulate_grad")
def _():
    return Call(nn().Parameter(arr(2, 3)), arr(2, 3), kinds={"grad": "array"})


# ------------------------------------------------------------------ losses

LOSSES = {
    "MSELoss": (lambda: arr(4, 2), lambda: arr(4, 2, seed=1)),
    "L1Loss": (lambda: arr(4, 2), lambda: arr(4, 2, seed=1)),
    "BCELoss": (lambda: np.full((4, 1), 0.3, F32), lambda: np.array([[0.], [1.], [1.], [0.]], F32)),
    "BCEWithLogitsLoss": (lambda: arr(4, 1), lambda: np.array([[0.], [1.], [1.], [0.]], F32)),
    "CrossEntropyLoss": (lambda: arr(4, 3), lambda: labels(4)),
    "NLLLoss": (lambda: np.log(np.full((4, 3), 1 / 3, F32)), lambda: labels(4)),
}

for _name, (_out, _target) in LOSSES.items():
    if _name != "CrossEntropyLoss":
        recipe(f"nncourse.numpy_nn.{_name}")(lambda: Call(reduction="sum", kinds={"reduction": "text"}))

    def _forward(_name=_name, _out=_out, _target=_target):
        return Call(getattr(nn(), _name)(), _out(), _target(), kinds={"output": "array", "target": "array"})
    recipe(f"nncourse.numpy_nn.{_name}.forward")(_forward)


@recipe("nncourse.numpy_nn.CrossEntropyLoss")
def _():
    return Call(reduction="mean", label_smoothing=0.1, ignore_index=-100, kinds={"reduction": "text"})


# ------------------------------------------------------------------ optimizers and schedulers

OPTIMIZERS = {
    "SGD": lambda: Call(params(), lr=0.1, momentum=0.9, dampening=0, weight_decay=0.01, nesterov=True),
    "Adam": lambda: Call(params(), lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=True,
                         decoupled_weight_decay=False, kinds={"betas": "array"}),
    "AdamW": lambda: Call(params(), lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=False,
                          kinds={"betas": "array"}),
    "RMSprop": lambda: Call(params(), lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01, momentum=0.5,
                            centered=True),
    "Adagrad": lambda: Call(params(), lr=0.01, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1,
                            eps=1e-10),
    "Adadelta": lambda: Call(params(), lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.01),
}


def _with_params(make):
    def wrapped():
        call = make()
        call.kinds.setdefault("params", "object")
        call.extra.setdefault("params", [_model(), [], [np.ones(3)], None])
        return call
    return wrapped


for _name, _make in OPTIMIZERS.items():
    recipe(f"nncourse.numpy_nn.{_name}")(_with_params(_make))


@recipe("nncourse.numpy_nn.Optimizer")
def _():
    return Call(params(), {"lr": 0.1}, kinds={"params": "object", "defaults": "object"},
                extra={"params": [_model()], "defaults": [{"lr": float("nan")}, None]})


@recipe("nncourse.numpy_nn.Optimizer.zero_grad")
def _():
    return Call(nn().SGD(params(), lr=0.1), set_to_none=True)


def _sgd():
    return nn().SGD(params(), lr=0.1)


def sched():
    from nncourse.numpy_nn import lr_scheduler
    return lr_scheduler


SCHEDULERS = {
    "StepLR": lambda: Call(_sgd(), 2, gamma=0.5),
    "ExponentialLR": lambda: Call(_sgd(), 0.9),
    "CosineAnnealingLR": lambda: Call(_sgd(), 10, eta_min=0.001),
    "LinearLR": lambda: Call(_sgd(), start_factor=0.5, end_factor=1.0, total_iters=3),
    "LambdaLR": lambda: Call(_sgd(), lambda epoch: 0.9 ** epoch, kinds={"lr_lambda": "object"},
                             extra={"lr_lambda": [0.5, None]}),
    "LRScheduler": lambda: Call(_sgd()),
}


def _sequential_lr():
    optimizer = _sgd()
    first = sched().LinearLR(optimizer, start_factor=0.5, total_iters=2)
    second = sched().CosineAnnealingLR(optimizer, 5)
    return Call(optimizer, [first, second], [2], kinds={"schedulers": "object", "milestones": "array"},
                extra={"schedulers": [[first], []]})


SCHEDULERS["SequentialLR"] = _sequential_lr


def _with_optimizer(make):
    def wrapped():
        call = make()
        call.kinds.setdefault("optimizer", "object")
        call.extra.setdefault("optimizer", [params(), _model(), None])
        return call
    return wrapped


for _name, _make in SCHEDULERS.items():
    recipe(f"nncourse.numpy_nn.lr_scheduler.{_name}")(_with_optimizer(_make))

    def _lr_at(_make=_make, _name=_name):
        call = _make()
        scheduler = getattr(sched(), _name)(*call.args, **call.kwargs)
        return Call(scheduler, 0.1, 1, kinds={"base_lr": "rate", "epoch": "count"})
    if _name != "LRScheduler":
        recipe(f"nncourse.numpy_nn.lr_scheduler.{_name}.lr_at")(_lr_at)


@recipe("nncourse.numpy_nn.lr_scheduler.LRScheduler.lr_at")
def _():
    return Call(sched().StepLR(_sgd(), 2), 0.1, 1, kinds={"base_lr": "rate", "epoch": "count"})


# ------------------------------------------------------------------ numpy_nn functions

F = "nncourse.numpy_nn.functional"


@recipe("nncourse.numpy_nn.clip_grad_norm_")
def _():
    p = params()
    p[0].grad = np.ones(3, F32)
    return Call(p, 1.0, norm_type=2.0, error_if_nonfinite=True, kinds={"parameters": "object"},
                extra={"parameters": [_model(), None]})


@recipe("nncourse.numpy_nn.im2col")
def _():
    return Call(arr(2, 1, 5, 5), 3, stride=1, padding=1)


@recipe("nncourse.numpy_nn.col2im")
def _():
    cols = nn().im2col(arr(2, 1, 5, 5), 3, stride=1, padding=1)
    return Call(cols, (2, 1, 5, 5), 3, stride=1, padding=1, kinds={"cols": "array", "input_shape": "array"})


@recipe("nncourse.numpy_nn.conv_output_size")
def _():
    return Call(28, 5, stride=1, padding=2)


@recipe("nncourse.numpy_nn.from_torch")
def _():
    import torch
    return Call(torch.nn.Sequential(torch.nn.Linear(3, 2)), seed=0, kinds={"torch_module": "object"},
                extra={"torch_module": [_model(), "linear", None]})


@recipe("nncourse.numpy_nn.gradcheck")
def _():
    return Call(nn().Linear(3, 2, seed=0, dtype=np.float64), arr(2, 3, dtype=np.float64), target=None, eps=1e-6,
                kinds={"module_or_loss": "object", "inputs": "array", "target": "skip: optional, None for a layer"},
                extra={"module_or_loss": ["linear", None]})


@recipe("nncourse.numpy_nn.numerical_gradient")
def _():
    return Call(lambda x: float(np.sum(x ** 2)), arr(3, dtype=np.float64), eps=1e-6, kinds={"f": "object"},
                extra={"f": [None, "f"]})


@recipe("nncourse.numpy_nn.relative_error")
def _():
    return Call(arr(3, dtype=np.float64), arr(3, dtype=np.float64, seed=1),
                kinds={"analytic": "array", "numeric": "array"})


@recipe("nncourse.numpy_nn.mlp")
def _():
    return Call([2, 4, 1], "tanh", output_activation="sigmoid", init="torch", dropout=0.1, seed=0,
                kinds={"sizes": "array", "activation": "text", "output_activation": "text", "init": "text"})


for _name in ("scaled_dot_product_attention", "functional.attend", "functional.attention_forward"):
    def _attention():
        q = arr(2, 4, 8)
        return Call(q, q.copy(), q.copy(), attn_mask=None, is_causal=True, scale=0.5,
                    kinds={"attn_mask": "skip: optional mask, covered by causal_mask"})
    recipe(f"nncourse.numpy_nn.{_name}")(_attention)


@recipe(F + ".attention_backward")
def _():
    q = arr(2, 4, 8)
    out, cache = nn().functional.attention_forward(q, q, q)
    return Call(np.ones_like(out), cache, kinds={"cache": "object"}, extra={"cache": [None, (q, q)]})


@recipe(F + ".causal_mask")
def _():
    return Call(4, source_length=6)


@recipe(F + ".padding_mask")
def _():
    return Call(np.array([2, 3]), max_length=4, kinds={"lengths": "array"})


@recipe(F + ".softmax")
def _():
    return Call(arr(2, 3), dim=-1)


@recipe(F + ".softmax_backward")
def _():
    out = nn().functional.softmax(arr(2, 3))
    return Call(np.ones_like(out), out, dim=-1, kinds={"output": "array"})


# ------------------------------------------------------------------ torch_nn


@recipe("nncourse.torch_nn.Step.forward")
def _():
    import torch
    from nncourse.torch_nn import Step
    return Call(Step(), torch.ones(4, 3), kinds={"z": "array"})


@recipe("nncourse.torch_nn.TransformerBlock")
def _():
    import torch
    return Call(8, 2, dropout=0.0, dtype=torch.float32)


@recipe("nncourse.torch_nn.TransformerBlock.forward")
def _():
    import torch
    from nncourse.torch_nn import TransformerBlock
    return Call(TransformerBlock(8, 2), torch.ones(2, 4, 8))


@recipe("nncourse.torch_nn.from_numpy")
def _():
    import torch
    return Call(_model(), kinds={"numpy_module": "object"},
                extra={"numpy_module": [torch.nn.Linear(2, 3), "linear", None]})


@recipe("nncourse.torch_nn.mlp")
def _():
    return Call([2, 4, 1], "tanh", output_activation=None, init="torch", dropout=0.0, seed=0,
                kinds={"sizes": "array", "activation": "text", "output_activation": "text", "init": "text"})


@recipe("nncourse.torch_nn.numpy_dtype")
def _():
    import torch
    return Call(torch.float32, argument="dtype", kinds={"argument": "text"})


@recipe("nncourse.torch_nn.torch_dtype")
def _():
    return Call(np.float32, argument="dtype", kinds={"argument": "text"})


# ------------------------------------------------------------------ train


def _xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 4, F32)
    y = np.array([0, 1, 1, 0] * 4)
    return X, y


def _fit_parts():
    model = nn().mlp([2, 4, 2], "tanh", seed=0)
    return model, nn().CrossEntropyLoss(), nn().SGD(model.parameters(), lr=0.1)


@recipe("nncourse.train.fit")
def _():
    model, loss_fn, optimizer = _fit_parts()
    X, y = _xor()
    return Call(model, loss_fn, optimizer, (X, y), epochs=2, batch_size=4, validation_data=(X, y), scheduler=None,
                seed=0, quiet=True, patience=None, restore_best=False, batches=None, steps=None, clip=None,
                kinds={"model": "object", "loss_fn": "object", "optimizer": "object", "data": "object",
                       "validation_data": "object", "scheduler": "skip: optional, checked in test_bad_inputs",
                       "batches": "skip: an alternative to data, checked in test_train",
                       "on_step": "object", "on_epoch": "object", "scheduler_step": "text",
                       "who": "skip: the name a wrapper (train_lm, train_gpt) gives fit for its messages"},
                extra={"data": [(X[:, :1], y), (X, y[:3]), X, None], "validation_data": [(X[:, :1], y), X],
                       "loss_fn": [nn().MSELoss(), "cross_entropy"], "optimizer": [None, "sgd"],
                       "model": [None, "mlp"], "on_step": [3, "print"], "on_epoch": [3]})


@recipe("nncourse.train.evaluate")
def _():
    model, loss_fn, _ = _fit_parts()
    X, y = _xor()
    return Call(model, loss_fn, X, y, batch_size=8, kinds={"model": "object", "loss_fn": "object"})


@recipe("nncourse.train.predict")
def _():
    model, _, _ = _fit_parts()
    X, _ = _xor()
    return Call(model, X, batch_size=8, kinds={"model": "object"}, extra={"model": [None, "mlp"]})


@recipe("nncourse.train.is_torch")
def _():
    return Call(_model(), kinds={"model": "object"})


@recipe("nncourse.train.History.record")
def _():
    from nncourse.train import History
    return Call(History(), loss=0.5)


# ------------------------------------------------------------------ io, evaluation, plots, results, recipes, utils


@recipe("nncourse.io.save_numpy_model")
def _(tmp):
    return Call(_model(), tmp + "/model.npz", kinds={"model": "object"},
                extra={"model": [None, np.ones(3)]})


@recipe("nncourse.io.load_numpy_model")
def _(tmp):
    from nncourse import io
    io.save_numpy_model(_model(), tmp + "/model.npz")
    return Call(tmp + "/model.npz")


@recipe("nncourse.io.save_torch_model")
def _(tmp):
    import torch
    return Call(torch.nn.Linear(3, 2), tmp + "/model.pt", kinds={"model": "object"},
                extra={"model": [None, _model()]})


@recipe("nncourse.io.load_torch_model")
def _(tmp):
    import torch
    from nncourse import io
    io.save_torch_model(torch.nn.Linear(3, 2), tmp + "/model.pt")
    return Call(torch.nn.Linear(3, 2), tmp + "/model.pt", kinds={"model": "object"},
                extra={"model": [torch.nn.Linear(4, 2), None]})


E = "nncourse.evaluation"


@recipe(E + ".accuracy")
def _():
    return Call(labels(6), arr(6, 3), kinds={"y_pred_or_logits": "array"})


@recipe(E + ".confusion_matrix")
def _():
    return Call(labels(6), labels(6, seed=1), n_classes=3)


@recipe(E + ".per_class_accuracy")
def _():
    return Call(labels(6), labels(6, seed=1), n_classes=3)


@recipe(E + ".most_confident_mistakes")
def _():
    return Call(arr(6, 3), labels(6), k=2, kinds={"probs_or_logits": "array"})


@recipe(E + ".predicted_labels")
def _():
    return Call(arr(6, 3), kinds={"y_pred_or_scores": "array"})


@recipe(E + ".softmax")
def _():
    return Call(arr(6, 3), axis=-1)


P = "nncourse.plots"


@recipe(P + ".plot_confusion_matrix")
def _():
    return Call(np.eye(3, dtype=np.int64) * 4, class_names=["a", "b", "c"], ax=None, cmap="Blues", title="cm",
                kinds={"cm": "array", "class_names": "array", "ax": "object", "cmap": "text"})


@recipe(P + ".plot_decision_boundary")
def _():
    X, y = _xor()
    return Call(lambda Z: (Z[:, 0] > 0.5).astype(int), X, y, ax=None, X_test=None, y_test=None, resolution=20,
                padding=0.5, title="b", kinds={"predict_fn": "object", "ax": "object", "padding": "rate",
                                                "X_test": "skip: optional, needs y_test with it",
                                                "y_test": "skip: optional, needs X_test with it"},
                extra={"predict_fn": [None, "model"]})


@recipe(P + ".plot_digits")
def _():
    return Call(np.random.default_rng(0).random((4, 784)).astype(F32), labels=labels(4, 10),
                predictions=labels(4, 10), ncols=2, max_images=4, cmap="gray_r",
                kinds={"cmap": "text", "max_images": "count"})


@recipe(P + ".plot_history")
def _():
    return Call({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}, title="h", kinds={"history": "object"},
                extra={"history": [{}, None, [1.0, 0.5]]})


@recipe(P + ".plot_mistakes")
def _():
    return Call(np.random.default_rng(0).random((3, 784)).astype(F32), labels(3, 10), labels(3, 10, seed=1),
                np.full((3, 10), 0.1, F32), ncols=2, cmap="gray_r", kinds={"probs": "array", "cmap": "text"})


def _rows():
    return [{"chapter": 8, "model": "bigram", "parameters": 729, "numpy": 2.45, "torch": 2.45}]


@recipe("nncourse.results.load_results")
def _(tmp):
    from nncourse import results
    results.update_results(tmp + "/results.json", chapter=8, rows=_rows())
    return Call(tmp + "/results.json")


@recipe("nncourse.results.update_results")
def _(tmp):
    return Call(tmp + "/results.json", chapter=8, rows=_rows(), kinds={"chapter": "count", "rows": "object"},
                extra={"rows": [None, [], "rows"]})


for _name in ("results_markdown", "results_table"):
    recipe(f"nncourse.results.{_name}")(lambda: Call(_rows(), kinds={"rows": "object"},
                                                     extra={"rows": [None, "rows"]}))


@recipe("nncourse.recipes.mnist_recipe")
def _():
    return Call("mlp", "numpy", seed=0, kinds={"kind": "text", "backend": "text"})


def _recipe_class(name):
    from nncourse import recipes
    return getattr(recipes, name)


@recipe("nncourse.recipes.Recipe")
def _():
    return Call("tiny", (784, 8, 10), activation="relu", init="he", lr=0.05, momentum=0.9, batch_size=32, epochs=1,
                kinds={"name": "text", "sizes": "array", "activation": "text", "init": "text",
                       "schedule": "text", "optimizer": "text"})


@recipe("nncourse.recipes.CNNRecipe")
def _():
    from nncourse.recipes import mnist_recipe  # noqa: F401
    return Call("tiny-cnn", (1, 4, 10), lr=0.05, epochs=1,
                kinds={"name": "text", "sizes": "array", "activation": "text", "init": "text",
                       "schedule": "text", "optimizer": "text"})


def _tiny_recipe():
    return _recipe_class("Recipe")("tiny", (784, 8, 10), epochs=1)


@recipe("nncourse.recipes.Recipe.build")
def _():
    return Call(_tiny_recipe(), "numpy", seed=0, kinds={"backend": "text"})


@recipe("nncourse.recipes.Recipe.numpy_model")
def _():
    return Call(_tiny_recipe(), 0)


@recipe("nncourse.recipes.Recipe.prepare")
def _():
    return Call(_tiny_recipe(), np.random.default_rng(0).random((4, 784)).astype(F32), kinds={"X": "array"})


@recipe("nncourse.recipes.CNNRecipe.numpy_model")
def _():
    from nncourse.recipes import MNIST_RECIPES
    return Call(MNIST_RECIPES["cnn"], 0)


@recipe("nncourse.recipes.CNNRecipe.prepare")
def _():
    from nncourse.recipes import MNIST_RECIPES
    return Call(MNIST_RECIPES["cnn"], np.random.default_rng(0).random((4, 784)).astype(F32), kinds={"X": "array"})


@recipe("nncourse.utils.as_rng")
def _():
    return Call(seed=3, rng=None)


# ------------------------------------------------------------------ data

D = "nncourse.data"


@recipe(D + ".Vocabulary")
def _():
    return Call(".abc", kinds={"symbols": "text"})


def _vocab():
    from nncourse.data import Vocabulary
    return Vocabulary(".abcdefghijklmnopqrstuvwxyz")


@recipe(D + ".Vocabulary.decode")
def _():
    return Call(_vocab(), np.array([1, 2, 3]), kinds={"indices": "array"})


@recipe(D + ".Vocabulary.encode")
def _():
    return Call(_vocab(), "abc")


NAMES = ["anna", "bob", "carl", "dora", "eve", "fred", "gus", "hana"]


@recipe(D + ".balanced_subset")
def _():
    X = arr(20, 3)
    y = np.arange(20) % 2
    return Call(X, y, 6, seed=0)


for _name, _kw in {"blobs": dict(n_samples=20, n_classes=2, separation=4.0, noise=0.5, seed=0),
                   "circles": dict(n_samples=20, noise=0.05, factor=0.5, seed=0),
                   "spirals": dict(n_samples=20, n_classes=2, turns=1.5, noise=0.05, seed=0),
                   "two_moons": dict(n_samples=20, noise=0.1, seed=0),
                   "xor_blobs": dict(n_samples=20, noise=0.35, seed=0),
                   "regression_curve": dict(n_samples=20, noise=0.1, x_range=(-3.0, 3.0), seed=0)}.items():
    recipe(f"{D}.{_name}")(lambda _kw=_kw: Call(rng=None, **_kw, kinds={"x_range": "array", "rng": "seed"}))


@recipe(D + ".context_windows")
def _():
    return Call(NAMES, 3, _vocab(), kinds={"names": "array", "vocab": "object"}, extra={"names": ["anna"]})


@recipe(D + ".count_predictions")
def _():
    return Call(NAMES, kinds={"names": "array"}, extra={"names": ["anna", None]})


@recipe(D + ".curve")
def _():
    return Call(arr(5))


@recipe(D + ".digit_sequences")
def _():
    return Call(4, length=5, n_digits=10, seed=0)


@recipe(D + ".download.check_writable")
def _(tmp):
    return Call(tmp, fix="use another folder", kinds={"folder": "path", "fix": "text"})


@recipe(D + ".download.file_problem")
def _(tmp):
    path = tmp + "/f.bin"
    with open(path, "wb") as handle:
        handle.write(b"abc")
    from nncourse.data import md5sum
    return Call(path, md5sum(path), kinds={"md5": "text", "path": "skip: it diagnoses a path; 'missing' is its "
                                                                 "answer for a directory or a missing file"})


@recipe(D + ".download.open_url")
def _(tmp):
    with open(tmp + "/f.bin", "wb") as handle:
        handle.write(b"abc")
    return Call("file://" + tmp + "/f.bin", timeout=5, kinds={"url": "text", "timeout": "rate"})


@recipe(D + ".download_file")
def _(tmp):
    import os
    os.makedirs(tmp + "/mirror")
    with open(tmp + "/mirror/f.bin", "wb") as handle:
        handle.write(b"abc")
    from nncourse.data import md5sum
    return Call("f.bin", tmp + "/dest", md5sum(tmp + "/mirror/f.bin"), mirrors=["file://" + tmp + "/mirror/"],
                opener=None, quiet=True, kinds={"filename": "text", "folder": "path", "md5": "text",
                                                "mirrors": "array", "opener": "skip: a test hook (urlopen)"})


@recipe(D + ".idx.idx_bytes")
def _():
    return Call(np.zeros((2, 3), np.uint8), kinds={"array": "array"})


@recipe(D + ".load_mnist")
def _(tmp):
    from fake_mnist import write_fake_mnist
    from pathlib import Path
    write_fake_mnist(Path(tmp) / "mnist" / "MNIST" / "raw")  # the sweep patches MNIST_MD5 to these files
    # sample is the offline sample's folder (or None / False), not a count of examples: it is swept as a path
    return Call(tmp + "/mnist", download=False, flatten=True, normalize=True, dtype=F32, sample=None, quiet=True,
                kinds={"root": "path", "sample": "path"})


@recipe(D + ".torch_mnist")
def _(tmp):
    from fake_mnist import write_fake_mnist
    from pathlib import Path
    write_fake_mnist(Path(tmp) / "mnist" / "MNIST" / "raw")  # the sweep patches MNIST_MD5 to these files
    # sample is the offline sample's folder (or None / False), not a count of examples: it is swept as a path
    return Call(tmp + "/mnist", True, download=False, transform=None, target_transform=None, sample=None,
                quiet=True, kinds={"root": "path", "sample": "path", "transform": "skip: any callable",
                                   "target_transform": "skip: any callable"})


@recipe(D + ".load_names")
def _():
    return Call("female", seed=0, fractions=(0.8, 0.1, 0.1), kinds={"kind": "text", "fractions": "array"})


@recipe(D + ".read_census_names")
def _():
    return Call("female", kinds={"kind": "text"})


@recipe(D + ".md5sum")
def _(tmp):
    with open(tmp + "/f.bin", "wb") as handle:
        handle.write(b"abc")
    return Call(tmp + "/f.bin")


@recipe(D + ".mnist_raw_folder")
def _(tmp):
    return Call(tmp, kinds={"root": "path"})


@recipe(D + ".padded_batch")
def _():
    return Call(NAMES, _vocab(), length=8, pad_target=-100, kinds={"names": "array", "vocab": "object"})


@recipe(D + ".parse_idx")
def _():
    from nncourse.data.idx import idx_bytes
    return Call(idx_bytes(np.zeros((2, 3), np.uint8)), name="x.idx", kinds={"data": "object", "name": "text"},
                extra={"data": [b"", b"\x00\x00\x08\x02", "text", None]})


@recipe(D + ".read_idx")
def _(tmp):
    from nncourse.data import write_idx
    write_idx(tmp + "/a.idx", np.zeros((2, 3), np.uint8))
    return Call(tmp + "/a.idx")


@recipe(D + ".write_idx")
def _(tmp):
    return Call(tmp + "/a.idx", np.zeros((2, 3), np.uint8), compress=None, kinds={"compress": "bool"})


@recipe(D + ".reversal_task")
def _():
    return Call(n_train=10, n_test=5, length=4, n_digits=10, seed=0)


@recipe(D + ".sample_folder")
def _(tmp):
    return Call(sample=tmp, kinds={"sample": "path"})


@recipe(D + ".to_torch")
def _():
    return Call(arr(3, 2), labels(3), dtype=None, kinds={"dtype": "dtype"})


@recipe(D + ".train_test_split")
def _():
    return Call(arr(10, 2), labels(10), test_fraction=0.3, seed=0, rng=None, kinds={"rng": "seed"})


@recipe(D + ".validation_split")
def _():
    return Call(arr(20, 2), np.arange(20) % 2, validation_size=0.2, seed=0, stratify=True,
                kinds={"validation_size": "rate"})


@recipe(D + ".truth_table")
def _():
    return Call("xor", kinds={"name": "text"})


# ------------------------------------------------------------------ models: perceptron, charlm, tagger, GPT

M = "nncourse.models"


def models():
    import nncourse.models as module
    return module


@recipe(M + ".Perceptron")
def _():
    return Call(2, lr=1.0, seed=0, kinds={"n_inputs": "count"})


def _perceptron():
    return models().Perceptron(2, seed=0)


_AND = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]], F32), np.array([0, 0, 0, 1]))

for _method in ("decision_function", "predict"):
    recipe(f"{M}.Perceptron.{_method}")(lambda: Call(_perceptron(), _AND[0].copy()))


@recipe(M + ".Perceptron.fit")
def _():
    return Call(_perceptron(), _AND[0].copy(), _AND[1].copy(), epochs=3)


@recipe(M + ".Perceptron.update")
def _():
    return Call(_perceptron(), _AND[0][1].copy(), 1, kinds={"y": "count"})


@recipe(M + ".BigramCounts")
def _():
    return Call(alpha=1.0)


def _counts():
    model = models().BigramCounts()
    model.fit(NAMES)
    return model


@recipe(M + ".BigramCounts.fit")
def _():
    return Call(models().BigramCounts(), NAMES, kinds={"names": "array"})


@recipe(M + ".BigramCounts.nll")
def _():
    return Call(_counts(), NAMES, kinds={"names": "array"})


@recipe(M + ".BigramCounts.next_logits")
def _():
    return Call(_counts(), np.array([[0], [1]]), kinds={"context": "array"})


CHARLM = {
    "BigramNet": (lambda: Call(seed=0, dtype=F32), lambda: np.array([[0], [1], [2]]), "X"),
    "WindowMLP": (lambda: Call(block_size=3, embedding_dim=4, hidden=8, seed=0, dtype=F32),
                  lambda: np.array([[0, 0, 1], [0, 1, 2]]), "X"),
    "RecurrentLM": (lambda: Call("gru", embedding_dim=4, hidden=8, num_layers=1, nonlinearity="tanh", seed=0,
                                 dtype=F32, kinds={"cell": "text"}),
                    lambda: np.array([[0, 1, 2], [0, 3, 4]]), "inputs"),
}


def _charlm(name):
    call = CHARLM[name][0]()
    return getattr(models(), name)(*call.args, **call.kwargs)


for _name, (_make, _input, _arg) in CHARLM.items():
    recipe(f"{M}.{_name}")(_make)

    def _forward(_name=_name, _input=_input):
        return Call(_charlm(_name), _input())
    recipe(f"{M}.{_name}.forward", generic=True)(_forward)

    def _backward(_name=_name, _input=_input):
        model = _charlm(_name)
        out = model(_input())
        return Call(model, np.ones_like(out), kinds={"grad_logits": "array"})
    recipe(f"{M}.{_name}.backward")(_backward)

    def _torch(_name=_name, _make=_make):
        call = _make()
        return Call(*call.args, **call.kwargs)
    recipe(f"{M}.torch.{_name}")(_torch)

    def _torch_forward(_name=_name, _input=_input):
        import torch
        import nncourse.models.torch as twins
        call = CHARLM[_name][0]()
        return Call(getattr(twins, _name)(*call.args, **call.kwargs), torch.as_tensor(_input()))
    recipe(f"{M}.torch.{_name}.forward")(_torch_forward)


@recipe(M + ".RecurrentLM.forward")
def _():
    return Call(_charlm("RecurrentLM"), np.array([[0, 1, 2], [0, 3, 4]]), state=None,
                kinds={"state": "skip: optional, a tuple of hidden states"})


C = M + ".charlm"


@recipe(C + ".count_parameters")
def _():
    return Call(_charlm("BigramNet"), kinds={"model": "object"}, extra={"model": [None, "model"]})


@recipe(C + ".encode")
def _():
    return Call(_charlm("WindowMLP"), NAMES, kinds={"model": "object", "names": "array"},
                extra={"model": [None]})


@recipe(C + ".evaluate_lm")
def _():
    return Call(_charlm("WindowMLP"), NAMES, batch_size=16, kinds={"model": "object", "names": "array"},
                extra={"model": [None, _model()]})


@recipe(C + ".gradient_by_distance")
def _():
    return Call(_charlm("RecurrentLM"), ["anna", "carl", "dora"], kinds={"model": "object", "names": "array"},
                extra={"model": [None]})


@recipe(C + ".length_batches")
def _():
    return Call(NAMES, 3, np.random.default_rng(0), kinds={"names": "array"})


@recipe(C + ".next_char_probs")
def _():
    return Call(_charlm("WindowMLP"), "an", temperature=1.0, kinds={"model": "object", "prefix": "text"},
                extra={"model": [None]})


@recipe(C + ".sample_names")
def _():
    return Call(_charlm("WindowMLP"), 3, temperature=1.0, seed=0, max_length=10, kinds={"model": "object"},
                extra={"model": [None]})


@recipe(C + ".softmax_with_temperature")
def _():
    return Call(arr(2, 5), temperature=0.5, kinds={"logits": "array"})


@recipe(C + ".torch_twin")
def _():
    return Call(_charlm("BigramNet"), kinds={"model": "object"}, extra={"model": [None, _model()]})


@recipe(C + ".train_lm")
def _():
    return Call(_charlm("WindowMLP"), NAMES, epochs=1, batch_size=8, lr=0.01, optimizer="adam", clip=1.0,
                max_steps=2, seed=0, on_step=None,
                kinds={"model": "object", "names": "array", "optimizer": "text", "clip": "rate",
                       "on_step": "skip: any callable"})


# attention tagger

def _tagger():
    return models().AttentionTagger(6, 5, embed_dim=8, num_heads=2, num_layers=1, num_classes=None, seed=0)


def _tokens():
    return np.random.default_rng(0).integers(0, 6, (4, 5))


@recipe(M + ".AttentionTagger")
def _():
    return Call(6, 5, embed_dim=8, num_heads=2, num_layers=1, num_classes=4, seed=0, rng=None, dtype=F32,
                kinds={"rng": "seed", "max_length": "count"})


@recipe(M + ".AttentionTagger.forward")
def _():
    return Call(_tagger(), _tokens())


@recipe(M + ".AttentionTagger.backward")
def _():
    model = _tagger()
    out = model(_tokens())
    return Call(model, np.ones_like(out), kinds={"grad_output": "array"})


@recipe(M + ".torch.AttentionTagger")
def _():
    import torch
    return Call(6, 5, embed_dim=8, num_heads=2, num_layers=1, num_classes=4, dtype=torch.float32, device=None,
                kinds={"max_length": "count", "device": "text"})


@recipe(M + ".torch.AttentionTagger.forward")
def _():
    import torch
    from nncourse.models.torch import AttentionTagger
    return Call(AttentionTagger(6, 5, embed_dim=8), torch.as_tensor(_tokens()))


@recipe(M + ".torch.attention_tagger.attention_tagger_from_numpy")
def _():
    return Call(_tagger(), kinds={"model": "object"}, extra={"model": [None, _model()]})


@recipe(M + ".exact_match")
def _():
    return Call(_tagger(), _tokens(), _tokens(), kinds={"model": "object"}, extra={"model": [None]})


@recipe(M + ".predict_tokens")
def _():
    return Call(_tagger(), _tokens(), batch_size=2, kinds={"model": "object"}, extra={"model": [None]})


@recipe(M + ".train_tagger")
def _():
    X = _tokens()
    return Call(_tagger(), X, X.copy(), epochs=1, batch_size=2, lr=0.01, seed=0, validation=(X, X.copy()),
                stop_at_exact_match=0.99, eval_every=1,
                kinds={"model": "object", "validation": "object", "stop_at_exact_match": "rate"},
                extra={"model": [None], "validation": [X, (X, X[:2])]})


# GPT

def _gpt():
    return models().GPT(6, 5, 8, 2, 1, dropout=0.0, seed=0)


@recipe(M + ".GPT")
def _():
    return Call(6, 5, 8, 2, 1, dropout=0.1, seed=0, dtype=F32,
                kinds={"context_length": "count", "d_model": "count", "n_heads": "count"})


@recipe(M + ".GPT.forward")
def _():
    return Call(_gpt(), _tokens(), kinds={"idx": "array"})


@recipe(M + ".GPT.backward")
def _():
    model = _gpt()
    out = model(_tokens())
    return Call(model, np.ones_like(out), kinds={"grad_logits": "array"})


@recipe(M + ".GPT.from_config")
def _():
    return Call(models().GPT, _gpt().get_config(), kinds={"config": "object"}, extra={"config": [{}, None, "gpt"]})


@recipe(M + ".GPT.generate")
def _():
    return Call(_gpt(), _tokens()[:2, :2], 3, temperature=1.0, top_k=2, seed=0, kinds={"idx": "array"})


@recipe(M + ".torch.GPT")
def _():
    import torch
    return Call(6, 5, 8, 2, 1, dropout=0.1, seed=0, dtype=torch.float32,
                kinds={"context_length": "count", "d_model": "count", "n_heads": "count"})


def _torch_gpt():
    from nncourse.models.torch import GPT
    return GPT(6, 5, 8, 2, 1, seed=0)


@recipe(M + ".torch.GPT.forward")
def _():
    import torch
    return Call(_torch_gpt(), torch.as_tensor(_tokens()), kinds={"idx": "array"})


@recipe(M + ".torch.GPT.generate")
def _():
    import torch
    return Call(_torch_gpt(), torch.as_tensor(_tokens()[:2, :2]), 3, temperature=1.0, top_k=2, seed=0,
                kinds={"idx": "array"})


G = M + ".gpt_training"


def _name_gpt():
    return models().GPT(27, 8, 8, 2, 1, seed=0)


def _batches():
    from nncourse.models.gpt_training import length_sorted_batches
    return length_sorted_batches(NAMES, batch_size=4)


@recipe(G + ".addition_split")
def _():
    return Call(n_digits=1, n_test=10, seed=0, kinds={"n_test": "count"})


@recipe(G + ".addition_problems")
def _():
    return Call(np.array([1, 2]), np.array([3, 4]), n_digits=1, kinds={"a": "array", "b": "array"})


@recipe(G + ".addition_accuracy")
def _():
    model = models().GPT(14, 7, 8, 2, 1, seed=0)
    return Call(model, 1, np.array([1, 2]), np.array([3, 4]), batch_size=2,
                kinds={"model": "object", "a": "array", "b": "array"}, extra={"model": [None]})


@recipe(G + ".evaluate_gpt")
def _():
    return Call(_name_gpt(), _batches(), kinds={"model": "object", "batches": "object"},
                extra={"model": [None], "batches": [[], None]})


@recipe(G + ".length_sorted_batches")
def _():
    return Call(NAMES, batch_size=4, kinds={"names": "array"})


@recipe(G + ".name_batches")
def _():
    return Call(NAMES, 4, seed=0, kinds={"names": "array"})


@recipe(G + ".sample_names")
def _():
    return Call(_name_gpt(), 2, prefix="a", temperature=1.0, top_k=3, seed=0, max_length=6,
                kinds={"model": "object", "prefix": "text"}, extra={"model": [None]})


@recipe(G + ".sample_sequences")
def _():
    return Call(_gpt(), [[1, 2], [3, 4]], 2, temperature=1.0, top_k=None, seed=0, end=0,
                kinds={"model": "object", "prefixes": "array", "end": "count"}, extra={"model": [None]})


@recipe(G + ".train_gpt")
def _():
    return Call(_name_gpt(), _batches(), 2, lr=3e-3, weight_decay=0.01, warmup=1, clip=1.0, every=1,
                kinds={"model": "object", "batches": "object", "clip": "rate"},
                extra={"model": [None], "batches": [[], None]})


@recipe(M + ".sampling_probabilities")
def _():
    return Call(arr(2, 5), temperature=0.8, top_k=3, kinds={"logits": "array"})


# ------------------------------------------------------------------ widgets of chapters 1-10

W = "nncourse.widgets"


@recipe(W + ".Axis")
def _():
    return Call("lr", [0.1, 0.3], labels=["0.1", "0.3"], kind="slider", default=0.1,
                kinds={"label": "text", "values": "array", "labels": "array", "kind": "text",
                       "default": "object"}, extra={"default": [0.7]})


@recipe(W + ".Playground")
def _():
    from nncourse.widgets import PlaygroundSettings
    return Call(PlaygroundSettings(samples=50, epochs=5), kinds={"settings": "object", "trainer": "object",
                                                                 "figure": "object"},
                extra={"settings": [{"samples": 40}, "xor"], "trainer": [None, "train"], "figure": ["figure"]})


@recipe(W + ".PlaygroundFigure")
def _():
    return Call(width=4.0, height=2.0, dpi=40, kinds={"width": "rate", "height": "rate", "dpi": "count"})


def _playground_result():
    from nncourse.widgets import PlaygroundSettings, train_playground
    return train_playground(PlaygroundSettings(samples=50, epochs=5))


@recipe(W + ".PlaygroundFigure.render")
def _():
    from nncourse.widgets import PlaygroundFigure
    return Call(PlaygroundFigure(width=4.0, height=2.0, dpi=40), _playground_result(), kinds={"result": "object"},
                extra={"result": [None, {"loss": 1.0}]})


@recipe(W + ".PlaygroundFigure.update")
def _():
    from nncourse.widgets import PlaygroundFigure
    return Call(PlaygroundFigure(width=4.0, height=2.0, dpi=40), _playground_result(), kinds={"result": "object"},
                extra={"result": [None, {"loss": 1.0}]})


@recipe(W + ".PlaygroundSettings")
def _():
    return Call(dataset="xor", noise=0.2, samples=50, test_fraction=0.25, hidden_layers=1, neurons=4,
                activation="tanh", learning_rate=0.03, epochs=5,
                kinds={"dataset": "text", "activation": "text", "samples": "count", "neurons": "count"})


@recipe(W + ".PlaygroundSettings.replace")
def _():
    from nncourse.widgets import PlaygroundSettings
    return Call(PlaygroundSettings(samples=50), epochs=5)


@recipe(W + ".train_playground")
def _():
    from nncourse.widgets import PlaygroundSettings
    return Call(PlaygroundSettings(samples=50, epochs=5), kinds={"settings": "object"},
                extra={"settings": [{"samples": 40}, "xor"]})


@recipe(W + ".make_data")
def _():
    return Call("xor", 40, 0.2, 0.25, 0, kinds={"dataset": "text", "samples": "count", "noise": "rate",
                                                "test_fraction": "rate"})


@recipe(W + ".playground.make_control")
def _():
    from nncourse.widgets import controls
    name, default, control = controls()[1]
    return Call(name, default, control, kinds={"name": "text", "default": "object", "c": "object"},
                extra={"name": ["no_such_setting"], "c": [None]})


@recipe(W + ".static_playground")
def _():
    from nncourse.widgets import PlaygroundSettings
    return Call(PlaygroundSettings(samples=50, epochs=3), learning_rates=(0.01, 0.3), hidden_layers=(0, 1),
                kinds={"base": "object", "learning_rates": "array", "hidden_layers": "array"},
                extra={"base": [{"samples": 40}, "xor"]})


@recipe(W + ".divergence_message")
def _():
    return Call(3, 0.5, kinds={"epoch": "count", "learning_rate": "rate"})


@recipe(W + ".feature_map")
def _():
    return Call(arr(6, 6), arr(3, 3, seed=1), kinds={"image": "array", "kernel": "array"})


@recipe(W + ".figure_png")
def _():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    return Call(fig, compress_level=1, draw=True, palette=False, kinds={"fig": "object"},
                extra={"fig": [None, ax]})


@recipe(W + ".kernel_explorer")
def _():
    return Call(np.random.default_rng(0).random((2, 28, 28)).astype(F32), labels=np.array([1, 2]),
                kernels=None, static=True, kinds={"kernels": "object"}, extra={"kernels": [{}, [np.ones(3)]]})


@recipe(W + ".perceptron.perceptron_frames")
def _():
    return Call("or", lr=1.0, epochs=2, seed=0, kinds={"gate": "text"})


@recipe(W + ".perceptron_stepper")
def _():
    return Call(("or",), lr=1.0, epochs=2, seed=0, static=True, kinds={"gates": "array"})


@recipe(W + ".optimizer_race")
def _():
    return Call(("bowl",), (0.01, 0.1), steps=5, static=True, kinds={"surfaces": "array",
                                                                     "learning_rates": "array"})


@recipe(W + ".race.race")
def _():
    return Call("bowl", lr=0.01, steps=5, kinds={"surface": "text"})


@recipe(W + ".precomputed_widget")
def _():
    from nncourse.widgets import Axis
    from nncourse.widgets.static import figure_png  # noqa: F401
    png = b"\x89PNG\r\n\x1a\n"
    return Call([Axis("lr", [0.1, 0.3])], lambda lr: png, title="t", footer="f",
                kinds={"axes": "object", "render": "object", "title": "text", "footer": "text"},
                extra={"axes": [[], None, "lr"], "render": [None, png]})


@recipe(W + ".static.png_image")
def _():
    return Call(b"\x89PNG\r\n\x1a\n", kinds={"png": "object"}, extra={"png": ["png", None, b""]})


@recipe(W + ".render.nice_limit")
def _():
    return Call(0.37, kinds={"value": "rate"})


@recipe(W + ".mnist_comparison")
def _():
    rows = {(lr, h): 0.9 for lr in (0.01, 0.1) for h in (1, 2)}
    return Call(rows, static=True, kinds={"results": "object"}, extra={"results": [[], None, {"a": 1}]})


def _name_model():
    return _charlm("WindowMLP")


@recipe(W + ".attention.attention_maps_for")
def _():
    return Call(_tagger(), _tokens()[0], kinds={"model": "object"}, extra={"model": [None, _model()]})


@recipe(W + ".attention.draw_attention")
def _():
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=(1, 1), dpi=20)
    return Call(ax, np.full((3, 3), 1 / 3, F32), ["a", "b", "c"], ["x", "y", "z"], title="t",
                kinds={"ax": "object", "weights": "array", "inputs": "array", "outputs": "array"})


@recipe(W + ".attention_explorer")
def _():
    return Call(_tagger(), [_tokens()[0]], static=True, kinds={"model": "object", "sequences": "array"},
                extra={"model": [None, _model()]})


@recipe(W + ".next_char_explorer")
def _():
    return Call({"window": _name_model()}, prefixes=("", "a"), kinds={"models": "object", "prefixes": "array"},
                extra={"models": [{}, None, _name_model()]})


@recipe(W + ".sampling.render_next_char")
def _():
    return Call({"window": _name_model()}, "a", top=5, kinds={"models": "object", "prefix": "text"},
                extra={"models": [{}, None]})


@recipe(W + ".sampling.render_samples")
def _():
    return Call(["anna", "bob"], 0.8, {"anna"}, columns=2, kinds={"names": "array", "temperature": "rate",
                                                                  "known": "object"},
                extra={"known": [None, "anna"]})


@recipe(W + ".sampling.temperature_samples")
def _():
    return Call(_name_model(), (0.5, 1.0), n=3, seed=0, kinds={"model": "object", "temperatures": "array"},
                extra={"model": [None]})


@recipe(W + ".temperature_sampler")
def _():
    return Call(_name_model(), NAMES, temperatures=(0.5, 1.0), n=3, seed=0, static=True, default=1.0,
                kinds={"model": "object", "train_names": "array", "temperatures": "array", "default": "rate"},
                extra={"model": [None]})


@recipe(W + ".sampling_explorer")
def _():
    return Call(models().GPT(27, 8, 8, 2, 1, seed=0), NAMES, n=2, seed=0, temperatures=(1.0,), top_ks=(None, 2),
                prefixes=("", "a"),
                kinds={"model": "object", "known_names": "array", "temperatures": "array", "top_ks": "array",
                       "prefixes": "array"}, extra={"model": [None, _model()]})
