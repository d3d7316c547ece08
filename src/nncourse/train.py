"""One training loop for both back ends.

``fit`` trains a ``nncourse.numpy_nn`` model or a ``torch.nn.Module`` the same way:

    for each epoch:
        shuffle the training set (seeded)
        for each mini-batch:
            output = model(X_batch)                # forward pass
            loss   = loss_fn(output, y_batch)      # how wrong are we?
            optimizer.zero_grad()                  # forget the last batch's gradients
            backward pass                          # NumPy: model.backward(loss_fn.backward())
                                                   # torch: loss.backward()
            optimizer.step()                       # move every parameter a little downhill
        scheduler.step()                           # (optional) adjust the learning rate

Both back ends see exactly the same batches in the same order for the same ``seed``, so a NumPy model and
its torch twin (``nncourse.torch_nn.from_numpy``) follow the same trajectory, number for number.
"""

import math
import time
from numbers import Integral

import numpy as np

from .errors import ConfigError, DivergenceError, DTypeError, NonFiniteError, ShapeError, TargetError
from .numpy_nn.module import Module as NumpyModule
from .utils import as_rng

__all__ = ["History", "fit", "evaluate", "predict", "DIVERGENCE_FACTOR"]

#: ``fit`` calls a run diverged when the loss becomes NaN/inf, or when an epoch's mean training loss
#: exceeds DIVERGENCE_FACTOR times the *reference loss*: the larger of the loss of the model on the
#: training set when ``fit`` starts and the loss of a know-nothing guess (uniform probabilities: log C
#: for cross-entropy, log 2 for binary cross-entropy; always predicting the mean of y for MSELoss, the
#: median of y for L1Loss).
#: The playground (``nncourse.widgets``) uses the same factor on the same starting loss.
DIVERGENCE_FACTOR = 10.0


class History(dict):
    """Per-epoch records of a training run: ``history["loss"][e]`` is the mean training loss of epoch ``e``.

    Keys: ``"loss"``, ``"lr"`` always; ``"accuracy"`` for classification; ``"val_loss"`` and
    ``"val_accuracy"`` when validation data was given. ``epoch_seconds`` holds the wall-clock time of each
    epoch (kept out of the dict because it differs from run to run).

    Early stopping (``fit(..., validation_data=..., patience=k, restore_best=True)``) fills two attributes,
    counted from 1 like the progress bar: ``best_epoch``, the epoch with the lowest validation loss
    (``history["val_loss"][history.best_epoch - 1]``; None without validation data), and
    ``stopped_epoch``, the epoch after which ``patience`` stopped the run (None if it ran to the end).
    """

    def __init__(self):
        super().__init__()
        self.epoch_seconds = []
        self.best_epoch = None
        self.stopped_epoch = None

    @property
    def epochs(self):
        """How many epochs were recorded."""
        return len(self.get("loss", []))

    def record(self, **values):
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        last = ", ".join(f"{key}={values[-1]:.4g}" for key, values in self.items())
        return f"History({self.epochs} epochs; last: {last})"


# --- which back end? -------------------------------------------------------------------------------------

def _backend(model):
    if isinstance(model, NumpyModule):
        return "numpy"
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a requirement of the course
        torch = None
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    if isinstance(model, type):
        raise ConfigError(
            f"fit() trains an nncourse.numpy_nn model or a torch.nn.Module, got the class "
            f"{model.__name__} itself: build the model first (with brackets), e.g. model = mlp([2, 8, 2])"
        )
    raise ConfigError(
        f"fit() trains an nncourse.numpy_nn model or a torch.nn.Module, got {type(model).__name__}"
    )


def _model_dtype(model, backend):
    """The floating dtype of the model's parameters, as a NumPy dtype (None for a model without any)."""
    for p in model.parameters():
        if backend == "numpy":
            return np.dtype(p.data.dtype)
        return np.dtype(str(p.dtype).replace("torch.", ""))
    return None


# --- checking the arguments ------------------------------------------------------------------------------

def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")


def _check_data(name, data, model_dtype):
    """``data`` must be a pair ``(X, y)`` of NumPy arrays with as many rows as each other."""
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
    if model_dtype is not None and X.dtype != model_dtype:
        raise DTypeError(
            f"{name}: X is {X.dtype} but the model's parameters are {model_dtype}; "
            f"convert with X.astype(np.{model_dtype.name})"
        )
    return X, y


def _is_torch_object(obj):
    """True for torch's own objects and subclasses of them (a torch optimizer, a torch loss)."""
    return any(cls.__module__.split(".")[0] == "torch" for cls in type(obj).__mro__)


def _check_loss_fn(loss_fn, backend):
    """An *instance* of a loss of the model's back end."""
    if isinstance(loss_fn, type):
        raise ConfigError(
            f"loss_fn must be a loss object, got the class {loss_fn.__name__} itself: add the brackets, "
            f"fit(model, {loss_fn.__name__}(), optimizer, ...)"
        )
    if not callable(loss_fn):
        raise ConfigError(f"loss_fn must be a loss such as CrossEntropyLoss(), got {type(loss_fn).__name__}")
    if backend == "numpy" and (_is_torch_object(loss_fn) or not callable(getattr(loss_fn, "backward", None))):
        raise ConfigError(
            f"a numpy_nn model needs a numpy_nn loss (fit calls loss_fn.backward()), got "
            f"{type(loss_fn).__module__}.{type(loss_fn).__name__}: use e.g. nncourse.numpy_nn.CrossEntropyLoss()"
        )
    if backend == "torch" and isinstance(loss_fn, NumpyModule):
        raise ConfigError(
            f"a torch model needs a torch loss, got numpy_nn.{type(loss_fn).__name__}: use "
            f"torch.nn.{type(loss_fn).__name__}()"
        )


def _optimizer_parameters(optimizer):
    return [p for group in optimizer.param_groups for p in group["params"]]


def _check_optimizer(optimizer, model, backend):
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
    if (backend == "torch") != _is_torch_object(optimizer):
        wanted = "torch.optim" if backend == "torch" else "nncourse.numpy_nn"
        raise ConfigError(
            f"a {backend} model needs a {wanted} optimizer, got {type(optimizer).__module__}."
            f"{type(optimizer).__name__}: build it with {wanted}.{type(optimizer).__name__}(model.parameters(), ...)"
        )
    own = {id(p) for p in model.parameters()}
    foreign = [p for p in _optimizer_parameters(optimizer) if id(p) not in own]
    if foreign:
        total = len(_optimizer_parameters(optimizer))
        raise ConfigError(
            f"the optimizer holds {len(foreign)} of its {total} parameters that are not in this model, so "
            f"fit would train nothing (or another model). This happens when the model is built again (a "
            f"notebook cell re-run) but the optimizer is not: build the optimizer on model.parameters() "
            f"after building the model."
        )


def _check_scheduler(scheduler, optimizer):
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


def _check_targets(name, task, shape, y, loss_fn):
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
        low, high = int(y.min()), int(y.max())
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
                             f"{loss_name} needs them equal{hint}")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise NonFiniteError(f"{name}: y contains NaN or infinite values; clean the data before training")
        if task == "binary" and (y.min() < 0 or y.max() > 1):
            raise TargetError(f"{name}: {loss_name} needs targets in [0, 1], got values from {y.min():g} to "
                              f"{y.max():g}")


def _know_nothing_loss(task, loss_fn, output, y):
    """The loss of a model that has learned nothing: uniform probabilities, or the best constant."""
    name = type(loss_fn).__name__
    if task == "multiclass":
        return math.log(output.shape[1])
    if task == "binary":
        return math.log(2.0)
    y = np.asarray(y, dtype=np.float64)
    if name == "MSELoss":
        return float(np.mean((y - y.mean(axis=0)) ** 2))
    if name == "L1Loss":
        return float(np.mean(np.abs(y - np.median(y, axis=0))))
    return 0.0


# --- accuracy from a batch of outputs --------------------------------------------------------------------

def _task(loss_fn, y):
    """'multiclass', 'binary' or 'regression': decides whether and how accuracy is counted."""
    name = type(loss_fn).__name__
    if name in ("CrossEntropyLoss", "NLLLoss"):
        return "multiclass"
    if name in ("BCELoss", "BCEWithLogitsLoss"):
        return "binary"
    return "regression"


def _count_correct(output, y, task, loss_fn):
    """How many rows of a batch the model classifies correctly."""
    if task == "multiclass":
        return int((output.argmax(axis=1) == y).sum())
    if task == "binary":
        threshold = 0.0 if type(loss_fn).__name__ == "BCEWithLogitsLoss" else 0.5
        return int(((output > threshold) == (y > 0.5)).sum())
    return 0


# --- one step of each back end ---------------------------------------------------------------------------

def _numpy_step(model, loss_fn, optimizer, X, y):
    # Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        output = model(X)
        loss = loss_fn(output, y)
        optimizer.zero_grad()
        grad = loss_fn.backward()
        if model.can_skip_input_grad:
            # The data is not learned, so d loss / d X is not needed: skipping it saves the largest
            # matrix product of the backward pass (torch's autograd skips it too).
            model.backward(grad, need_input_grad=False)
        else:
            model.backward(grad)
        optimizer.step()
    return loss, output


def _torch_step(model, loss_fn, optimizer, X, y):
    output = model(X)
    loss = loss_fn(output, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), output.detach().numpy()


def _to_torch(array, float_dtype):
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.is_floating_point():
        return tensor.to(float_dtype)
    return tensor.long()


def _current_lr(optimizer):
    return float(optimizer.param_groups[0]["lr"])


# --- the loop ----------------------------------------------------------------------------------------------

def fit(model, loss_fn, optimizer, data, *, epochs=10, batch_size=32, validation_data=None,
        scheduler=None, seed=0, quiet=False, patience=None, restore_best=False):
    """Train ``model`` on ``data = (X, y)`` with mini-batch gradient descent and return its ``History``.

    Works for a ``nncourse.numpy_nn`` model (with a NumPy loss and optimizer) and for a ``torch.nn.Module``
    (with a torch loss and optimizer); ``data`` and ``validation_data`` are NumPy arrays for both.
    The training set is shuffled at the start of every epoch with a generator seeded by ``seed``.
    A progress bar shows the epochs unless ``quiet=True``.

    Early stopping: with ``patience=k`` training stops once the validation loss has not improved (become
    strictly lower) for ``k`` epochs in a row; ``restore_best=True`` puts back, at the end, the weights of
    the epoch with the lowest validation loss (with or without ``patience``). Both need
    ``validation_data``. ``History.best_epoch`` and ``History.stopped_epoch`` say what happened.

    Raises ``DivergenceError`` as soon as the loss becomes NaN or infinite, naming the epoch and step.
    """
    backend = _backend(model)
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    _check_early_stopping(patience, restore_best, validation_data)
    dtype = _model_dtype(model, backend)
    X, y = _check_data("data", data, dtype)
    if validation_data is not None:
        validation_data = _check_data("validation_data", validation_data, dtype)

    _check_loss_fn(loss_fn, backend)
    _check_optimizer(optimizer, model, backend)
    _check_scheduler(scheduler, optimizer)
    task = _task(loss_fn, y)
    reference = _reference_loss(model, loss_fn, task, backend, X, y, validation_data)
    step = _numpy_step if backend == "numpy" else _torch_step
    if backend == "torch":
        import torch

        torch_dtype = getattr(torch, dtype.name) if dtype is not None else torch.float32

    rng = as_rng(seed)
    n = len(X)
    batches_per_epoch = math.ceil(n / batch_size)
    history = History()
    best_loss, since_best, best_state = math.inf, 0, None
    bar = _progress(epochs, quiet)
    model.train()
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = _current_lr(optimizer)
        order = rng.permutation(n)
        loss_sum, correct = 0.0, 0
        for batch, start in enumerate(range(0, n, batch_size), 1):
            rows = order[start:start + batch_size]
            Xb, yb = X[rows], y[rows]
            try:
                if backend == "torch":
                    loss, output = step(model, loss_fn, optimizer, _to_torch(Xb, torch_dtype),
                                        _to_torch(yb, torch_dtype))
                else:
                    loss, output = step(model, loss_fn, optimizer, Xb, yb)
            except NonFiniteError as error:
                # The data was checked above, so a NaN inside the network means the weights blew up.
                raise _diverged("a layer received NaN or infinite values", epoch, batch,
                                batches_per_epoch, lr) from error
            if not math.isfinite(loss):
                raise _diverged(f"the loss became {loss}", epoch, batch, batches_per_epoch, lr)
            loss_sum += loss * len(rows)
            correct += _count_correct(output, yb, task, loss_fn)
        if not _parameters_finite(model, backend):
            raise _diverged("a weight became NaN or infinite", epoch, batch, batches_per_epoch, lr)
        if reference > 0 and loss_sum / n > DIVERGENCE_FACTOR * reference:
            raise _diverged(f"the mean training loss of epoch {epoch}, {loss_sum / n:.2g}, grew above "
                            f"{DIVERGENCE_FACTOR:g}x the reference loss {reference:.3g}",
                            epoch, batch, batches_per_epoch, lr)
        if scheduler is not None:
            scheduler.step()

        record = {"loss": loss_sum / n}
        if task != "regression":
            record["accuracy"] = correct / n
        if validation_data is not None:
            with np.errstate(over="ignore", invalid="ignore"):   # a blow-up is reported, not warned
                val_loss, val_accuracy = evaluate(model, loss_fn, *validation_data)
            record["val_loss"] = val_loss
            if val_accuracy is not None:
                record["val_accuracy"] = val_accuracy
        record["lr"] = lr
        history.record(**record)
        history.epoch_seconds.append(time.perf_counter() - started)
        if bar is not None:
            bar.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "lr"}, refresh=False)
            bar.update(1)
        if validation_data is not None:
            if record["val_loss"] < best_loss:          # strictly lower; a NaN never improves
                best_loss, since_best, history.best_epoch = record["val_loss"], 0, epoch
                if restore_best:
                    best_state = _copy_weights(model, backend)
            else:
                since_best += 1
            if patience is not None and since_best >= patience and epoch < epochs:
                history.stopped_epoch = epoch
                break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _check_early_stopping(patience, restore_best, validation_data):
    if patience is not None:
        _check_positive_int("patience", patience)
    if not isinstance(restore_best, (bool, np.bool_)):
        raise ConfigError(f"fit: restore_best must be True or False, got {restore_best!r}")
    if validation_data is None and (patience is not None or restore_best):
        option = f"patience={patience}" if patience is not None else "restore_best=True"
        raise ConfigError(
            f"fit: {option} watches the validation loss, but no validation_data was given: pass "
            f"validation_data=(X_val, y_val) (a held-out part of the data), or drop {option}"
        )


def _copy_weights(model, backend):
    """A copy of the model's weights that later training steps do not change."""
    if backend == "numpy":
        return model.state_dict()                   # already a copy
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _reference_loss(model, loss_fn, task, backend, X, y, validation_data):
    """Check the targets against the untrained model's output, and return the reference loss of the
    divergence rule: max(loss on the training set before training, loss of a know-nothing guess).

    Runs the model once over X in evaluation mode (no dropout, so no random numbers are drawn and the
    training run is exactly what it would be without this check).
    """
    if not _parameters_finite(model, backend):
        raise NonFiniteError(
            "the model's weights already contain NaN or infinite values (did an earlier run diverge?): "
            "build a new model (and its optimizer) before calling fit again"
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        output = predict(model, X)
        shape = output.shape
        _check_targets("data", task, shape, y, loss_fn)
        if validation_data is not None:
            X_val, y_val = validation_data
            _check_targets("validation_data", task, (len(X_val),) + shape[1:], y_val, loss_fn)
        if backend == "numpy":
            start = loss_fn(output, y)
        else:
            import torch

            with torch.no_grad():
                out = torch.from_numpy(output)
                start = float(loss_fn(out, _to_torch(y, out.dtype)).item())
    baseline = _know_nothing_loss(task, loss_fn, output, y)
    return max(start, baseline) if math.isfinite(start) else baseline


def _diverged(what, epoch, batch, batches_per_epoch, lr):
    step = (epoch - 1) * batches_per_epoch + batch
    return DivergenceError(
        f"Training diverged: {what} at epoch {epoch}, step {step} (batch {batch} of {batches_per_epoch}). "
        f"The learning rate {lr:g} is probably too large: try {lr / 10:g}. (fit stops a run when the loss "
        f"becomes NaN or infinite, or when an epoch's mean training loss exceeds {DIVERGENCE_FACTOR:g}x the "
        f"reference: the larger of the loss before training and that of a know-nothing guess.)"
    )


def _parameters_finite(model, backend):
    if backend == "numpy":
        return all(np.isfinite(p.data).all() for p in model.parameters())
    return all(bool(p.detach().isfinite().all()) for p in model.parameters())


def _progress(epochs, quiet):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=epochs, unit="epoch", desc="training")


# --- using a trained model ---------------------------------------------------------------------------------

def predict(model, X, *, batch_size=1024):
    """The model's outputs for ``X`` (a NumPy array), in evaluation mode, as a NumPy array."""
    backend = _backend(model)
    X = _check_inputs(model, backend, X)
    was_training = model.training
    model.eval()
    try:
        if backend == "numpy":
            outputs = [model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        else:
            import torch

            dtype = _model_dtype(model, backend)
            torch_dtype = getattr(torch, dtype.name) if dtype is not None else torch.float32
            with torch.no_grad():
                outputs = [model(_to_torch(X[i:i + batch_size], torch_dtype)).numpy()
                           for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)


def _check_inputs(model, backend, X):
    """What ``predict`` accepts: a non-empty numeric array; for a torch model also the right width
    (torch's own message, "mat1 and mat2 shapes cannot be multiplied", does not say which is wrong)."""
    if _is_torch_object(X):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
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


def evaluate(model, loss_fn, X, y, *, batch_size=1024):
    """``(loss, accuracy)`` of ``model`` on ``(X, y)``; accuracy is ``None`` for regression losses."""
    backend = _backend(model)
    _check_loss_fn(loss_fn, backend)
    if len(np.asarray(y)) != len(np.asarray(X)):
        raise ShapeError(f"evaluate: X has {len(np.asarray(X))} rows but y has {len(np.asarray(y))}; they must match")
    output = predict(model, X, batch_size=batch_size)
    y = np.asarray(y)
    _check_targets("evaluate", _task(loss_fn, y), output.shape, y, loss_fn)
    if backend == "numpy":
        loss = loss_fn(output, y)
    else:
        import torch

        with torch.no_grad():
            loss = loss_fn(torch.from_numpy(output), _to_torch(y, torch.from_numpy(output).dtype)).item()
    task = _task(loss_fn, y)
    accuracy = None if task == "regression" else _count_correct(output, y, task, loss_fn) / len(y)
    return float(loss), accuracy
