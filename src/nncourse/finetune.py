"""Fine-tuning helpers (chapter 18): LoRA on a whole model, parameter counts, a response-masked loss.

* ``apply_lora(model, r=8, alpha=16, targets=("q_proj", "v_proj"))`` freezes every parameter of a model
  (NumPy ``numpy_nn.Module`` or ``torch.nn.Module``) and wraps each ``Linear`` whose attribute name is in
  ``targets`` in a ``LoRALinear`` of the same back end; it prints how many parameters train. Chapter 16's
  ``Llama`` uses Hugging Face's names (``layers.3.self_attn.q_proj``), so the names select the same
  projections in both back ends and in PEFT.
* ``merge_lora(model)`` replaces every ``LoRALinear`` by its merged ``Linear`` (in place).
* ``count_parameters(model)`` -> ``(trainable, total)``.
* ``masked_token_nll(logits, targets, mask)``: the mean next-token loss over the positions where ``mask``
  is true (the response tokens of an instruction example), with its gradient for the NumPy back end.
* ``label_log_likelihoods(log_probs, label_tokens)``: score each candidate label by the sum of its
  tokens' log-probabilities (zero-shot classification by likelihood).
"""

import numbers

import numpy as np

from . import validation
from .errors import ConfigError, DTypeError, ShapeError, TargetError
from .numpy_nn import Linear, LoRALinear
from .numpy_nn.module import Module

__all__ = ["apply_lora", "merge_lora", "count_parameters", "masked_token_nll", "label_log_likelihoods"]


def _is_torch_module(model):
    try:
        import torch
    except ImportError:          # pragma: no cover - torch is a dependency of the course
        return False
    return isinstance(model, torch.nn.Module)


def _check_model(model, who):
    if isinstance(model, Module) or _is_torch_module(model):
        return
    raise ConfigError(f"{who}: model must be a numpy_nn.Module or a torch.nn.Module, got {type(model).__name__}")


def _named_modules(model):
    return list(model.named_modules())


def count_parameters(model):
    """``(trainable, total)``: the number of parameters with ``requires_grad`` and of all parameters."""
    _check_model(model, "count_parameters")
    params = list(model.parameters())
    total = sum(int(p.numel()) for p in params)
    trainable = sum(int(p.numel()) for p in params if p.requires_grad)
    return trainable, total


def _check_targets(targets, who):
    if isinstance(targets, str):
        targets = (targets,)
    if not isinstance(targets, (tuple, list)) or not targets or \
            not all(isinstance(t, str) and t for t in targets):
        raise ConfigError(f"{who}: targets must be a non-empty tuple of layer names such as ('q_proj', 'v_proj'), "
                          f"got {targets!r}")
    return tuple(targets)


def apply_lora(model, r=8, alpha=16, targets=("q_proj", "v_proj"), dropout=0.0, seed=0, verbose=True):
    """Freeze ``model`` and wrap each linear layer named in ``targets`` in a ``LoRALinear`` (in place).

    A layer is selected when the last part of its dotted name is in ``targets`` (``"q_proj"`` selects
    ``layers.0.self_attn.q_proj`` of every layer). Adapter number i (in the model's order) draws its A from
    ``seed + i``, so the NumPy and torch twins of a model start from the same numbers. B starts at zero:
    the model computes exactly what it did before. Prints ``trainable / total`` unless ``verbose=False``.
    Returns the model.
    """
    who = "apply_lora"
    _check_model(model, who)
    targets = _check_targets(targets, who)
    if isinstance(verbose, bool) is False:
        raise ConfigError(f"{who}: verbose must be True or False, got {verbose!r}")
    if seed is None or isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"{who}: seed must be a whole number >= 0 (adapter i uses seed + i), got {seed!r}")
    torch_model = _is_torch_module(model)
    if torch_model:
        import torch

        from .torch_nn.lora import LoRALinear as TorchLoRALinear
        linear_class, lora_class = torch.nn.Linear, TorchLoRALinear
    else:
        linear_class, lora_class = Linear, LoRALinear
    found = [(name, module) for name, module in _named_modules(model)
             if name and name.rsplit(".", 1)[-1] in targets]
    if any(isinstance(m, lora_class) for _, m in _named_modules(model)):
        raise ConfigError(f"{who}: the model already has LoRA adapters; call merge_lora(model) first, or start "
                          f"from a fresh copy of the model")
    wrong = [(name, type(m).__name__) for name, m in found if not isinstance(m, linear_class)]
    if wrong:
        raise ConfigError(f"{who}: targets must name linear layers, but {wrong[0][0]} is a {wrong[0][1]}")
    if not found:
        names = sorted({name.rsplit(".", 1)[-1] for name, m in _named_modules(model)
                        if name and isinstance(m, linear_class)})
        raise ConfigError(f"{who}: no linear layer of the model is named {list(targets)}; its linear layers are "
                          f"named {names}")
    from .numpy_nn.lora import check_lora_arguments
    check_lora_arguments(found[0][1], r, alpha, dropout, who, linear_class, linear_class.__name__)
    for name, layer in found[1:]:                      # every layer must accept r before anything changes
        check_lora_arguments(layer, r, alpha, dropout, who, linear_class, linear_class.__name__)
    for param in model.parameters():
        param.requires_grad_(False)
    for i, (name, layer) in enumerate(found):
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name) if torch_model else _get_submodule(model, parent_name)
        setattr(parent, attribute, lora_class(layer, r, alpha, dropout=dropout, seed=seed + i))
    if verbose:
        trainable, total = count_parameters(model)
        print(f"LoRA r={r} on {len(found)} layers ({', '.join(targets)}): {trainable:,} of {total:,} parameters "
              f"train ({100 * trainable / total:.2f}%)")
    return model


def _get_submodule(model, dotted):
    module = model
    for part in dotted.split(".") if dotted else ():
        module = module._modules[part]
    return module


def merge_lora(model):
    """Replace every ``LoRALinear`` of ``model`` by its merged ``Linear`` (in place); returns the model.
    The merged layers are trainable again; the rest of the model keeps its ``requires_grad``."""
    who = "merge_lora"
    _check_model(model, who)
    torch_model = _is_torch_module(model)
    if torch_model:
        from .torch_nn.lora import LoRALinear as TorchLoRALinear
        lora_class = TorchLoRALinear
    else:
        lora_class = LoRALinear
    found = [(name, m) for name, m in _named_modules(model) if isinstance(m, lora_class)]
    if not found:
        raise ConfigError(f"{who}: the model has no LoRA adapters to merge; apply_lora(model, ...) adds them")
    for name, layer in found:
        if not name:
            raise ConfigError(f"{who}: model is itself a LoRALinear; call model.merge() instead")
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name) if torch_model else _get_submodule(model, parent_name)
        setattr(parent, attribute, layer.merge())
    return model


def _check_logits(logits, who):
    logits = validation.as_array(logits, "logits", who)
    if logits.dtype.kind != "f":
        raise ConfigError(f"{who}: logits must be a float array (N, T, V), got dtype {logits.dtype}")
    if logits.ndim != 3 or 0 in logits.shape:
        raise ShapeError(f"{who}: logits must have shape (batch, tokens, vocab), got {logits.shape}")
    if not np.isfinite(logits).all():
        raise ConfigError(f"{who}: logits contain NaN or inf; the model has diverged (lower the learning rate)")
    return logits


def masked_token_nll(logits, targets, mask):
    """Mean negative log-likelihood of ``targets`` (N, T) under ``logits`` (N, T, V), over the positions
    where ``mask`` (N, T, bool) is true; returns ``(loss, d loss / d logits)``.

    For an instruction example the mask is true on the response tokens only: the model is not trained to
    reproduce the prompt. The mean is over the masked tokens of the whole batch (PyTorch's
    ``cross_entropy(..., ignore_index=-100)`` with the prompt's targets set to -100 gives the same number).
    """
    who = "masked_token_nll"
    logits = _check_logits(logits, who)
    N, T, V = logits.shape
    targets, mask = validation.as_array(targets, "targets", who), validation.as_array(mask, "mask", who)
    if targets.shape != (N, T) or targets.dtype.kind not in "iu":
        raise TargetError(f"{who}: targets must be integer token ids of shape {(N, T)}, got {targets.dtype} "
                          f"{targets.shape}")
    if mask.shape != (N, T) or mask.dtype != bool:
        raise ShapeError(f"{who}: mask must be a bool array of shape {(N, T)} (True on response tokens), got "
                         f"{mask.dtype} {mask.shape}")
    if not mask.any():
        raise TargetError(f"{who}: mask selects no token; it must be True on the response tokens")
    if ((targets[mask] < 0) | (targets[mask] >= V)).any():
        raise TargetError(f"{who}: a masked target is outside 0..{V - 1} (the vocabulary); check the tokenizer")
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    n = int(mask.sum())
    safe = np.where(mask, targets, 0)
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]       # (N, T)
    loss = float(-(picked * mask).sum() / n)
    grad = np.exp(log_p)
    np.put_along_axis(grad, safe[..., None], np.take_along_axis(grad, safe[..., None], axis=-1) - 1, axis=-1)
    grad *= (mask / n)[..., None].astype(logits.dtype)
    return loss, grad.astype(logits.dtype)


def label_log_likelihoods(log_probs, label_tokens):
    """The log-likelihood of each candidate label: ``sum_j log_probs[j, label_tokens[j]]``.

    ``log_probs`` (L, V) holds the model's next-token log-probabilities at the L positions where a label's
    tokens are predicted (the position before each label token); ``label_tokens`` is a list of candidate
    labels, each a list of L or fewer token ids. Returns a float array, one score per label; the predicted
    label is the argmax. (A longer label collects more negative terms: compare labels of similar length or
    divide by the length.)
    """
    who = "label_log_likelihoods"
    log_probs = validation.as_array(log_probs, "log_probs", who)
    if log_probs.dtype.kind != "f":
        raise DTypeError(f"{who}: log_probs must be a float array of log-probabilities (positions, vocab), got "
                         f"dtype {log_probs.dtype}; pass the model's log_softmax output, not token ids")
    if log_probs.ndim != 2 or 0 in log_probs.shape:
        raise ShapeError(f"{who}: log_probs must have shape (positions, vocab), got {log_probs.shape}")
    validation.finite(log_probs, who, argument="log_probs")
    log_probs = log_probs.astype(float, copy=False)
    if not isinstance(label_tokens, (list, tuple)) or not label_tokens:
        raise ConfigError(f"{who}: label_tokens must be a non-empty list of token-id lists, got {label_tokens!r}")
    scores = []
    for i, tokens in enumerate(label_tokens):
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or tokens.size == 0 or tokens.dtype.kind not in "iu":
            raise TargetError(f"{who}: label_tokens[{i}] must be a non-empty list of token ids, got {tokens!r}")
        if tokens.size > log_probs.shape[0]:
            raise ShapeError(f"{who}: label_tokens[{i}] has {tokens.size} tokens but log_probs covers only "
                             f"{log_probs.shape[0]} positions")
        if (tokens < 0).any() or (tokens >= log_probs.shape[1]).any():
            raise TargetError(f"{who}: label_tokens[{i}] holds an id outside 0..{log_probs.shape[1] - 1}")
        scores.append(float(log_probs[np.arange(tokens.size), tokens].sum()))
    return np.array(scores)
