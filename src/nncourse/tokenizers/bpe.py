"""Byte-level byte-pair encoding (BPE), written from scratch in pure Python.

A text is first turned into its UTF-8 bytes, so every string has a spelling in 256 symbols and no
word is ever "unknown". Training then repeats one step: count every pair of neighbouring tokens
(inside each pre-tokenized piece, see ``pretokenize``), and give the most frequent pair a new id::

    "low lower lowest"  bytes  l o w _ l o w e r _ l o w e s t
    most frequent pair (l, o) -> token 256 "lo";  then (256, w) -> 257 "low";  ...

Ids 0-255 are the bytes; merge ``k`` creates id ``256 + k``; special tokens (``"<|endoftext|>"``)
come after the merges, as in GPT-2.

**Ties.** When several pairs share the highest count, the pair with the smallest ids wins:
the smallest first id, then the smallest second id (``(32, 116)`` before ``(101, 32)`` before
``(101, 115)``). The rule only needs the ids, so every machine and every Python gives the same
merges. Hugging Face's ``tokenizers`` uses the same rule on *its own* ids, which number the bytes in
the order of GPT-2's printable characters (``bytes_to_unicode``), not by byte value: the two agree
whenever the winner is unique, and may pick different pairs among equals (the tests pin an example).

**Encoding** a piece applies the learned merges by rank (pieces are short, so this simple loop is
quick; with ``pattern=None`` the whole text is one piece, which is fine for a sentence but slow for a
book): repeatedly find the neighbouring pair that
was learned first and merge it everywhere in the piece, until no learned pair is left. This gives
the same tokens as replaying all merges in training order, and is what GPT-2 does.

**An explicit vocabulary (chapter 17).** A pretrained model's tokenizer numbers its tokens its own way:
SmolLM2 puts 17 special tokens at ids 0-16, then the byte symbols in GPT-2's printable order
(``"a"`` = 81), then the merged tokens, and each merge's result has the id its vocabulary gives.
``BPETokenizer.from_vocabulary(tokens, merges)`` builds the same class from such a list: the merge
algorithm is unchanged, only three look-ups become tables (the id of each byte, the id each merge makes,
the bytes of each id). Such a tokenizer is read from its model file and is not saved in the
version-1 format, which stores only chapter 14's layout.

``count_pairs`` and ``merge`` are the two steps on a plain list of ids, as the chapter writes them.
``train_merges`` is the fast version for a whole corpus: it keeps the pair counts up to date after
each merge, touching only the pieces that contain the merged pair, and a heap finds the next winner.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
import heapq
import json
import numbers
import os
import tempfile

from ..errors import ConfigError, DataError
from ..utils import publish
from ..validation import boolean, non_negative_int, positive_int
from .pretokenize import bytes_to_unicode, compile_pattern, pretokenize

__all__ = ["count_pairs", "merge", "train_merges", "BPETokenizer", "FORMAT", "N_BYTES"]

N_BYTES = 256
#: the ``"format"`` field of a saved tokenizer file
FORMAT = "nncourse-byte-bpe"
_VERSION = 1


def count_pairs(ids, counts=None, weight=1):
    """``{(a, b): how often b follows a}`` in the list ``ids``; adds ``weight`` per pair into ``counts``.

    >>> count_pairs([1, 2, 1, 2, 3])
    {(1, 2): 2, (2, 1): 1, (2, 3): 1}
    """
    ids = _id_list(ids, "count_pairs")
    weight = positive_int(weight, "weight", "count_pairs")
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids, pair, new_id):
    """``ids`` with every occurrence of ``pair`` (left to right, never overlapping) replaced by ``new_id``.

    >>> merge([1, 2, 1, 2, 3], (1, 2), 256)
    [256, 256, 3]
    >>> merge([5, 5, 5], (5, 5), 256)      # the left pair first: (5 5) 5
    [256, 5]
    """
    ids = _id_list(ids, "merge")
    if isinstance(pair, (str, bytes)) or not isinstance(pair, (tuple, list)) or len(pair) != 2 \
            or not all(_is_token_id(i) for i in pair):
        raise ConfigError(f"merge: pair must be two token ids (a, b), such as (104, 101), got {pair!r:.40}")
    new_id = non_negative_int(new_id, "new_id", "merge")
    return _merge(ids, pair, new_id)


def _merge(ids, pair, new_id):
    """``merge`` without the checks (the training and encoding loops call it on their own lists)."""
    out, i, a, b = [], 0, pair[0], pair[1]
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _id_list(ids, who):
    """``ids`` as a list (of token ids); text or a single number is refused with the fix."""
    if isinstance(ids, (str, bytes)):
        raise ConfigError(f"{who}: ids must be a list of token ids, got the {type(ids).__name__} {ids!r:.40}; "
                          f"start from list(text.encode('utf-8'))")
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if not isinstance(ids, (list, tuple)):
        raise ConfigError(f"{who}: ids must be a list of token ids, such as list(text.encode('utf-8')), got "
                          f"{type(ids).__name__}")
    for i in ids:
        if not _is_token_id(i):
            raise ConfigError(f"{who}: ids must hold whole numbers >= 0 (token ids), got {i!r:.40} "
                              f"({type(i).__name__}); start from list(text.encode('utf-8'))")
    return ids


def _is_token_id(i):
    return isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= 0


def _check_text(text, who):
    if isinstance(text, bytes):
        raise ConfigError(f"{who} expects text (str), got bytes: decode them first, data.decode('utf-8')")
    if not isinstance(text, str):
        raise ConfigError(f"{who} expects text (str), got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ConfigError(f"{who}: the text holds {text[error.start:error.end]!r} at position {error.start}, "
                          f"a lone surrogate that has no UTF-8 bytes; clean the text first, e.g. "
                          f"text.encode('utf-8', 'replace').decode('utf-8')") from None


def _texts(texts, who):
    """``texts`` (one str, or an iterable of str) as a list of str; bytes, numbers and None are refused."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray)):
        raise ConfigError(f"{who}: texts must be text (a str or a list of str), got {type(texts).__name__}: "
                          f"decode them first, data.decode('utf-8')")
    if isinstance(texts, Mapping) or not isinstance(texts, Iterable):
        raise ConfigError(f"{who}: texts must be text (a str or a list of str), got {type(texts).__name__} "
                          f"{texts!r:.40}; read the corpus as a str first, e.g. open(path).read()")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigError(f"{who}: texts[{i}] is {type(text).__name__} {text!r:.40}, but every item must be "
                              f"a str; convert or drop it (str(x) for numbers, x.decode('utf-8') for bytes)")
    return texts


def _special_names(special_tokens, who):
    """``special_tokens`` as a tuple of names; one string (which would be read letter by letter) is refused."""
    if isinstance(special_tokens, str):
        raise ConfigError(f"{who}: special_tokens must be a list of strings, got the single string "
                          f"{special_tokens!r}, which would become one special token per character; "
                          f"write special_tokens=[{special_tokens!r}]")
    try:
        return tuple(special_tokens)
    except TypeError:
        raise ConfigError(f"{who}: special_tokens must be a list of strings such as ['<|endoftext|>'], got "
                          f"{type(special_tokens).__name__}") from None


def _piece_counts(texts, pattern):
    """``{piece as a tuple of byte ids: how many times it occurs}`` over all texts."""
    compiled = compile_pattern(pattern)
    counts = collections.Counter()
    for text in texts:
        _check_text(text, "train")
        counts.update(pretokenize(text, compiled))
    return {tuple(piece.encode("utf-8")): n for piece, n in counts.items()}


def train_merges(texts, n_merges, pattern="gpt2"):
    """The first ``n_merges`` merges learned from ``texts`` (a str or a list of str): a list of
    ``(pair, count)`` with ``pair = (a, b)``; merge ``k`` makes token ``256 + k``.

    Stops early (returning fewer merges) when no pair occurs any more: every piece is one token.
    """
    texts = _texts(texts, "train_merges")
    if not any(texts):
        raise ConfigError("train_merges: texts is empty, so there is nothing to learn merges from; pass the "
                          "corpus as a str or a list of str")
    if isinstance(n_merges, bool) or not isinstance(n_merges, numbers.Integral) or n_merges < 0:
        raise ConfigError(f"train_merges: n_merges must be a whole number >= 0, got {n_merges!r}")
    pieces = _piece_counts(texts, pattern)
    words = [list(p) for p in pieces]                       # each piece's current tokens
    freq = list(pieces.values())                            # how often each piece occurs
    pair_counts = collections.defaultdict(int)
    where = collections.defaultdict(set)                    # pair -> indices of the pieces holding it
    for w, ids in enumerate(words):
        for pair in zip(ids, ids[1:]):
            pair_counts[pair] += freq[w]
            where[pair].add(w)
    heap = [(-c, pair) for pair, c in pair_counts.items()]  # smallest (-count, pair) = our winner
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:           # an outdated entry: skip it
            continue
        if -negative < 1:
            break
        new_id = N_BYTES + len(merges)
        merges.append((pair, -negative))
        changed = set()
        for w in where.pop(pair, ()):
            ids = words[w]
            if len(ids) < 2:
                continue
            merged = _merge(ids, pair, new_id)
            if len(merged) == len(ids):                      # stale index entry: the pair is gone
                continue
            for old in zip(ids, ids[1:]):                    # the piece's old pairs leave ...
                pair_counts[old] -= freq[w]
                changed.add(old)
            for new in zip(merged, merged[1:]):              # ... and its new pairs come in
                pair_counts[new] += freq[w]
                where[new].add(w)
                changed.add(new)
            words[w] = merged
        pair_counts.pop(pair, None)
        for p in changed:
            c = pair_counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_counts.pop(p, None)
    return merges


def _file_path(path, who):
    try:
        return os.fspath(path)
    except TypeError:
        raise ConfigError(f"{who}: path must be a file name (a str or a pathlib.Path), such as 'tokenizer.json', "
                          f"got {type(path).__name__}") from None


def _parents(folder):
    """``folder`` and the folders above it, nearest first."""
    while True:
        yield folder
        above = os.path.dirname(folder)
        if above == folder:
            return
        folder = above


class BPETokenizer:
    """A byte-level BPE tokenizer: ``BPETokenizer.train(text, vocab_size)``, ``encode``, ``decode``.

    ``merges``: list of ``(a, b)`` pairs in the order learned (merge ``k`` is token ``256 + k``);
    ``special_tokens``: ``{string: id}``, ids after the merges; ``pattern``: ``"gpt2"`` (split the
    text with GPT-2's pattern first) or ``None`` (BPE over the whole text).

    >>> tok = BPETokenizer.train("low lower lowest " * 10, vocab_size=260)
    >>> [tok.token_bytes(i) for i in range(256, 260)]
    [b'lo', b'low', b' low', b' lowe']
    >>> tok.decode(tok.encode("lowly"))
    'lowly'
    """

    def __init__(self, merges=(), *, special_tokens=(), pattern="gpt2"):
        compile_pattern(pattern)                            # checks the name
        self.pattern = pattern
        self.merges = []
        self._vocab = [bytes([b]) for b in range(N_BYTES)]  # id -> its bytes
        if isinstance(merges, (str, bytes, Mapping)) or not isinstance(merges, Iterable):
            raise ConfigError(f"BPETokenizer: merges must be a list of pairs of token ids, such as [(104, 101)], "
                              f"got the {type(merges).__name__} {merges!r:.40}")
        for k, pair in enumerate(merges):
            pair = self._check_pair(pair, k)
            self.merges.append(pair)
            self._vocab.append(self._vocab[pair[0]] + self._vocab[pair[1]])
        self.ranks = {pair: k for k, pair in enumerate(self.merges)}
        self.special_tokens = {}
        for name in _special_names(special_tokens, "BPETokenizer"):
            self._check_special_name(name)
            self.special_tokens[name] = N_BYTES + len(self.merges) + len(self.special_tokens)
        # chapter 14's layout as tables: byte b is id b, merge k makes id 256 + k, specials come last
        self._byte_ids = list(range(N_BYTES))
        self._merge_into = {pair: N_BYTES + k for pair, k in self.ranks.items()}
        self._n_ids = len(self._vocab) + len(self.special_tokens)
        self._explicit_vocabulary = False
        self._finish(pattern)

    def _check_special_name(self, name):
        if not isinstance(name, str) or not name:
            raise ConfigError(f"special_tokens must hold non-empty strings such as '<|endoftext|>', got {name!r}")
        if name in self.special_tokens:
            raise ConfigError(f"the special token {name!r} is given twice")

    def _finish(self, pattern):
        self._special_by_id = {i: s for s, i in self.special_tokens.items()}
        self._cache = {}
        self._compiled = compile_pattern(pattern)
        #: how often each merged pair occurred when it was chosen (set by ``train``; None after ``load``)
        self.merge_counts = None

    @classmethod
    def from_vocabulary(cls, tokens, merges, *, special_tokens=(), pattern="gpt2"):
        """A tokenizer with a vocabulary of its own, as pretrained models ship it (chapter 17).

        ``tokens``: the token of each id, spelled with GPT-2's byte characters (``bytes_to_unicode``:
        ``"Ġthe"`` is ``b" the"``); ``merges``: the merges in rank order, each ``"Ġ t"`` or
        ``("Ġ", "t")``; ``special_tokens``: the names among ``tokens`` that ``encode`` turns into one id
        (they keep the ids ``tokens`` gives them). Bytes with no token of their own cannot be encoded:
        ``encode`` names them. ``pattern``: ``"gpt2"`` (the default), ``"smollm"``, a compiled
        ``re.Pattern``, or ``None``, which is a documented choice, not a missing value: no
        pre-tokenization, BPE runs over the whole text as one piece.
        """
        who = "BPETokenizer.from_vocabulary"
        if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__len__"):
            raise ConfigError(f"{who}: tokens must be a list of token strings (id -> token), got "
                              f"{type(tokens).__name__}")
        tokens = list(tokens)
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            bad = next((t for t in tokens if not (isinstance(t, str) and t)), None)
            raise ConfigError(f"{who}: tokens must be non-empty strings, got {bad!r}" if tokens else
                              f"{who}: tokens is empty; pass the vocabulary, one token string per id")
        ids = {}
        for i, t in enumerate(tokens):
            if t in ids:
                raise ConfigError(f"{who}: the token {t!r} appears twice (ids {ids[t]} and {i}); a vocabulary "
                                  f"gives each token one id")
            ids[t] = i
        self = cls.__new__(cls)
        compile_pattern(pattern)
        self.pattern = pattern
        self.special_tokens = {}
        for name in _special_names(special_tokens, "BPETokenizer.from_vocabulary"):
            self._check_special_name(name)
            if name not in ids:
                raise ConfigError(f"{who}: the special token {name!r} is not among the tokens; list only tokens "
                                  f"of the vocabulary")
            self.special_tokens[name] = ids[name]
        reverse = {c: b for b, c in bytes_to_unicode().items()}
        self._vocab = []
        for i, t in enumerate(tokens):
            if t in self.special_tokens:
                self._vocab.append(t.encode("utf-8"))
                continue
            try:
                self._vocab.append(bytes(reverse[c] for c in t))
            except KeyError as error:
                raise ConfigError(f"{who}: token {i} {t!r} holds {error.args[0]!r}, which is not one of GPT-2's 256 "
                                  f"byte characters; is this a byte-level BPE vocabulary?") from None
        self._byte_ids = [ids.get(reverse_char) for reverse_char in (bytes_to_unicode()[b] for b in range(N_BYTES))]
        self.merges, self._merge_into = [], {}
        for k, entry in enumerate(merges):
            parts = entry.split(" ") if isinstance(entry, str) else entry
            try:
                a, b = parts
                pair, into = (ids[a], ids[b]), ids[a + b]
            except (TypeError, ValueError, KeyError):
                raise ConfigError(f"{who}: merge {k} = {entry!r} must be two tokens of the vocabulary, 'a b', "
                                  f"whose concatenation is a token too") from None
            if pair in self._merge_into:
                raise ConfigError(f"{who}: merge {k} = {entry!r} is given twice; each pair has one rank")
            self.merges.append(pair)
            self._merge_into[pair] = into
        self.ranks = {pair: k for k, pair in enumerate(self.merges)}
        self._n_ids = len(tokens)
        self._explicit_vocabulary = True
        self._finish(pattern)
        return self

    def _check_pair(self, pair, k):
        try:
            a, b = pair
        except (TypeError, ValueError):
            raise ConfigError(f"merge {k} must be a pair of token ids (a, b), got {pair!r}; merges must be a list "
                              f"of such pairs, such as [(104, 101)]") from None
        for x in (a, b):
            if isinstance(x, bool) or not isinstance(x, numbers.Integral) or not 0 <= x < N_BYTES + k:
                raise ConfigError(f"merge {k} = {pair!r}: its ids must be known tokens, 0..{N_BYTES + k - 1} "
                                  f"(bytes 0-255, then the merges before it)")
        return int(a), int(b)

    # ---------------------------------------------------------------------------------- training
    @classmethod
    def train(cls, texts, vocab_size, *, special_tokens=(), pattern="gpt2"):
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``texts`` (a str or list of str).

        ``vocab_size`` counts everything, like Hugging Face's trainer: the 256 bytes, the merges and
        the special tokens. If the text runs out of pairs first, the vocabulary is smaller
        (``tok.vocab_size`` says how large it is).
        """
        special_tokens = _special_names(special_tokens, "BPETokenizer.train")
        texts = _texts(texts, "BPETokenizer.train")
        smallest = N_BYTES + len(special_tokens)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral) or vocab_size < smallest:
            raise ConfigError(f"BPETokenizer.train: vocab_size must be an integer >= {smallest} (256 bytes"
                              f"{f' + {len(special_tokens)} special tokens' if special_tokens else ''}), "
                              f"got {vocab_size!r}")
        if not any(texts):
            raise ConfigError("BPETokenizer.train: the training text is empty (texts holds no characters); pass "
                              "the corpus as a str or a list of str")
        merges = train_merges(texts, vocab_size - smallest, pattern)
        tok = cls([pair for pair, _ in merges], special_tokens=special_tokens, pattern=pattern)
        tok.merge_counts = [count for _, count in merges]
        return tok

    # ---------------------------------------------------------------------------------- the vocabulary
    @property
    def vocab_size(self) -> int:
        """Bytes + merges + special tokens: the size of a model's embedding table for these ids."""
        return self._n_ids

    def token_bytes(self, token_id) -> bytes:
        """The bytes a token stands for (a special token: its UTF-8 string)."""
        self._check_ids([token_id], "token_bytes", "token_id")
        if token_id in self._special_by_id:
            return self._special_by_id[token_id].encode("utf-8")
        return self._vocab[token_id]

    def token_str(self, token_id) -> str:
        """A readable form of one token: its bytes decoded, invalid UTF-8 shown as ``\\xNN``."""
        self._check_ids([token_id], "token_str", "token_id")
        return self.token_bytes(token_id).decode("utf-8", errors="backslashreplace")

    # ---------------------------------------------------------------------------------- encode / decode
    def encode(self, text: str, *, special: bool = True) -> list[int]:
        """The token ids of ``text``. With ``special=True`` every special-token string in the text
        becomes its single id; with ``special=False`` it is encoded as ordinary text (use that for
        text from users, who should not be able to type an end-of-text marker)."""
        _check_text(text, "encode")
        special = boolean(special, "special", "encode")
        if special and self.special_tokens:
            ids = []
            for chunk, is_special in self._split_special(text):
                ids.extend([self.special_tokens[chunk]] if is_special else self._encode_ordinary(chunk))
            return ids
        return self._encode_ordinary(text)

    def _split_special(self, text):
        """``[(chunk, is_special), ...]``: the text cut at special tokens (the longest first)."""
        names = sorted(self.special_tokens, key=len, reverse=True)
        out, start, i = [], 0, 0
        while i < len(text):
            hit = next((s for s in names if text.startswith(s, i)), None)
            if hit is None:
                i += 1
                continue
            if start < i:
                out.append((text[start:i], False))
            out.append((hit, True))
            i = start = i + len(hit)
        if start < len(text):
            out.append((text[start:], False))
        return out

    def _encode_ordinary(self, text):
        ids = []
        for piece in pretokenize(text, self._compiled):
            cached = self._cache.get(piece)
            if cached is None:
                cached = self._encode_piece(piece.encode("utf-8"))
                if len(self._cache) < 200_000:
                    self._cache[piece] = cached
            ids.extend(cached)
        return ids

    def _encode_piece(self, data: bytes):
        """BPE on one piece: merge the earliest-learned pair present, until none is left."""
        byte_ids = self._byte_ids
        ids = [byte_ids[b] for b in data]
        if None in ids:
            self._missing_byte(data)
        ranks = self.ranks
        while len(ids) > 1:
            best = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, len(ranks)))
            if best not in ranks:
                break
            ids = _merge(ids, best, self._merge_into[best])
        return ids

    def _missing_byte(self, data: bytes):
        text = data.decode("utf-8")
        for position, char in enumerate(text):
            missing = [b for b in char.encode("utf-8") if self._byte_ids[b] is None]
            if missing:
                raise ConfigError(f"encode: the character {char!r} (U+{ord(char):04X}) needs the byte "
                                  f"0x{missing[0]:02X}, which this vocabulary has no token for, so the text cannot "
                                  f"be encoded without losing it; remove or replace that character first")

    def decode_bytes(self, ids) -> bytes:
        """The bytes of a list of ids (may end in the middle of a UTF-8 character)."""
        ids = self._check_ids(ids)
        return b"".join(self._special_by_id[i].encode("utf-8") if i in self._special_by_id else self._vocab[i]
                        for i in ids)

    def decode(self, ids, errors="replace") -> str:
        """The text of a list of ids. Bytes that are not valid UTF-8 (a model can sample half a
        character) become U+FFFD "�" with ``errors="replace"``; ``errors="strict"`` raises instead."""
        if errors not in ("replace", "strict", "ignore", "backslashreplace"):
            raise ConfigError(f"decode: errors must be 'replace', 'strict', 'ignore' or 'backslashreplace', got "
                              f"{errors!r}")
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def _check_ids(self, ids, who="decode", name="ids"):
        if isinstance(ids, (str, bytes)):
            raise ConfigError(f"decode expects a list of token ids, got the {type(ids).__name__} {ids!r:.40}: "
                              f"encode text with tok.encode(text)")
        if hasattr(ids, "tolist"):                          # a NumPy array or a torch tensor
            ids = ids.tolist()
        if isinstance(ids, numbers.Integral):
            ids = [ids]
        ids = list(ids)
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                raise ConfigError(f"{who}: {name}: token ids must be integers, got {i!r} ({type(i).__name__}); "
                                  f"pass ids from tok.encode(text)")
            if not 0 <= i < self.vocab_size:
                raise ConfigError(f"{who}: {name}: token id {i} is out of range: this tokenizer has ids "
                                  f"0..{self.vocab_size - 1} (vocab_size={self.vocab_size}); were the ids made by "
                                  f"another tokenizer?")
        return [int(i) for i in ids]

    # ---------------------------------------------------------------------------------- save / load
    def to_dict(self) -> dict:
        if self._explicit_vocabulary:
            raise ConfigError("save: this tokenizer has a vocabulary of its own (from_vocabulary, e.g. read from a "
                              "model file); the version-1 file format stores chapter 14's layout only. Read it "
                              "again from its model file instead of saving it")
        return {"format": FORMAT, "version": _VERSION, "pattern": self.pattern,
                "merges": [list(p) for p in self.merges], "special_tokens": list(self.special_tokens)}

    def save(self, path) -> None:
        """Write the tokenizer as JSON (written to a temporary file, then renamed: never half a file)."""
        if self.pattern is not None and not isinstance(self.pattern, str):
            raise ConfigError("save: a tokenizer with a compiled pattern of its own cannot be saved by name; "
                              "use pattern='gpt2' or None")
        path = _file_path(path, "save")
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise DataError(f"cannot save the tokenizer to {path}: it is a folder, not a file; give a file name "
                            f"inside it, such as {os.path.join(path, 'tokenizer.json')}")
        parent = next((p for p in _parents(folder) if os.path.exists(p)), None)
        if parent is not None and not os.path.isdir(parent):
            beside = os.path.join(os.path.dirname(parent), "tokenizer.json")
            raise DataError(f"cannot save the tokenizer to {path}: {parent} is a file, not a folder; save the "
                            f"tokenizer next to it instead, such as {beside}")
        if not os.path.isdir(folder):
            raise DataError(f"cannot save the tokenizer to {path}: the folder {folder} does not exist; create it first "
                            f"(os.makedirs(folder, exist_ok=True)) or choose a writable folder that exists")
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tokenizer-", suffix=".tmp")
        except OSError as error:
            raise DataError(f"cannot save the tokenizer to {path}: {error.strerror or error}; choose a "
                            f"writable folder") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(self.to_dict(), file)
            publish(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    @classmethod
    def load(cls, path) -> "BPETokenizer":
        """Read a file written by ``save``. A missing, truncated or edited file is a ``DataError``."""
        path = _file_path(path, "load")
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except FileNotFoundError:
            raise DataError(f"no tokenizer file at {path}: save one first with tok.save(path)") from None
        except IsADirectoryError:
            raise DataError(f"load: {path} is a folder, not a tokenizer file; pass the file that tok.save wrote, "
                            f"such as {os.path.join(path, 'tokenizer.json')}") from None
        except NotADirectoryError:
            raise DataError(f"load: no tokenizer file at {path}: a part of that path is a file, not a folder; "
                            f"check the path") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(f"the tokenizer file {path} is damaged (not valid JSON: {error}); save the "
                            f"tokenizer again or retrain it") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"{path} is not a tokenizer saved by BPETokenizer.save (its 'format' field should "
                            f"be {FORMAT!r}); a Hugging Face tokenizer.json is read with the tokenizers library")
        if data.get("version") != _VERSION:
            raise DataError(f"{path} has version {data.get('version')!r}, this course reads version {_VERSION}; "
                            f"save the tokenizer again with this version of the course")
        missing = [k for k in ("pattern", "merges", "special_tokens") if k not in data]
        if missing:
            raise DataError(f"the tokenizer file {path} lacks {missing}: it is damaged; save it again")
        try:
            return cls(data["merges"], special_tokens=data["special_tokens"], pattern=data["pattern"])
        except (ConfigError, TypeError) as error:
            raise DataError(f"the tokenizer file {path} is damaged: {error}; save it again or retrain it") from None

    def __repr__(self):
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={list(self.special_tokens)}, pattern={self.pattern!r})")
