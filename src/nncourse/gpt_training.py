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

from . import numpy_nn as nn
from .data.names import PAD_TARGET, VOCAB, padded_batch
from .errors import DivergenceError
from .numpy_nn import lr_scheduler as np_sched

__all__ = ["train_gpt", "name_batches", "evaluate_gpt", "masked_cross_entropy", "sample_sequences",
           "sample_names", "length_sorted_batches", "addition_problems", "addition_split", "ADDITION_VOCAB",
           "addition_accuracy", "is_torch"]


def is_torch(model):
    return not isinstance(model, nn.Module)


# ------------------------------------------------------------------------------------ the loss
def masked_cross_entropy(logits, targets):
    """Mean cross-entropy over the positions whose target is not ``PAD_TARGET``, and its gradient.

    ``logits`` (B, T, V) NumPy, ``targets`` (B, T) int. Returns ``(loss, grad_logits)``.
    """
    B, T, V = logits.shape
    flat = targets.reshape(-1)
    keep = flat != PAD_TARGET                                   # the real predictions
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(logits.reshape(B * T, V)[keep], flat[keep])
    grad = np.zeros((B * T, V), dtype=logits.dtype)
    grad[keep] = loss_fn.backward()
    return loss, grad.reshape(B, T, V)


def _torch_loss(logits, targets):
    import torch

    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
                                             ignore_index=PAD_TARGET)


# ------------------------------------------------------------------------------------ batches
def name_batches(names, batch_size, seed=0):
    """Endless padded batches of ``batch_size`` names drawn at random (with a seeded Generator)."""
    rng = np.random.default_rng(seed)
    names = list(names)
    while True:
        chosen = [names[i] for i in rng.integers(0, len(names), size=batch_size)]
        yield padded_batch(chosen)


def length_sorted_batches(names, batch_size=1024):
    """All names in batches of similar length (little padding): for evaluation."""
    ordered = sorted(names, key=lambda n: (len(n), n))
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
    """Train for ``steps`` steps on ``batches`` (an iterator of ``(inputs, targets)`` NumPy pairs).

    Returns the list of training losses (one float per step). ``every``: also print the loss every so
    many steps. Raises ``DivergenceError`` if the loss becomes NaN/inf.
    """
    opt, schedule = _optimizer_and_schedule(model, lr, weight_decay, warmup, steps)
    model.train()
    losses = []
    for step in range(steps):
        inputs, targets = next(batches)
        loss = _torch_step(model, opt, inputs, targets, clip) if is_torch(model) else \
            _numpy_step(model, opt, inputs, targets, clip)
        if not np.isfinite(loss):
            raise DivergenceError(f"train_gpt: the loss became {loss} at step {step}: lower lr (now {lr})")
        schedule.step()
        losses.append(loss)
        if every and (step + 1) % every == 0:
            print(f"step {step + 1:5d}  loss {np.mean(losses[-every:]):.3f}")
    model.eval()
    return losses


def _numpy_step(model, opt, inputs, targets, clip):
    logits = model(inputs)
    loss, grad = masked_cross_entropy(logits, targets)
    opt.zero_grad()
    model.backward(grad)
    if clip:
        nn.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss)


def _torch_step(model, opt, inputs, targets, clip):
    import torch

    loss = _torch_loss(model(torch.from_numpy(inputs)), torch.from_numpy(targets))
    opt.zero_grad()
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss.item())


# ------------------------------------------------------------------------------------ evaluation
def evaluate_gpt(model, batches):
    """Mean cross-entropy in nats per predicted token over all ``(inputs, targets)`` of ``batches``."""
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    for inputs, targets in batches:
        n = int((targets != PAD_TARGET).sum())
        if is_torch(model):
            import torch

            with torch.no_grad():
                loss = float(_torch_loss(model(torch.from_numpy(inputs)), torch.from_numpy(targets)))
        else:
            loss = float(masked_cross_entropy(model(inputs), targets)[0])
        total += loss * n
        count += n
    model.train(was_training)
    return total / count


# ------------------------------------------------------------------------------------ sampling
def sample_sequences(model, prefixes, max_new_tokens, *, temperature=1.0, top_k=None, seed=0, end=0):
    """Continue each prefix (a list of token lists of equal length) and cut each row at ``end``.

    Returns a list of token lists (the prefix included, the end token excluded).
    """
    idx = np.asarray(prefixes, dtype=np.int64)
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
    start = [VOCAB.end_index] + list(VOCAB.encode(prefix))
    rows = sample_sequences(model, [start] * n, max_length - len(prefix), temperature=temperature,
                            top_k=top_k, seed=seed, end=VOCAB.end_index)
    return [VOCAB.decode(np.asarray(row[1:], dtype=np.int64)) for row in rows]


# ------------------------------------------------------------------------------------ reasoning task
ADDITION_VOCAB = "0123456789+=."     # token i is ADDITION_VOCAB[i]; "." ends the answer


def addition_split(n_digits=2, n_test=1000, seed=0):
    """Every pair (a, b) with a, b < 10**n_digits, shuffled with ``seed`` and split in two:
    ``(a_train, b_train), (a_test, b_test)``, the test pairs never seen in training."""
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
    rows = [f"{x:0{n_digits}d}+{y:0{n_digits}d}={str(x + y).zfill(n_digits + 1)[::-1]}." for x, y in zip(a, b)]
    tokens = np.array([[ADDITION_VOCAB.index(c) for c in row] for row in rows], dtype=np.int64)
    inputs, targets = tokens[:, :-1], tokens[:, 1:].copy()
    targets[:, :2 * n_digits + 1] = PAD_TARGET        # positions of "a+b": their targets are the question
    return inputs, targets


def addition_accuracy(model, n_digits, a, b, batch_size=1000):
    """Share of problems whose whole answer is right, generated greedily (top_k=1) from "a+b="."""
    correct = 0
    for start in range(0, len(a), batch_size):
        xa, xb = a[start:start + batch_size], b[start:start + batch_size]
        prompts = [[ADDITION_VOCAB.index(c) for c in f"{x:0{n_digits}d}+{y:0{n_digits}d}="] for x, y in zip(xa, xb)]
        rows = sample_sequences(model, prompts, n_digits + 2, top_k=1, end=ADDITION_VOCAB.index("."))
        for row, x, y in zip(rows, xa, xb):
            answer = "".join(ADDITION_VOCAB[t] for t in row[len(prompts[0]):])
            correct += answer == str(x + y).zfill(n_digits + 1)[::-1]
    return correct / len(a)
