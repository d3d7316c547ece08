"""Tokenizers (chapter 14): byte-level BPE from scratch, in pure Python (never imports torch).

* ``pretokenize.py``: GPT-2's pre-tokenization pattern for the standard ``re`` module
  (``pretokenize``, ``GPT2_PATTERN``) and GPT-2's byte -> character table (``bytes_to_unicode``).
* ``bpe.py``: the two steps ``count_pairs`` and ``merge``, the fast trainer ``train_merges``, and
  ``BPETokenizer`` (``train``, ``encode``, ``decode``, special tokens, ``save`` / ``load`` as JSON).
* ``chat.py`` (chapter 17): ``ChatTokenizer``, a ``BPETokenizer`` with a vocabulary of its own, a chat
  template rendered in Jinja's sandbox (``render_chat_template``) and the ids that end a turn.
* ``metrics.py``: ``bits_per_byte`` (a loss that is fair across tokenizers) and ``bytes_per_token``.
* ``wordpiece.py`` (chapter 20): BERT's ``WordPieceTokenizer`` (normaliser, pre-tokenizer, greedy
  longest-match-first WordPiece, ``[CLS]``/``[SEP]``/``[PAD]``/``[UNK]``).
* ``windows.py``: ``random_windows`` / ``consecutive_windows``, batches of a long token stream for a GPT.

>>> tok = BPETokenizer.train("the cat sat on the mat. " * 20, vocab_size=300)
>>> tok.decode(tok.encode("the rat"))
'the rat'
"""

from .bpe import FORMAT, N_BYTES, BPETokenizer, count_pairs, merge, train_merges
from .chat import ChatTokenizer, render_chat_template
from .metrics import bits_per_byte, bytes_per_token
from .pretokenize import (
    GPT2_PATTERN, PATTERNS, SMOLLM_PATTERN, bytes_to_unicode, compile_pattern, pretokenize, unicode_to_bytes,
)
from .windows import consecutive_windows, random_windows
from .wordpiece import WordPieceTokenizer, bert_normalize, bert_pretokenize, wordpiece_word

__all__ = ["BPETokenizer", "ChatTokenizer", "render_chat_template", "count_pairs", "merge", "train_merges",
           "N_BYTES", "FORMAT", "bits_per_byte", "bytes_per_token", "GPT2_PATTERN", "SMOLLM_PATTERN", "PATTERNS",
           "pretokenize", "compile_pattern", "bytes_to_unicode", "unicode_to_bytes", "random_windows",
           "consecutive_windows",
           "WordPieceTokenizer", "bert_normalize", "bert_pretokenize", "wordpiece_word"]
