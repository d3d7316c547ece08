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
            (clip the gradient)                    # optional: clip=max_norm
            optimizer.step()                       # move every parameter a little downhill
            (scheduler.step())                     # optional, per step with scheduler_step="step"
        scheduler.step()                           # optional, per epoch (the default)

Both back ends see exactly the same batches in the same order for the same ``seed``, so a NumPy model and
its torch twin (``nncourse.torch_nn.from_numpy``) follow the same trajectory, number for number.

The course's other training helpers (``train_lm``, ``train_gpt``, ``train_tagger``, the playground) are
thin wrappers over ``fit``: they pass their own ``batches`` (padded names, an endless stream), ``steps``,
``clip`` or callbacks, and share its divergence rule (``divergence.py``) and progress bar.
"""

import math
import numbers
import time

import numpy as np

from ..errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from ..validation import as_array, boolean, positive_float
from ..utils import as_rng
from . import backend as back
from .checks import (check_data, check_early_stopping, check_inputs, check_loss_fn, check_optimizer,
                     check_positive_int, check_scheduler, check_targets, know_nothing_loss, reads_tokens, task)
from .divergence import DIVERGENCE_FACTOR, divergence_error, is_diverged, reference_loss
from .history import History
from .progress import progress_bar

__all__ = ["History", "fit", "evaluate", "predict", "DIVERGENCE_FACTOR"]


def _count_correct(output, y, kind, loss_fn):
    """How many rows (or positions, for sequences) of a batch the model classifies correctly."""
    if kind == "multiclass":
        return int((output.argmax(axis=-1) == y).sum())
    if kind == "binary":
        threshold = 0.0 if type(loss_fn).__name__ == "BCEWithLogitsLoss" else 0.5
        return int(((output > threshold) == (y > 0.5)).sum())
    return 0


def _current_lr(optimizer):
    return float(optimizer.param_groups[0]["lr"])


def _array_batches(X, y, batch_size):
    """The default batches: the rows of (X, y) reshuffled every epoch by the run's generator."""
    n = len(X)

    def batches(rng):
        order = rng.permutation(n)
        return [(X[rows], y[rows]) for rows in (order[start:start + batch_size] for start in range(0, n, batch_size))]
    return batches


def fit(model, loss_fn, optimizer, data=None, *, epochs=10, batch_size=32, validation_data=None,
        scheduler=None, seed=0, quiet=False, patience=None, restore_best=False,
        batches=None, steps=None, clip=None, scheduler_step="epoch", on_step=None, on_epoch=None,
        who="fit"):
    """Train ``model`` on ``data = (X, y)`` with mini-batch gradient descent and return its ``History``.

    Works for a ``nncourse.numpy_nn`` model (with a NumPy loss and optimizer) and for a ``torch.nn.Module``
    (with a torch loss and optimizer); ``data`` and ``validation_data`` are NumPy arrays for both.
    The training set is shuffled at the start of every epoch with a generator seeded by ``seed``.
    A progress bar shows the epochs unless ``quiet=True``. Sequence models work too: outputs
    (batch, time, classes) and targets (batch, time) are flattened for the loss, and targets equal to
    the loss's ``ignore_index`` (-100, the padding) count for nothing.

    Early stopping: with ``patience=k`` training stops once the validation loss has not improved (become
    strictly lower) for ``k`` epochs in a row; ``restore_best=True`` puts back, at the end, the weights of
    the epoch with the lowest validation loss (with or without ``patience``). Both need
    ``validation_data``. ``History.best_epoch`` and ``History.stopped_epoch`` say what happened.

    For the course's other helpers: ``batches`` replaces ``data`` by a function ``batches(rng)`` returning
    one epoch of ``(inputs, targets)`` NumPy pairs, or by an endless iterator of pairs (then ``steps``
    is required and an "epoch" is a ``period`` of steps); ``steps`` ends the run after that many steps;
    ``clip`` clips the gradient norm; ``scheduler_step="step"`` steps the scheduler after every step;
    ``on_step(step, loss, grad_norm)`` is called after each step and ``on_epoch(epoch, history)`` after
    each epoch (returning True stops the run); ``who`` is the helper's name in error messages.

    Raises ``DivergenceError`` as soon as the loss becomes NaN or infinite, or an epoch's mean training
    loss exceeds ``DIVERGENCE_FACTOR`` x the reference loss, naming the epoch and step.
    """
    backend = back.backend_of(model, who)
    quiet = boolean(quiet, "quiet", who)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    quiet = boolean(quiet, "quiet", who)
    if clip is not None:
        positive_float(clip, "clip", who)
    for name, hook in (("on_step", on_step), ("on_epoch", on_epoch)):
        if hook is not None and not callable(hook):
            raise ConfigError(f"{who}: {name} must be a function (or None), got {type(hook).__name__} {hook!r:.40}")
    if steps is not None:
        check_positive_int("steps", steps)
    if scheduler_step not in ("epoch", "step"):
        raise ConfigError(f"{who}: scheduler_step must be 'epoch' or 'step', got {scheduler_step!r}")
    check_early_stopping(patience, restore_best, validation_data)
    dtype = back.model_dtype(model, backend)
    tokens = reads_tokens(model)
    check_loss_fn(loss_fn, backend)
    check_optimizer(optimizer, model, backend)
    check_scheduler(scheduler, optimizer)
    if validation_data is not None:
        validation_data = check_data("validation_data", validation_data, dtype, tokens=tokens)
        _check_validation_fits(model, validation_data, who)

    if batches is None:
        if data is None:
            raise ConfigError(f"{who}: pass the training data as data=(X, y)")
        X, y = check_data("data", data, dtype, tokens=tokens)
        kind = task(loss_fn, y)
        reference = _reference_loss(model, loss_fn, kind, backend, X, y, validation_data, who=who)
        epoch_batches, endless = _array_batches(X, y, batch_size), None
        batches_per_epoch = math.ceil(len(X) / batch_size)
    else:
        kind, reference = task(loss_fn, None), None        # the reference: measured on the first batch
        if callable(batches) and not hasattr(batches, "__next__"):
            epoch_batches, endless, batches_per_epoch = batches, None, None
        elif hasattr(batches, "__next__"):
            if steps is None:
                raise ConfigError(f"{who}: an endless stream of batches needs steps=<how many steps to train>")
            epoch_batches, endless = None, batches
            batches_per_epoch = _period(steps)
            epochs = math.ceil(steps / batches_per_epoch)
        else:
            raise ConfigError(f"{who}: batches must be a function of the generator returning one epoch of "
                              f"(inputs, targets) pairs, or an iterator of pairs; got {type(batches).__name__}")
    torch_dtype = back.torch_float_dtype(dtype) if backend == "torch" else None

    rng = as_rng(seed)
    history = History()
    best_loss, since_best, best_state = math.inf, 0, None
    step = 0
    bar = progress_bar(epochs, quiet)
    model.train()
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = _current_lr(optimizer)
        loss_sum, correct, seen, counted = 0.0, 0, 0, 0
        epoch_pairs = epoch_batches(rng) if endless is None else _take(endless, batches_per_epoch, steps - step, who)
        for inputs, targets in epoch_pairs:
            if steps is not None and step >= steps:
                break
            step += 1
            try:
                if backend == "torch":
                    loss, output, norm = back.train_step(model, loss_fn, optimizer, back.to_torch(inputs, torch_dtype),
                                                         back.to_torch(targets, torch_dtype), backend=backend,
                                                         clip=clip, want_norm=on_step is not None)
                else:
                    loss, output, norm = back.train_step(model, loss_fn, optimizer, inputs, targets, backend=backend,
                                                         clip=clip, want_norm=on_step is not None)
            except NonFiniteError as error:
                # The data was checked, so a NaN inside the network means the weights blew up.
                raise divergence_error("a layer received NaN or infinite values", epoch, step, batches_per_epoch,
                                       lr, who=who) from error
            if not math.isfinite(loss):
                raise divergence_error(f"the loss became {loss}", epoch, step, batches_per_epoch, lr, who=who)
            if reference is None:
                reference = reference_loss(loss, know_nothing_loss(kind, loss_fn, output, targets))
            rows = len(inputs)
            loss_sum += loss * rows
            seen += rows
            history.step_losses.append(loss)
            if kind == "multiclass" and output.ndim == 3:    # sequences: accuracy over the real targets
                real = targets != getattr(loss_fn, "ignore_index", -100)
                correct += int((output.argmax(axis=-1) == targets)[real].sum())
                counted += int(real.sum())
            else:
                correct += _count_correct(output, targets, kind, loss_fn)
                counted += rows
            if scheduler is not None and scheduler_step == "step":
                scheduler.step()
            if on_step is not None:
                on_step(step, loss, norm)
        if seen == 0:
            break
        mean_loss = loss_sum / seen
        if not back.parameters_finite(model, backend):
            raise divergence_error("a weight became NaN or infinite", epoch, step, batches_per_epoch, lr, who=who)
        if is_diverged(mean_loss, reference):
            raise divergence_error(f"the mean training loss of epoch {epoch}, {mean_loss:.2g}, grew above "
                                   f"{DIVERGENCE_FACTOR:g}x the reference loss {reference:.3g}",
                                   epoch, step, batches_per_epoch, lr, who=who)
        if scheduler is not None and scheduler_step == "epoch":
            scheduler.step()

        record = {"loss": mean_loss}
        if kind != "regression":
            record["accuracy"] = correct / counted if counted else float("nan")
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
                    best_state = back.copy_weights(model, backend)
            else:
                since_best += 1
            if patience is not None and since_best >= patience and epoch < epochs:
                history.stopped_epoch = epoch
                break
        if on_epoch is not None and on_epoch(epoch, history):
            break
        if steps is not None and step >= steps:
            break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _period(steps):
    """How many steps of an endless stream count as one "epoch" for the divergence rule."""
    return max(1, min(100, steps // 10))


def _take(stream, count, left, who):
    """The next ``min(count, left)`` pairs of an endless stream, with a clear error if it runs out."""
    pairs = []
    for _ in range(min(count, left)):
        try:
            pairs.append(next(stream))
        except StopIteration:
            raise_ran_out(who)
    return pairs


def raise_ran_out(who):
    from ..errors import DataError

    raise DataError(f"{who}: the batches ran out before the last step: pass an endless stream (name_batches "
                    f"repeats forever), or fewer steps") from None


def _check_validation_fits(model, validation_data, who):
    """Run the model on a few validation examples before training, so that validation data of the wrong width
    (or the wrong image size) is refused now, naming ``validation_data``, not after the first epoch."""
    X_val = validation_data[0]
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            predict(model, X_val[:8])          # a few rows: one alone has no batch statistics
    except (ShapeError, DTypeError) as error:
        reason = str(error).rstrip(".")
        raise type(error)(f"{who}: validation_data=(X_val, y_val) does not fit the model (X_val has shape "
                          f"{X_val.shape}), so it is refused before training: {reason}. Pass validation data "
                          f"shaped like the training data (a part split off with validation_split)") from None


def _naming(argument, who, call):
    """Run ``call``; a shape or dtype error raised by the model's layers gets the argument's name in front."""
    try:
        return call()
    except (ShapeError, DTypeError) as error:
        raise type(error)(f"{who}: {argument}: {error}") from None


def _reference_loss(model, loss_fn, kind, backend, X, y, validation_data, *, who="fit"):
    """Check the targets against the untrained model's output, and return the reference loss of the
    divergence rule: max(loss on the training set before training, loss of a know-nothing guess).

    Runs the model once over X in evaluation mode (no dropout, so no random numbers are drawn and the
    training run is exactly what it would be without this check).
    """
    if not back.parameters_finite(model, backend):
        raise NonFiniteError(
            "the model's weights already contain NaN or infinite values (did an earlier run diverge?): "
            "build a new model (and its optimizer) before calling fit again"
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        output = _naming("data", who, lambda: predict(model, X))
        if validation_data is not None:  # the wrong width is refused now, not after the first epoch
            _naming("validation_data", who, lambda: predict(model, validation_data[0][:1]))
        flat_output, flat_y = _flat(output, y)
        check_targets("data", kind, flat_output.shape, flat_y, loss_fn)
        if validation_data is not None:
            X_val, y_val = validation_data
            y_val = np.asarray(y_val)
            if output.ndim == 3 and y_val.ndim == 2:
                check_targets("validation_data", kind, (y_val.size, output.shape[-1]), y_val.reshape(-1), loss_fn)
            else:
                check_targets("validation_data", kind, (len(X_val),) + output.shape[1:], y_val, loss_fn)
        start = _loss_value(loss_fn, flat_output, flat_y, backend)
    baseline = know_nothing_loss(kind, loss_fn, flat_output, flat_y)
    return reference_loss(start, baseline)


def _flat(output, y):
    y = np.asarray(y)
    if output.ndim == 3 and y.ndim == 2:
        return output.reshape(-1, output.shape[-1]), y.reshape(-1)
    return output, y


def _loss_value(loss_fn, output, y, backend):
    if backend == "numpy":
        return float(loss_fn(output, y))
    import torch

    with torch.no_grad():
        out = torch.from_numpy(output)
        return float(loss_fn(out, back.to_torch(y, out.dtype)).item())


# --- using a trained model ---------------------------------------------------------------------------------

def predict(model, X, *, batch_size=1024):
    """The model's outputs for ``X`` (a NumPy array), in evaluation mode, as a NumPy array."""
    backend = back.backend_of(model, "predict")
    batch_size = _predict_batch_size(batch_size)
    X = check_inputs(model, backend, X)
    with back.evaluation_mode(model):
        if backend == "numpy":
            outputs = [model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        else:
            torch_dtype = back.torch_float_dtype(back.model_dtype(model, backend))
            outputs = [back.outputs_of(model, back.to_torch(X[i:i + batch_size], torch_dtype), backend)
                       for i in range(0, len(X), batch_size)]
    return np.concatenate(outputs)


def _predict_batch_size(batch_size, who="predict"):
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConfigError(f"{who}: batch_size must be a whole number >= 1 (how many examples go through the "
                          f"model at once; 1024 by default), got {batch_size!r}")
    return int(batch_size)


def evaluate(model, loss_fn, X, y, *, batch_size=1024):
    """``(loss, accuracy)`` of ``model`` on ``(X, y)``; accuracy is ``None`` for regression losses."""
    backend = back.backend_of(model, "evaluate")
    batch_size = _predict_batch_size(batch_size, "evaluate")
    check_loss_fn(loss_fn, backend)
    n_x = len(X) if back.is_torch_object(X) else len(as_array(X, "X", "evaluate"))
    n_y = len(y) if back.is_torch_object(y) else len(as_array(y, "y", "evaluate"))
    if n_y != n_x:
        raise ShapeError(f"evaluate: X has {n_x} rows but y has {n_y}; they must match")
    output = predict(model, X, batch_size=batch_size)
    output, y = _flat(output, y)
    kind = task(loss_fn, y)
    check_targets("evaluate", kind, output.shape, y, loss_fn)
    if kind == "multiclass":
        real = y != getattr(loss_fn, "ignore_index", -100)
        loss = _loss_value(loss_fn, output, y, backend)
        accuracy = _count_correct(output[real], y[real], kind, loss_fn) / max(1, int(real.sum()))
        return float(loss), accuracy
    loss = _loss_value(loss_fn, output, y, backend)
    accuracy = None if kind == "regression" else _count_correct(output, y, kind, loss_fn) / len(y)
    return float(loss), accuracy
