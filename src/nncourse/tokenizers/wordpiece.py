"""``WordPieceTokenizer``: BERT's tokenizer (chapter 20), written from scratch in pure Python.

Three steps turn a string into ids:

1. **normalise** (BERT's): drop control characters, turn every kind of white space into a space, put
   spaces around each CJK ideograph, strip accents (Unicode NFD, then drop the combining marks), lowercase;
2. **pre-tokenise**: split on white space, and make every punctuation character a word of its own;
   (a special token written in the text, such as ``[SEP]``, stays that token, as in Hugging Face's tokenizer);
3. **WordPiece**: cut each word greedily, longest match first: take the longest prefix that is in the
   vocabulary, then the longest ``##``-prefixed continuation of the rest, and so on. If some rest has no
   match at all, the *whole word* becomes ``[UNK]`` (as in BERT: no half-known words).

``encode`` adds ``[CLS]`` in front and ``[SEP]`` at the end and truncates to ``max_length`` ids (the
special tokens included); ``batch`` pads a list of sentences with ``[PAD]`` into arrays ``(N, T)`` with
the attention mask.

>>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "play", "##ing", "##s", "the", "."])
>>> tok.tokenize("The playings.")
['the', 'play', '##ing', '##s', '.']
"""

import json
import numbers
import os
import re
import unicodedata

import numpy as np

from .. import validation
from ..errors import ConfigError, DataError, DTypeError

__all__ = ["WordPieceTokenizer", "bert_normalize", "bert_pretokenize", "wordpiece_word"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")

# The CJK Unified Ideographs blocks that BERT surrounds with spaces (each ideograph is a word of its own).
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_cjk(code):
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _is_control(char):
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def _is_punctuation(char):
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True            # every ASCII non-letter, non-digit symbol, including $ + < = > ^ ` | ~
    return unicodedata.category(char).startswith("P")


def _check_text(text, who, name="text"):
    if not isinstance(text, str):
        raise DTypeError(f"{who}: {name} must be a str, got {type(text).__name__}"
                         + (": decode bytes first, text.decode('utf-8')" if isinstance(text, bytes) else ""))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise DataError(f"{who}: {name} contains an unpaired surrogate at position {error.start} "
                        f"({text[error.start]!r}), which is not valid Unicode: clean it with "
                        f"text.encode('utf-8', 'replace').decode('utf-8')") from None
    return text


def bert_normalize(text, *, lowercase=True, strip_accents=None):
    """BERT's normaliser. ``strip_accents=None`` strips them exactly when ``lowercase`` (BERT's rule)."""
    text = _check_text(text, "bert_normalize")
    lowercase = validation.boolean(lowercase, "lowercase", "bert_normalize")
    if strip_accents is not None:
        strip_accents = validation.boolean(strip_accents, "strip_accents", "bert_normalize")
    out = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if char.isspace():
            out.append(" ")
        elif _is_cjk(code):
            out.append(f" {char} ")
        else:
            out.append(char)
    text = "".join(out)
    if lowercase if strip_accents is None else strip_accents:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    if lowercase:
        text = text.lower()
    return text


def bert_pretokenize(text):
    """Split normalised text into words: on white space (dropped) and around punctuation (kept, alone)."""
    text = _check_text(text, "bert_pretokenize")
    words, current = [], []
    for char in text:
        if char.isspace():
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(char):
            if current:
                words.append("".join(current))
                current = []
            words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def wordpiece_word(word, vocab, *, unk_token="[UNK]", prefix="##", max_chars=100):
    """Greedy longest-match-first WordPiece of one word -> list of pieces (``[unk_token]`` if any rest
    of the word has no match, or the word is longer than ``max_chars`` characters).

    ``word`` is one non-empty word, as ``bert_pretokenize`` returns them: an empty word is refused."""
    _check_text(word, "wordpiece_word", "word")
    if not word:
        raise ConfigError("wordpiece_word: word must not be empty (an empty word has no pieces); split the text "
                          "with bert_pretokenize(text), which never gives an empty word")
    unk_token = validation.text(unk_token, "unk_token", "wordpiece_word")
    prefix = validation.text(prefix, "prefix", "wordpiece_word")
    if not isinstance(vocab, (dict, set, frozenset)):
        raise ConfigError(f"wordpiece_word: vocab must be a dict (or set) of tokens, got {type(vocab).__name__}")
    if isinstance(max_chars, bool) or not isinstance(max_chars, numbers.Integral) or max_chars < 1:
        raise ConfigError(f"wordpiece_word: max_chars must be a whole number >= 1, got {max_chars!r}")
    if len(word) > max_chars:
        return [unk_token]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:                         # the longest piece first
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:                           # nothing matched: the whole word is unknown
            return [unk_token]
        pieces.append(piece)
        start = end
    return pieces


class WordPieceTokenizer:
    """``WordPieceTokenizer(vocab, *, lowercase=True, max_length=512)``: ``vocab`` is a list of tokens
    (id = position) or a dict token -> id, and must contain ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]``.

    ``from_file(path)`` reads a Hugging Face ``tokenizer.json`` or a BERT ``vocab.txt``.
    ``tokenize(text)`` -> pieces; ``encode(text)`` -> ids with ``[CLS]``/``[SEP]``, at most
    ``max_length``; ``batch(texts)`` -> ``(ids, mask)`` arrays padded with ``[PAD]``; ``decode(ids)``.
    """

    def __init__(self, vocab, *, lowercase=True, strip_accents=None, max_length=512, max_input_chars_per_word=100):
        if isinstance(vocab, dict):
            items = list(vocab.items())
        elif isinstance(vocab, (list, tuple)):
            items = [(token, i) for i, token in enumerate(vocab)]
        else:
            raise ConfigError(f"WordPieceTokenizer: vocab must be a list of tokens or a dict token -> id, got "
                              f"{type(vocab).__name__}: use WordPieceTokenizer.from_file(path) for a file")
        for token, index in items:
            if not isinstance(token, str) or not token or isinstance(index, bool) \
                    or not isinstance(index, numbers.Integral) or index < 0:
                raise ConfigError(f"WordPieceTokenizer: vocab entry {token!r} -> {index!r} is not a non-empty "
                                  f"token with an id >= 0")
        self.vocab = {token: int(index) for token, index in items}
        if len(set(self.vocab.values())) != len(self.vocab):
            raise ConfigError("WordPieceTokenizer: two tokens of vocab share an id: every id must be unique")
        missing = [t for t in SPECIAL_TOKENS if t not in self.vocab]
        if missing:
            raise ConfigError(f"WordPieceTokenizer: vocab lacks the special tokens {missing}: add them "
                              f"(BERT puts [PAD] at 0, [UNK] at 100, [CLS] at 101, [SEP] at 102)")
        if not isinstance(lowercase, bool) or strip_accents not in (None, True, False):
            raise ConfigError(f"WordPieceTokenizer: lowercase must be True or False and strip_accents None, True "
                              f"or False, got {lowercase!r} and {strip_accents!r}")
        self.lowercase, self.strip_accents = lowercase, strip_accents
        self.max_length = self._check_max_length(max_length, "WordPieceTokenizer")
        if isinstance(max_input_chars_per_word, bool) or not isinstance(max_input_chars_per_word, numbers.Integral) \
                or max_input_chars_per_word < 1:
            raise ConfigError(f"WordPieceTokenizer: max_input_chars_per_word must be a whole number >= 1, got "
                              f"{max_input_chars_per_word!r}")
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.id_to_token = {index: token for token, index in self.vocab.items()}
        # Special tokens written in the text ("[SEP]") are read as the special token, as Hugging Face does
        # (its "added tokens"): they are matched in the raw text, before normalisation.
        specials = [t for t in (*SPECIAL_TOKENS, "[MASK]") if t in self.vocab]
        self._special_pattern = re.compile("(" + "|".join(re.escape(t) for t in specials) + ")")
        self.pad_id, self.unk_id = self.vocab["[PAD]"], self.vocab["[UNK]"]
        self.cls_id, self.sep_id = self.vocab["[CLS]"], self.vocab["[SEP]"]

    @staticmethod
    def _check_max_length(max_length, who):
        if isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or not 2 <= max_length <= 10**6:
            raise ConfigError(f"{who}: max_length must be a whole number in [2, 1000000] (room for [CLS] and "
                              f"[SEP]), got {max_length!r}")
        return int(max_length)

    @property
    def vocab_size(self):
        return max(self.vocab.values()) + 1

    # ------------------------------------------------------------------ files
    @classmethod
    def from_file(cls, path, *, max_length=512):
        """Read a Hugging Face ``tokenizer.json`` (WordPiece model, BERT normaliser) or a ``vocab.txt``."""
        if not isinstance(path, (str, os.PathLike)):
            raise ConfigError(f"WordPieceTokenizer.from_file: path must be a file path, got {type(path).__name__}")
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise DataError(f"WordPieceTokenizer.from_file: path {path!r} is not a file: give the path of a "
                            f"tokenizer.json or vocab.txt")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"WordPieceTokenizer.from_file: cannot read path {path!r} as UTF-8 text ({error}): "
                            f"give a tokenizer.json or vocab.txt") from None
        if not path.endswith(".json"):
            tokens = text.splitlines()
            return cls(tokens, max_length=max_length)
        try:
            spec = json.loads(text)
            model, normalizer = spec["model"], spec.get("normalizer") or {}
            if model.get("type") != "WordPiece":
                raise DataError(f"WordPieceTokenizer.from_file: path {path!r} holds a {model.get('type')!r} "
                                f"tokenizer, not WordPiece: use the tokenizer of a BERT-family model")
            vocab = dict(model["vocab"])
            for added in spec.get("added_tokens", []):
                vocab.setdefault(added["content"], added["id"])
            return cls(vocab, lowercase=bool(normalizer.get("lowercase", True)),
                       strip_accents=normalizer.get("strip_accents"), max_length=max_length,
                       max_input_chars_per_word=int(model.get("max_input_chars_per_word", 100)))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as error:
            if isinstance(error, DataError):
                raise
            raise DataError(f"WordPieceTokenizer.from_file: path {path!r} is not a valid tokenizer.json "
                            f"({type(error).__name__}: {error}): give an unmodified tokenizer.json") from None

    # ------------------------------------------------------------------ text -> ids
    def normalize(self, text):
        return bert_normalize(_check_text(text, "WordPieceTokenizer.normalize"), lowercase=self.lowercase,
                              strip_accents=self.strip_accents)

    def tokenize(self, text):
        """The word pieces of ``text`` (no special tokens, no truncation)."""
        text = _check_text(text, "WordPieceTokenizer.tokenize")
        pieces = []
        for i, part in enumerate(self._special_pattern.split(text)):
            if i % 2:                                  # a special token written in the text: kept whole
                pieces.append(part)
                continue
            for word in bert_pretokenize(self.normalize(part)):
                pieces.extend(wordpiece_word(word, self.vocab, max_chars=self.max_input_chars_per_word))
        return pieces

    def encode(self, text, *, max_length=None):
        """``[CLS] pieces [SEP]`` as ids; the pieces are cut to ``max_length - 2`` (default: the tokenizer's)."""
        text = _check_text(text, "WordPieceTokenizer.encode")
        limit = (self.max_length if max_length is None
                 else self._check_max_length(max_length, "WordPieceTokenizer.encode"))
        ids = [self.vocab[piece] for piece in self.tokenize(text)][:limit - 2]
        return [self.cls_id, *ids, self.sep_id]

    def batch(self, texts, *, max_length=None):
        """``(ids, mask)``: int64 arrays (N, T) padded with ``[PAD]`` to the longest encoded text, and the
        attention mask (1 = a real token, 0 = padding)."""
        if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
            raise DTypeError(f"WordPieceTokenizer.batch: texts must be a list of str, got {type(texts).__name__}"
                             + (": wrap one sentence in a list, [text]" if isinstance(texts, str) else ""))
        if not texts:
            raise DataError("WordPieceTokenizer.batch: texts is empty: give at least one sentence")
        for i, text in enumerate(texts):
            _check_text(text, "WordPieceTokenizer.batch", f"texts[{i}]")
        encoded = [self.encode(text, max_length=max_length) for text in texts]
        T = max(len(e) for e in encoded)
        ids = np.full((len(encoded), T), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), T), dtype=np.int64)
        for i, e in enumerate(encoded):
            ids[i, :len(e)] = e
            mask[i, :len(e)] = 1
        return ids, mask

    def decode(self, ids):
        """The pieces of ``ids`` joined back into text (``##`` continuations glued on, padding dropped)."""
        if isinstance(ids, np.ndarray):
            ids = ids.tolist()
        if not isinstance(ids, (list, tuple)) or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                                          for i in ids):
            raise DTypeError(f"WordPieceTokenizer.decode: ids must be a list of integer ids, got {ids!r:.80}")
        unknown = [i for i in ids if i not in self.id_to_token]
        if unknown:
            raise DataError(f"WordPieceTokenizer.decode: ids {unknown[:5]} are not in the vocabulary "
                            f"(ids 0..{self.vocab_size - 1})")
        words = []
        for i in ids:
            token = self.id_to_token[i]
            if token == "[PAD]":
                continue
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return " ".join(words)

    def __repr__(self):
        return (f"WordPieceTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase}, "
                f"max_length={self.max_length})")
