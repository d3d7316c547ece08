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

from .errors import ConfigError, DivergenceError, DTypeError, NonFiniteError, ShapeError
from .numpy_nn.module import Module as NumpyModule

__all__ = ["History", "fit", "evaluate", "predict"]


class History(dict):
    """Per-epoch records of a training run: ``history["loss"][e]`` is the mean training loss of epoch ``e``.

    Keys: ``"loss"``, ``"lr"`` always; ``"accuracy"`` for classification; ``"val_loss"`` and
    ``"val_accuracy"`` when validation data was given. ``epoch_seconds`` holds the wall-clock time of each
    epoch (kept out of the dict because it differs from run to run).
    """

    def __init__(self):
        super().__init__()
        self.epoch_seconds = []

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
        scheduler=None, seed=0, quiet=False):
    """Train ``model`` on ``data = (X, y)`` with mini-batch gradient descent and return its ``History``.

    Works for a ``nncourse.numpy_nn`` model (with a NumPy loss and optimizer) and for a ``torch.nn.Module``
    (with a torch loss and optimizer); ``data`` and ``validation_data`` are NumPy arrays for both.
    The training set is shuffled at the start of every epoch with a generator seeded by ``seed``.
    A progress bar shows the epochs unless ``quiet=True``.

    Raises ``DivergenceError`` as soon as the loss becomes NaN or infinite, naming the epoch and step.
    """
    backend = _backend(model)
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    dtype = _model_dtype(model, backend)
    X, y = _check_data("data", data, dtype)
    if validation_data is not None:
        validation_data = _check_data("validation_data", validation_data, dtype)

    task = _task(loss_fn, y)
    step = _numpy_step if backend == "numpy" else _torch_step
    if backend == "torch":
        import torch

        torch_dtype = getattr(torch, dtype.name) if dtype is not None else torch.float32

    rng = np.random.default_rng(seed)
    n = len(X)
    batches_per_epoch = math.ceil(n / batch_size)
    history = History()
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
    if bar is not None:
        bar.close()
    return history


def _diverged(what, epoch, batch, batches_per_epoch, lr):
    step = (epoch - 1) * batches_per_epoch + batch
    return DivergenceError(
        f"Training diverged: {what} at epoch {epoch}, step {step} (batch {batch} of {batches_per_epoch}). "
        f"The learning rate {lr:g} is probably too large: try {lr / 10:g}."
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
    X = np.asarray(X)
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


def evaluate(model, loss_fn, X, y, *, batch_size=1024):
    """``(loss, accuracy)`` of ``model`` on ``(X, y)``; accuracy is ``None`` for regression losses."""
    backend = _backend(model)
    output = predict(model, X, batch_size=batch_size)
    if backend == "numpy":
        loss = loss_fn(output, y)
    else:
        import torch

        with torch.no_grad():
            loss = loss_fn(torch.from_numpy(output), _to_torch(y, torch.from_numpy(output).dtype)).item()
    task = _task(loss_fn, y)
    accuracy = None if task == "regression" else _count_correct(output, y, task, loss_fn) / len(y)
    return float(loss), accuracy
