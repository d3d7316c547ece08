"""Reading a GGUF model file (chapter 17): checksum, metadata, tensors, and the Llama layout.

A GGUF file is a header (``GGUF``, a version, counts), a list of metadata (``llama.block_count = 30``,
the tokenizer's tokens and merges, the chat template...), a table of tensors (name, shape, type,
offset) and the tensors' bytes. ``gguf.GGUFReader`` maps the file into memory and parses the tables;
the numbers themselves are decoded by ``nncourse.quantization``.

**The query and key rows are stored permuted.** llama.cpp rotates *neighbouring* pairs of a head's
dimensions (interleaved RoPE: (0, 1), (2, 3), ...), while Hugging Face's Llama, and chapter 16's, rotates
dimension ``i`` with ``i + head_dim/2`` (``rotate_half``). The converter that wrote the file reordered
the rows of ``q_proj`` and ``k_proj`` inside every head so that llama.cpp's pairs are Hugging Face's
pairs: row ``(head, half, i)`` went to ``(head, i, half)``. ``unpermute_rope_rows`` undoes it, per head:
with 9 heads for the queries and **3** for the keys (grouped-query attention: ``k_proj`` has only the
KV heads' rows).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np

from .. import validation
from ..errors import ConfigError, DataError, DTypeError, ShapeError
from ..quantization import dequantize_gguf_tensor

__all__ = ["file_sha256", "check_sha256", "read_gguf", "gguf_metadata", "llama_config", "llama_state_dict",
           "iter_llama_tensors",
           "permute_rope_rows", "unpermute_rope_rows", "GGUF_TO_HF"]

#: GGUF tensor names -> Hugging Face Llama names (``{i}`` is the layer)
GGUF_TO_HF = {
    "token_embd.weight": "embed_tokens.weight",
    "output_norm.weight": "norm.weight",
    "output.weight": "lm_head.weight",
    "blk.{i}.attn_norm.weight": "layers.{i}.input_layernorm.weight",
    "blk.{i}.attn_q.weight": "layers.{i}.self_attn.q_proj.weight",
    "blk.{i}.attn_k.weight": "layers.{i}.self_attn.k_proj.weight",
    "blk.{i}.attn_v.weight": "layers.{i}.self_attn.v_proj.weight",
    "blk.{i}.attn_output.weight": "layers.{i}.self_attn.o_proj.weight",
    "blk.{i}.ffn_norm.weight": "layers.{i}.post_attention_layernorm.weight",
    "blk.{i}.ffn_gate.weight": "layers.{i}.mlp.gate_proj.weight",
    "blk.{i}.ffn_up.weight": "layers.{i}.mlp.up_proj.weight",
    "blk.{i}.ffn_down.weight": "layers.{i}.mlp.down_proj.weight",
}


def _check_path(path, who):
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"{who}: path must be the file's path (a str or pathlib.Path), got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{who}: path {path} is a folder; pass the path of the .gguf file inside it")
    if not path.is_file():
        raise DataError(f"{who}: there is no file at {path}; check the path")
    return path


def file_sha256(path) -> str:
    """The SHA-256 of a file, as 64 hex digits (read in 1 MiB chunks)."""
    path = _check_path(path, "file_sha256")
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path, expected, *, fix="reinstall the package that ships it") -> Path:
    """``path`` after checking that its SHA-256 is ``expected``; a ``DataError`` (naming the fix) if not."""
    if not isinstance(expected, str) or not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ConfigError(f"check_sha256: expected must be 64 lower-case hex digits, got {expected!r:.80}")
    fix = validation.text(fix, "fix", "check_sha256")
    path = _check_path(path, "check_sha256")
    got = file_sha256(path)
    if got != expected:
        raise DataError(f"{path} is not the expected file: its SHA-256 is {got[:16]}..., expected {expected[:16]}... "
                        f"({path.stat().st_size:,} bytes; truncated, damaged or another version); {fix}")
    return path


def read_gguf(path, *, sha256=None, fix="reinstall the package that ships it"):
    """A ``gguf.GGUFReader`` for ``path``, after checking its SHA-256 when ``sha256`` is given.

    A file that is not GGUF, or is cut short, is a ``DataError`` (the reader's own errors are not shown)."""
    path = check_sha256(path, sha256, fix=fix) if sha256 is not None else _check_path(path, "read_gguf")
    try:
        import gguf
    except ImportError:
        raise DataError("reading a GGUF file needs the gguf package: pip install 'gguf>=0.10' "
                        "(requirements.txt)") from None
    try:
        return gguf.GGUFReader(path)
    except Exception as error:                       # the reader raises ValueError, struct.error, IndexError...
        raise DataError(f"{path} cannot be read as a GGUF file ({type(error).__name__}: {error}); it is truncated, "
                        f"damaged or not GGUF; {fix}") from None


def gguf_metadata(reader, *, skip_arrays_longer_than=64) -> dict:
    """The file's metadata as ``{key: value}``; arrays longer than ``skip_arrays_longer_than`` (the
    tokenizer's 49,152 tokens) are given as ``"<array of N>"``."""
    _check_reader(reader, "gguf_metadata")
    out = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        if len(field.data) > skip_arrays_longer_than:
            out[key] = f"<array of {len(field.data)}>"
            continue
        try:
            out[key] = field.contents()
        except Exception:                             # a field of a kind gguf cannot decode: keep its name
            out[key] = "<unreadable>"
    return out


def _check_reader(reader, who):
    if not (hasattr(reader, "fields") and hasattr(reader, "tensors")):
        raise ConfigError(f"{who}: reader must be a gguf.GGUFReader (from nncourse.pretrained.read_gguf(path)), "
                          f"got {type(reader).__name__}")


def _field(reader, key, who):
    field = reader.fields.get(key)
    if field is None:
        raise DataError(f"{who}: the file has no metadata {key!r}; it is not a Llama model file this course reads")
    try:
        return field.contents()
    except Exception:
        raise DataError(f"{who}: the metadata {key!r} cannot be read; the file is damaged") from None


def llama_config(reader) -> dict:
    """Chapter 16's ``Llama`` arguments from the file's ``llama.*`` metadata.

    ``context_length`` is the file's (8192 for SmolLM2); ``tie_embeddings`` is True when the file has no
    ``output.weight`` (the output layer reuses the embedding matrix)."""
    who = "llama_config"
    _check_reader(reader, who)
    arch = _field(reader, "general.architecture", who)
    if arch != "llama":
        raise DataError(f"{who}: the file holds a {arch!r} model, not 'llama'; chapter 16's Llama cannot load it")
    names = {t.name for t in reader.tensors}
    embed = next((t for t in reader.tensors if t.name == "token_embd.weight"), None)
    if embed is None:
        raise DataError(f"{who}: the file has no token_embd.weight tensor; it is damaged")
    vocab = reader.fields.get("llama.vocab_size")
    config = {
        "vocab_size": int(vocab.contents()) if vocab is not None else int(embed.shape[1]),
        "context_length": int(_field(reader, "llama.context_length", who)),
        "d_model": int(_field(reader, "llama.embedding_length", who)),
        "n_heads": int(_field(reader, "llama.attention.head_count", who)),
        "n_kv_heads": int(_field(reader, "llama.attention.head_count_kv", who)),
        "n_layers": int(_field(reader, "llama.block_count", who)),
        "d_ff": int(_field(reader, "llama.feed_forward_length", who)),
        "rope_theta": float(_field(reader, "llama.rope.freq_base", who)),
        "norm_eps": float(_field(reader, "llama.attention.layer_norm_rms_epsilon", who)),
        "tie_embeddings": "output.weight" not in names,
    }
    rope_dims = reader.fields.get("llama.rope.dimension_count")
    if rope_dims is not None and int(rope_dims.contents()) != config["d_model"] // config["n_heads"]:
        raise DataError(f"{who}: the file rotates {int(rope_dims.contents())} dimensions of each head, chapter 16's "
                        f"Llama rotates all {config['d_model'] // config['n_heads']}; it cannot load this model")
    return config


def _check_rows(weight, n_heads, who):
    if not isinstance(weight, np.ndarray):
        raise ConfigError(f"{who}: weight must be a NumPy array (rows = output features), got {type(weight).__name__}")
    n_heads = validation.positive_int(n_heads, "n_heads", who)
    if weight.ndim != 2:
        raise ShapeError(f"{who}: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if weight.dtype.kind != "f":
        raise DTypeError(f"{who}: weight must hold floats (a projection's weights), got dtype {weight.dtype}; "
                         f"convert it first: weight.astype(np.float32)")
    if not weight.size:
        raise ShapeError(f"{who}: weight is empty (shape {weight.shape}); pass the q_proj or k_proj weight "
                         f"(n_heads * head_dim, d_model)")
    validation.finite(weight, who, argument="weight")
    rows = weight.shape[0]
    if rows % n_heads or (rows // n_heads) % 2:
        raise ShapeError(f"{who}: weight has {rows} rows, which {n_heads} heads cannot share as pairs (each head needs "
                         f"an even number of rows); pass n_heads = the number of heads of this projection (the KV "
                         f"heads for k_proj)")
    return rows // n_heads


def unpermute_rope_rows(weight, n_heads) -> np.ndarray:
    """The rows of a GGUF ``attn_q``/``attn_k`` weight reordered for ``rotate_half`` RoPE.

    Inside each head the file has rows ``(i, half)`` (pairs side by side); Hugging Face wants
    ``(half, i)`` (first halves, then second halves). ``n_heads`` is 9 for SmolLM2's queries and 3 for
    its keys."""
    head_dim = _check_rows(weight, n_heads, "unpermute_rope_rows")
    d = weight.shape[1]
    return weight.reshape(n_heads, head_dim // 2, 2, d).swapaxes(1, 2).reshape(weight.shape)


def permute_rope_rows(weight, n_heads) -> np.ndarray:
    """The inverse of ``unpermute_rope_rows``: what the GGUF converter does to ``q_proj``/``k_proj``."""
    head_dim = _check_rows(weight, n_heads, "permute_rope_rows")
    d = weight.shape[1]
    return weight.reshape(n_heads, 2, head_dim // 2, d).swapaxes(1, 2).reshape(weight.shape)


def llama_state_dict(reader, *, dtype=np.float32, config=None) -> dict:
    """The file's tensors, dequantized, under chapter 16's (Hugging Face's) names, in ``dtype``.

    The query and key rows are un-permuted for ``rotate_half``; with tied embeddings there is no
    ``lm_head.weight``. Every tensor's shape is checked against the configuration."""
    who = "llama_state_dict"
    _check_reader(reader, who)
    dtype = validation.float_dtype(dtype, who)
    return dict(iter_llama_tensors(reader, dtype=dtype, config=config))


def iter_llama_tensors(reader, *, dtype=np.float32, config=None):
    """``llama_state_dict`` one tensor at a time, ``(name, array)``: a loader that copies each into its
    parameter at once never holds a second copy of the whole model. All names are checked first; the
    missing ones are reported before anything is yielded."""
    who = "llama_state_dict"
    _check_reader(reader, who)
    dtype = validation.float_dtype(dtype, who)
    config = llama_config(reader) if config is None else config
    d, kv, hd = config["d_model"], config["n_kv_heads"], config["d_model"] // config["n_heads"]
    expected = {"embed_tokens.weight": (config["vocab_size"], d), "norm.weight": (d,),
                "lm_head.weight": (config["vocab_size"], d)}
    for i in range(config["n_layers"]):
        p = f"layers.{i}."
        expected.update({p + "input_layernorm.weight": (d,), p + "post_attention_layernorm.weight": (d,),
                         p + "self_attn.q_proj.weight": (d, d), p + "self_attn.k_proj.weight": (kv * hd, d),
                         p + "self_attn.v_proj.weight": (kv * hd, d), p + "self_attn.o_proj.weight": (d, d),
                         p + "mlp.gate_proj.weight": (config["d_ff"], d), p + "mlp.up_proj.weight": (config["d_ff"], d),
                         p + "mlp.down_proj.weight": (d, config["d_ff"])})
    patterns = [(re.compile("^" + re.escape(g).replace(r"\{i\}", r"(\d+)") + "$"), h) for g, h in GGUF_TO_HF.items()]
    named = []
    for tensor in reader.tensors:
        for pattern, hf in patterns:
            match = pattern.match(tensor.name)
            if match:
                name = hf.replace("{i}", match.group(1)) if match.groups() else hf
                break
        else:
            raise DataError(f"{who}: the file holds a tensor {tensor.name!r} that a Llama does not have; it is not a "
                            f"plain Llama model file")
        if name not in expected:
            raise DataError(f"{who}: the tensor {tensor.name!r} is beyond the {config['n_layers']} layers the metadata "
                            f"announces; the file is damaged")
        named.append((name, tensor))
    needed = set(expected) - ({"lm_head.weight"} if config["tie_embeddings"] else set())
    missing = sorted(needed - {name for name, _ in named})
    if missing:
        raise DataError(f"{who}: the file lacks {len(missing)} tensors ({missing[:3]}...); it is damaged")
    for name, tensor in named:
        values = dequantize_gguf_tensor(tensor)
        if values.shape != expected[name]:
            raise DataError(f"{who}: {tensor.name} has shape {values.shape}, the configuration needs "
                            f"{expected[name]}; the file is damaged")
        if name.endswith("q_proj.weight"):
            values = unpermute_rope_rows(values, config["n_heads"])
        elif name.endswith("k_proj.weight"):
            values = unpermute_rope_rows(values, config["n_kv_heads"])
        values = values.astype(dtype, copy=False)
        yield name, (values if values.flags.writeable else values.copy())   # never a view of the mapped file
