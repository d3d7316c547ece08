"""Pre-flight checks of ``fit``, ``evaluate`` and ``predict``: every mistake a learner makes with the
arguments gets a clear error before the first step, naming the problem and the fix.
"""

import math
from numbers import Integral

import numpy as np

from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError, TargetError
from ..numpy_nn.module import Module as NumpyModule
from ..validation import as_array, boolean
from .backend import is_torch_object

__all__ = ["check_positive_int", "check_data", "check_loss_fn", "check_optimizer", "check_scheduler",
           "check_targets", "know_nothing_loss", "task", "check_inputs", "check_early_stopping", "reads_tokens"]


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")


def reads_tokens(model):
    """True if the model's first layer with weights is an embedding: it reads integer token ids."""
    for module in model.modules():
        own = module._parameters.values() if isinstance(module, NumpyModule) else module.parameters(recurse=False)
        if any(p is not None for p in own):
            return type(module).__name__ == "Embedding"
    return False


def check_data(name, data, model_dtype, *, tokens=False):
    """``data`` must be a pair ``(X, y)`` of NumPy arrays with as many rows as each other.

    ``tokens``: the model starts with an embedding, so X holds integer token ids, not float features.
    """
    tokens = boolean(tokens, "tokens", "check_data")
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ConfigError(f"{name} must be a pair (X, y) of NumPy arrays, got {type(data).__name__}")
    X, y = (np.asarray(a) for a in data)
    if X.ndim < 2:
        raise ShapeError(
            f"{name}: X must have shape (samples, features) or, for images, (samples, channels, height, "
            f"width), got shape {X.shape}: a single feature needs X.reshape(-1, 1)"
        )
    if len(X) == 0:
        raise ShapeError(f"{name} is empty: X has shape {X.shape}")
    if len(y) != len(X):
        raise ShapeError(f"{name}: X has {len(X)} rows but y has {len(y)}; they must match")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise NonFiniteError(f"{name}: X contains NaN or infinite values; clean the data before training")
    if tokens:
        if X.dtype.kind not in "iu":
            raise DTypeError(f"{name}: the model starts with an Embedding, so X must hold integer token ids, got "
                             f"dtype {X.dtype}: encode the text as ids (e.g. VOCAB.encode) or use X.astype(np.int64)")
        return X, y
    if model_dtype is not None and X.dtype != model_dtype:
        raise DTypeError(
            f"{name}: X is {X.dtype} but the model's parameters are {model_dtype}; "
            f"convert with X.astype(np.{model_dtype.name})"
        )
    return X, y


def check_loss_fn(loss_fn, backend):
    """An *instance* of a loss of the model's back end."""
    if isinstance(loss_fn, type):
        raise ConfigError(
            f"loss_fn must be a loss object, got the class {loss_fn.__name__} itself: add the brackets, "
            f"fit(model, {loss_fn.__name__}(), optimizer, ...)"
        )
    if not callable(loss_fn):
        raise ConfigError(f"loss_fn must be a loss such as CrossEntropyLoss(), got {type(loss_fn).__name__}")
    if backend == "numpy" and (is_torch_object(loss_fn) or not callable(getattr(loss_fn, "backward", None))):
        raise ConfigError(
            f"a numpy_nn model needs a numpy_nn loss (fit calls loss_fn.backward()), got "
            f"{type(loss_fn).__module__}.{type(loss_fn).__name__}: use e.g. nncourse.numpy_nn.CrossEntropyLoss()"
        )
    if backend == "torch" and isinstance(loss_fn, NumpyModule):
        raise ConfigError(
            f"a torch model needs a torch loss, got numpy_nn.{type(loss_fn).__name__}: use "
            f"torch.nn.{type(loss_fn).__name__}()"
        )


def optimizer_parameters(optimizer):
    return [p for group in optimizer.param_groups for p in group["params"]]


def check_optimizer(optimizer, model, backend):
    """An optimizer of the model's back end, holding (some of) *this* model's parameters and nothing else."""
    if isinstance(optimizer, type):
        raise ConfigError(
            f"optimizer must be an optimizer object, got the class {optimizer.__name__} itself: build it on "
            f"the model's parameters, e.g. {optimizer.__name__}(model.parameters(), lr=0.1)"
        )
    groups = getattr(optimizer, "param_groups", None)
    if not (isinstance(groups, list) and all(isinstance(g, dict) and "params" in g for g in groups)
            and callable(getattr(optimizer, "step", None))):
        raise ConfigError(
            f"optimizer must be an optimizer such as SGD(model.parameters(), lr=0.1), got "
            f"{type(optimizer).__name__}"
        )
    if (backend == "torch") != is_torch_object(optimizer):
        wanted = "torch.optim" if backend == "torch" else "nncourse.numpy_nn"
        raise ConfigError(
            f"a {backend} model needs a {wanted} optimizer, got {type(optimizer).__module__}."
            f"{type(optimizer).__name__}: build it with {wanted}.{type(optimizer).__name__}(model.parameters(), ...)"
        )
    own = {id(p) for p in model.parameters()}
    foreign = [p for p in optimizer_parameters(optimizer) if id(p) not in own]
    if foreign:
        total = len(optimizer_parameters(optimizer))
        raise ConfigError(
            f"the optimizer holds {len(foreign)} of its {total} parameters that are not in this model, so "
            f"fit would train nothing (or another model). This happens when the model is built again (a "
            f"notebook cell re-run) but the optimizer is not: build the optimizer on model.parameters() "
            f"after building the model."
        )


def check_scheduler(scheduler, optimizer):
    if scheduler is None:
        return
    if isinstance(scheduler, type):
        raise ConfigError(
            f"scheduler must be a scheduler object, got the class {scheduler.__name__} itself: build it on "
            f"the optimizer, e.g. {scheduler.__name__}(optimizer, ...)"
        )
    if not callable(getattr(scheduler, "step", None)):
        raise ConfigError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ConfigError(
            "the scheduler was built on another optimizer than the one passed to fit, so it would change "
            "the wrong learning rate: build the scheduler on this optimizer, scheduler = "
            f"{type(scheduler).__name__}(optimizer, ...)"
        )


def check_targets(name, task, shape, y, loss_fn):
    """``y`` must suit the loss and the model's output (checked once, with a message, before training).

    The torch back end would otherwise fail deep inside torch ("Target 10 is out of bounds",
    "expected scalar type Long") or, for some shapes, broadcast silently.
    """
    loss_name = type(loss_fn).__name__
    if task == "multiclass":
        if len(shape) != 2:
            raise ShapeError(f"{loss_name} needs model outputs of shape (batch, classes), the model gives {shape}")
        classes = shape[1]
        if y.ndim != 1:
            hint = ": flatten it with y.ravel()" if y.size == len(y) else (
                ": it looks one-hot encoded; pass class indices y.argmax(axis=1)" if y.ndim == 2 else "")
            raise TargetError(f"{name}: {loss_name} needs one class index per example, y of shape ({len(y)},); "
                              f"got {y.shape}{hint}")
        if y.dtype.kind not in "iu":
            raise TargetError(f"{name}: {loss_name} needs integer class indices, got y of dtype {y.dtype}: "
                              f"convert with y.astype(np.int64)")
        ignored = getattr(loss_fn, "ignore_index", None)            # padding (-100) is no class
        real = y if ignored is None else y[y != ignored]
        if real.size == 0:
            return
        low, high = int(real.min()), int(real.max())
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise TargetError(
                f"{name}: y holds the class {bad}, but the model has {classes} outputs, so classes must be "
                f"0..{classes - 1}. Give the last layer as many outputs as there are classes "
                f"(e.g. {high + 1}), or relabel y to 0..{classes - 1}."
            )
    elif task == "binary" or loss_name in ("MSELoss", "L1Loss"):
        if y.shape != shape:
            hint = f": reshape it with y.reshape{shape}" if y.size == math.prod(shape) else ""
            raise ShapeError(f"{name}: the model's output has shape {shape} but y has shape {y.shape}; "
                             f"{loss_name} (the loss_fn) needs them equal{hint}")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise NonFiniteError(f"{name}: y contains NaN or infinite values; clean the data before training")
        if task == "binary" and (y.min() < 0 or y.max() > 1):
            raise TargetError(f"{name}: {loss_name} needs targets in [0, 1], got values from {y.min():g} to "
                              f"{y.max():g}")


def know_nothing_loss(task, loss_fn, output, y):
    """The loss of a model that has learned nothing: uniform probabilities, or the best constant."""
    name = type(loss_fn).__name__
    if task == "multiclass":
        return math.log(output.shape[-1])
    if task == "binary":
        return math.log(2.0)
    y = np.asarray(y, dtype=np.float64)
    if name == "MSELoss":
        return float(np.mean((y - y.mean(axis=0)) ** 2))
    if name == "L1Loss":
        return float(np.mean(np.abs(y - np.median(y, axis=0))))
    return 0.0


def task(loss_fn, y):
    """'multiclass', 'binary' or 'regression': decides whether and how accuracy is counted."""
    name = type(loss_fn).__name__
    if name in ("CrossEntropyLoss", "NLLLoss"):
        return "multiclass"
    if name in ("BCELoss", "BCEWithLogitsLoss"):
        return "binary"
    return "regression"


def check_inputs(model, backend, X):
    """What ``predict`` accepts: a non-empty numeric array; for a torch model also the right width
    (torch's own message, "mat1 and mat2 shapes cannot be multiplied", does not say which is wrong)."""
    if is_torch_object(X):
        X = X.detach().cpu().numpy()
    try:
        X = np.asarray(X)
    except (ValueError, TypeError):
        as_array(X, "X", "predict")                 # a ragged list: the message that names X
        raise
    if X.dtype.kind not in "fiub":
        raise DTypeError(f"predict needs a numeric array X, got dtype {X.dtype}")
    if X.ndim == 0 or len(X) == 0:
        raise ShapeError(f"predict got no examples (X has shape {X.shape}): pass an array with at least one row, "
                         f"shaped (examples, features)")
    if backend == "torch":
        # the first module that owns parameters decides what the input must look like
        first = next((m for m in model.modules() if next(m.parameters(recurse=False), None) is not None), None)
        if not (hasattr(first, "in_features") or hasattr(first, "in_channels")):
            return X                               # an embedding, a recurrent layer...: torch checks
        if hasattr(first, "in_channels"):          # a convolutional network: images (N, C, H, W)
            if X.ndim != 4 or X.shape[1] != first.in_channels:
                raise ShapeError(f"predict: the model's first layer ({type(first).__name__}) expects images shaped "
                                 f"(examples, {first.in_channels}, height, width), got X of shape {X.shape}"
                                 + (": channels-last images? use X.transpose(0, 3, 1, 2)"
                                    if X.ndim == 4 and X.shape[-1] == first.in_channels else ""))
            return X
        if X.ndim != 2:
            raise ShapeError(f"predict: X must have shape (examples, features), got {X.shape}"
                             + (": flatten images first with X.reshape(len(X), -1)" if X.ndim > 2 else "")
                             + (": a single example needs a batch dimension, X.reshape(1, -1)" if X.ndim == 1 else ""))
        if first is not None and X.shape[1] != first.in_features:
            raise ShapeError(f"predict: X has {X.shape[1]} features per example but the model's first layer "
                             f"({type(first).__name__}) expects {first.in_features}: check X, or the model's "
                             f"in_features")
    return X


def check_early_stopping(patience, restore_best, validation_data):
    if patience is not None:
        check_positive_int("patience", patience)
    boolean(restore_best, "restore_best", "fit")
    if validation_data is None and (patience is not None or restore_best):
        option = f"patience={patience}" if patience is not None else "restore_best=True"
        raise ConfigError(
            f"fit: {option} watches the validation loss, but no validation_data was given: pass "
            f"validation_data=(X_val, y_val) (a held-out part of the data), or drop {option}"
        )


