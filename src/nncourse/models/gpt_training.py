"""Training, evaluating and sampling a GPT on sequences (chapter 10), for both back ends.

A GPT reads a whole sequence at once and predicts the next token at *every* position, so one
padded batch ``(inputs, targets)`` of shape ``(B, T)`` gives ``B · T`` predictions (padding targets are
``PAD_TARGET = -100`` and are left out of the loss, like torch's ``ignore_index``).

* ``train_gpt(model, batches, steps, ...)``: AdamW, a linear warm-up then a cosine decay of the
  learning rate (``SequentialLR``), gradient clipping; the same batches for a NumPy ``GPT`` and its
  torch twin, so the two runs can be compared step by step.
* ``name_batches(names, batch_size, seed)``: an endless stream of padded batches of random names.
* ``evaluate_gpt(model, inputs, targets)``: mean cross-entropy in nats per predicted token.
* ``sample_sequences(model, prefixes, ...)`` and ``sample_names``: generation, cut at the end token.
* ``addition_split`` and ``addition_problems``: the reasoning task, "a+b=" followed by the reversed sum.
"""

from __future__ import annotations

import numpy as np

from .. import numpy_nn as nn
from .. import validation
from ..data.names import PAD_TARGET, VOCAB, padded_batch
from ..data.names import _check_names as check_names
from ..errors import ConfigError, ShapeError
from ..numpy_nn import lr_scheduler as np_sched
from ..train import fit, is_torch
from ..train.backend import backend_of

__all__ = ["train_gpt", "name_batches", "evaluate_gpt", "sample_sequences", "sample_names",
           "length_sorted_batches", "addition_problems", "addition_split", "ADDITION_VOCAB",
           "addition_accuracy", "is_torch"]


# ------------------------------------------------------------------------------------ the loss
def _numpy_loss(logits, targets):
    """Mean cross-entropy over the real targets of (B, T, V) logits (``PAD_TARGET`` is ignored), and
    ``loss_fn`` holding its gradient."""
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_TARGET)
    return loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)), loss_fn


def _torch_loss(logits, targets):
    import torch

    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
                                             ignore_index=PAD_TARGET)


# ------------------------------------------------------------------------------------ batches
def name_batches(names, batch_size, seed=0):
    """Endless padded batches of ``batch_size`` names drawn at random (with a seeded Generator).

    The arguments are checked when it is called, not at the first ``next()``."""
    names = check_names(names, "name_batches")
    batch_size = validation.positive_int(batch_size, "batch_size", "name_batches")
    validation.non_negative_int(seed, "seed", "name_batches")
    return _name_batches(names, batch_size, seed)


def _name_batches(names, batch_size, seed):
    rng = np.random.default_rng(seed)
    while True:
        chosen = [names[i] for i in rng.integers(0, len(names), size=batch_size)]
        yield padded_batch(chosen)


def length_sorted_batches(names, batch_size=1024):
    """All names in batches of similar length (little padding): for evaluation."""
    names = check_names(names, "length_sorted_batches")
    batch_size = validation.positive_int(batch_size, "batch_size", "length_sorted_batches")
    return _length_sorted_batches(names, batch_size)


def _length_sorted_batches(names, batch_size):
    ordered = sorted(names, key=lambda n: (len(n), n))
    return _sorted_batches(ordered, batch_size)


def _sorted_batches(ordered, batch_size):
    for start in range(0, len(ordered), batch_size):
        yield padded_batch(ordered[start:start + batch_size])


# ------------------------------------------------------------------------------------ training
def _optimizer_and_schedule(model, lr, weight_decay, warmup, steps):
    """AdamW and a warm-up + cosine schedule, in the model's own back end."""
    if is_torch(model):
        import torch

        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
        S = torch.optim.lr_scheduler
    else:
        opt = nn.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
        S = np_sched
    warm = S.LinearLR(opt, start_factor=1.0 / warmup, total_iters=warmup)
    decay = S.CosineAnnealingLR(opt, T_max=max(1, steps - warmup), eta_min=lr / 10)
    return opt, S.SequentialLR(opt, [warm, decay], milestones=[warmup])


def train_gpt(model, batches, steps, *, lr=3e-3, weight_decay=0.01, warmup=100, clip=1.0, every=None):
    """Train for ``steps`` steps on ``batches`` (an iterator of ``(inputs, targets)`` NumPy pairs) with ``fit``.

    Returns the list of training losses (one float per step). ``every``: also print the loss every so
    many steps. Raises ``DivergenceError`` if the run diverges (NaN/inf, or the mean loss of a stretch of
    steps above 10x the reference).
    """
    backend_of(model, "train_gpt")
    steps = validation.positive_int(steps, "steps", "train_gpt")
    warmup = validation.positive_int(warmup, "warmup", "train_gpt")
    if every is not None:
        every = validation.positive_int(every, "every (print the loss every so many steps; None: never)",
                                        "train_gpt")
    if isinstance(batches, (list, tuple)):
        raise ConfigError(f"train_gpt: batches must be an iterator that yields (inputs, targets) pairs, got a "
                          f"{type(batches).__name__}; pass iter(batches), or an endless stream such as "
                          f"name_batches(names, batch_size, seed)")
    if not hasattr(batches, "__next__"):
        raise ConfigError(f"train_gpt: batches must be an iterator of (inputs, targets) pairs, such as "
                          f"name_batches(names, batch_size, seed), got {type(batches).__name__}")
    opt, schedule = _optimizer_and_schedule(model, lr, weight_decay, warmup, steps)
    if is_torch(model):
        import torch

        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_TARGET)
    else:
        loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_TARGET)             # padding counts for nothing
    losses = []

    def report(step, loss, norm):
        losses.append(loss)
        if step % every == 0:
            print(f"step {step:5d}  loss {np.mean(losses[-every:]):.3f}")

    history = fit(model, loss_fn, opt, batches=batches, steps=steps, clip=clip or None, scheduler=schedule,
                  scheduler_step="step", on_step=report if every else None, quiet=True, who="train_gpt")
    model.eval()
    return history.step_losses


# ------------------------------------------------------------------------------------ evaluation
def evaluate_gpt(model, batches):
    """Mean cross-entropy in nats per predicted token over all ``(inputs, targets)`` of ``batches``."""
    who = "evaluate_gpt"
    if not (callable(model) and hasattr(model, "training") and hasattr(model, "parameters")):
        raise ConfigError(f"{who}: model must be a GPT (NumPy or torch), got {type(model).__name__} {model!r:.40}")
    if isinstance(batches, (str, bytes)) or not hasattr(batches, "__iter__"):
        raise ConfigError(f"{who}: batches must be an iterable of (inputs, targets) pairs, such as "
                          f"length_sorted_batches(names), got {type(batches).__name__} {batches!r:.40}")
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        for pair in batches:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ConfigError(f"{who}: batches must yield (inputs, targets) pairs, got a {type(pair).__name__}; "
                                  f"pass e.g. length_sorted_batches(names)")
            inputs, targets = pair
            n = int((targets != PAD_TARGET).sum())
            if is_torch(model):
                import torch

                with torch.no_grad():
                    loss = float(_torch_loss(model(torch.from_numpy(inputs)), torch.from_numpy(targets)))
            else:
                loss = float(_numpy_loss(model(inputs), targets)[0])
            total += loss * n
            count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ConfigError(f"{who}: batches held no target to predict (no pairs, or only padding); pass at least one "
                          f"(inputs, targets) pair, e.g. length_sorted_batches(names)")
    return total / count


# ------------------------------------------------------------------------------------ sampling
def sample_sequences(model, prefixes, max_new_tokens, *, temperature=1.0, top_k=None, seed=0, end=0):
    """Continue each prefix (a list of token lists of equal length) and cut each row at ``end``.

    Returns a list of token lists (the prefix included, the end token excluded).
    """
    who = "sample_sequences"
    if not hasattr(model, "generate"):
        raise ConfigError(f"{who}: model must be a GPT (NumPy or torch), got {type(model).__name__}")
    idx = validation.as_array(prefixes, "prefixes", who)
    if idx.ndim != 2 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ShapeError(f"{who}: prefixes must be a non-empty list of token lists of equal length (integers), "
                         f"got an array of shape {idx.shape} and dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    validation.non_negative_int(end, "end", who)
    if is_torch(model):
        import torch

        out = model.generate(torch.from_numpy(idx), max_new_tokens, temperature, top_k, seed=seed).numpy()
    else:
        out = model.generate(idx, max_new_tokens, temperature, top_k, seed=seed)
    rows = []
    for row in out:
        new = list(row[idx.shape[1]:])
        cut = new.index(end) if end in new else len(new)
        rows.append(list(row[:idx.shape[1]]) + new[:cut])
    return rows


def sample_names(model, n, *, prefix="", temperature=1.0, top_k=None, seed=0, max_length=14):
    """``n`` names sampled from a names GPT, each starting with ``prefix`` (letters a-z)."""
    n = validation.positive_int(n, "n (how many names to draw)", "sample_names")
    validation.text(prefix, "prefix", "sample_names", allow_empty=True)
    max_length = validation.positive_int(max_length, "max_length", "sample_names")
    if max_length <= len(prefix):
        raise ConfigError(f"sample_names: max_length={max_length} leaves no room after prefix {prefix!r}; pass "
                          f"max_length > {len(prefix)}")
    start = [VOCAB.end_index] + list(VOCAB.encode(prefix))
    rows = sample_sequences(model, [start] * n, max_length - len(prefix), temperature=temperature,
                            top_k=top_k, seed=seed, end=VOCAB.end_index)
    return [VOCAB.decode(np.asarray(row[1:], dtype=np.int64)) for row in rows]


# ------------------------------------------------------------------------------------ reasoning task
ADDITION_VOCAB = "0123456789+=."     # token i is ADDITION_VOCAB[i]; "." ends the answer


def addition_split(n_digits=2, n_test=1000, seed=0):
    """Every pair (a, b) with a, b < 10**n_digits, shuffled with ``seed`` and split in two:
    ``(a_train, b_train), (a_test, b_test)``, the test pairs never seen in training."""
    n_digits = validation.positive_int(n_digits, "n_digits", "addition_split")
    n_test = validation.positive_int(n_test, "n_test", "addition_split")
    validation.non_negative_int(seed, "seed", "addition_split")
    if n_test >= (10**n_digits) ** 2:
        raise ConfigError(f"addition_split: n_test={n_test} leaves no training pairs: there are only "
                          f"{(10**n_digits) ** 2} pairs of {n_digits}-digit numbers; pass a smaller n_test")
    size = 10**n_digits
    order = np.random.default_rng(seed).permutation(size * size)
    a, b = order // size, order % size
    return (a[n_test:], b[n_test:]), (a[:n_test], b[:n_test])


def addition_problems(a, b, n_digits=2):
    """Encode the problems "a+b=" followed by the sum written backwards (least significant digit
    first, the order in which we add by hand, carrying to the left) and the end token ".".

    Returns ``(inputs, targets)``: inputs (n, L) are the sequences without their last token, targets
    (n, L) the sequences shifted by one, with ``PAD_TARGET`` on the question (only the answer is
    learned). Operands are zero-padded to ``n_digits``, so every row has the same length.
    """
    n_digits = validation.positive_int(n_digits, "n_digits", "addition_problems")
    a, b = validation.as_array(a, "a", "addition_problems"), validation.as_array(b, "b", "addition_problems")
    if a.size == 0:
        raise ShapeError("addition_problems: a and b are empty; pass at least one problem")
    if a.shape != b.shape or a.ndim != 1:
        raise ShapeError(f"addition_problems: a and b must be 1-D arrays of the same length, got shapes "
                         f"{a.shape} and {b.shape}")
    for name, operand in (("a", a), ("b", b)):
        if operand.dtype.kind not in "iu":
            raise ConfigError(f"addition_problems: {name} must hold whole numbers, got dtype {operand.dtype}: "
                              f"use {name}.astype(np.int64)")
        if operand.size and (operand.min() < 0 or operand.max() >= 10**n_digits):
            raise ConfigError(f"addition_problems: {name} holds {int(operand.max())}, wider than n_digits={n_digits} "
                              f"digits (operands must be 0 to {10**n_digits - 1}), which would shift the answer's "
                              f"positions: pass n_digits={len(str(int(operand.max())))} or smaller operands")
    rows = [f"{x:0{n_digits}d}+{y:0{n_digits}d}={str(x + y).zfill(n_digits + 1)[::-1]}." for x, y in zip(a, b)]
    tokens = np.array([[ADDITION_VOCAB.index(c) for c in row] for row in rows], dtype=np.int64)
    inputs, targets = tokens[:, :-1], tokens[:, 1:].copy()
    targets[:, :2 * n_digits + 1] = PAD_TARGET        # positions of "a+b": their targets are the question
    return inputs, targets


def addition_accuracy(model, n_digits, a, b, batch_size=1000):
    """Share of problems whose whole answer is right, generated greedily (top_k=1) from "a+b="."""
    batch_size = validation.positive_int(batch_size, "batch_size", "addition_accuracy")
    addition_problems(a, b, n_digits)  # the same checks of n_digits, a and b, with their names
    correct = 0
    for start in range(0, len(a), batch_size):
        xa, xb = a[start:start + batch_size], b[start:start + batch_size]
        prompts = [[ADDITION_VOCAB.index(c) for c in f"{x:0{n_digits}d}+{y:0{n_digits}d}="] for x, y in zip(xa, xb)]
        rows = sample_sequences(model, prompts, n_digits + 2, top_k=1, end=ADDITION_VOCAB.index("."))
        for row, x, y in zip(rows, xa, xb):
            answer = "".join(ADDITION_VOCAB[t] for t in row[len(prompts[0]):])
            correct += answer == str(x + y).zfill(n_digits + 1)[::-1]
    return correct / len(a)
