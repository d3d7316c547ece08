"""Checks for the chapter 20 exercises: encoders and embeddings.

Use them at the end of each exercise::

    from nncourse.checks import ch20 as check
    check.wordpiece(wordpiece)

``wordpiece`` (greedy longest-match-first WordPiece of one word), ``mean_pool`` (the mean of the real
tokens' hidden states), ``cosine_similarity`` (every pair of rows of two matrices), ``bidirectional_mask``
(the encoder's attention mask: every query sees every real key) and ``recall_at_k`` (the share of each
query's relevant documents among its first k results). The expected values come from the course's package
(``nncourse.tokenizers.wordpiece_word``, ``nncourse.models.mean_pool``, the row normalisation of
``BertEncoder.encode``) where it has them; the checks use small arrays and a vocabulary of a few pieces,
never the MiniLM model.
"""

from __future__ import annotations

import numpy as np

from .framework import Tester, check

__all__ = ["wordpiece", "mean_pool", "cosine_similarity", "bidirectional_mask", "recall_at_k", "VOCAB"]

#: The small vocabulary of the WordPiece exercise (piece -> id); "##" marks a piece that continues a word.
VOCAB = {"[UNK]": 0, "un": 1, "##believ": 2, "##able": 3, "##a": 4, "believ": 5, "##ly": 6, "play": 7,
         "##ing": 8, "ing": 9, "##play": 10, "p": 11, "##l": 12, "##y": 13, "##i": 14, "##n": 15, "##g": 16,
         "u": 17, "##e": 18, "##r": 19, "##s": 20}


# --------------------------------------------------------------------------------------------------
# Exercise 1: WordPiece, the longest piece first
# --------------------------------------------------------------------------------------------------


def _wordpiece(word, vocab, *, shortest=False, prefix_rest=True, prefix_first=False, on_miss="word"):
    """WordPiece with one rule changed, for the wrong answers (the right one: the defaults)."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(start + 1, len(word) + 1) if shortest else range(len(word), start, -1)
        found = None
        for end in ends:
            prefixed = prefix_first if start == 0 else prefix_rest
            piece = ("##" if prefixed else "") + word[start:end]
            if piece in vocab:
                found = end, piece
                break
        if found is None:
            if on_miss == "word":                   # the right rule: the whole word is unknown
                return ["[UNK]"]
            if on_miss == "rest":                   # keep what matched, then one [UNK] for the rest
                return pieces + ["[UNK]"]
            if on_miss == "char":                   # one [UNK] for the character, and go on
                pieces.append("[UNK]")
            start += 1                              # "skip": drop the character silently
            continue
        start, piece = found
        pieces.append(piece)
    return pieces


_WORDS = [("'playing'", "playing"), ("'unbelievable'", "unbelievable"), ("'unplayable'", "unplayable"),
          ("'play' (a whole word in the vocabulary)", "play"), ("'believably' (no piece for its 'b')", "believably"),
          ("'xylophone' (no first piece at all)", "xylophone")]


@check("wordpiece")
def wordpiece(t: Tester, wordpiece) -> None:
    """``wordpiece(word, vocab) -> list of pieces``: greedy longest match first, "##" before every piece
    after the first, ``["[UNK]"]`` when some rest of the word has no piece."""
    from ..tokenizers import wordpiece_word

    t.callable(wordpiece, "wordpiece")
    for description, word in _WORDS:
        got = t.call(wordpiece, word, dict(VOCAB))
        want = wordpiece_word(word, VOCAB)
        what = f"wordpiece({description}, VOCAB)"
        if isinstance(got, str):
            t.fail(f"{what} returned the string {got!r}, expected a list of pieces",
                   "collect the pieces in a list, e.g. ['play', '##ing'], and return the list.")
        t.expect_type(got, what, list, hint="return a list of pieces (str), e.g. ['play', '##ing'].")
        t.equal(got, want, what, mistakes=[
            (lambda: [VOCAB[piece] for piece in want],
             "return the pieces themselves (str), not their ids: the ids come later, from vocab[piece]."),
            (lambda: _wordpiece(word, VOCAB, shortest=True),
             "take the longest piece that is in the vocabulary (try end = len(word) first, then shorter), "
             "not the shortest."),
            (lambda: _wordpiece(word, VOCAB, prefix_rest=False),
             "a piece that continues a word is looked up with '##' in front ('##ing', not 'ing')."),
            (lambda: _wordpiece(word, VOCAB, prefix_first=True),
             "only the pieces after the first get '##': the first piece of a word is looked up as it is."),
            (lambda: _wordpiece(word, VOCAB, on_miss="rest"),
             "when some rest of the word matches no piece, the whole word becomes ['[UNK]'], not the pieces "
             "found so far plus '[UNK]'."),
            (lambda: _wordpiece(word, VOCAB, on_miss="skip"),
             "a character with no piece must not be skipped: the whole word becomes ['[UNK]']."),
            (lambda: _wordpiece(word, VOCAB, on_miss="char"),
             "an unmatched rest makes the whole word ['[UNK]'], not one '[UNK]' per character."),
        ], hint="start = 0; while start < len(word): try end from len(word) down to start + 1, piece = "
                "word[start:end] with '##' in front when start > 0; take the first piece in vocab; if none, "
                "return ['[UNK]'].")


# --------------------------------------------------------------------------------------------------
# Exercise 2: mean pooling with a mask
# --------------------------------------------------------------------------------------------------


def _pool_cases():
    rng = np.random.default_rng(20)
    masks = [np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]),
             np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]]),
             np.array([[1, 1, 1]])]
    names = ["hidden (2, 5, 3), mask [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]",
             "hidden (3, 4, 6), mask [[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]]",
             "hidden (1, 3, 4), no padding"]
    sizes = [3, 6, 4]
    # the padding positions hold numbers too, as an encoder's output does: averaging them in shows
    return [(name, rng.normal(0.5, 1.0, size=mask.shape + (c,)), mask) for name, mask, c in zip(names, masks, sizes)]


@check("mean_pool")
def mean_pool(t: Tester, mean_pool) -> None:
    """``mean_pool(hidden, mask) -> (N, C)``: the mean of ``hidden[n, t]`` over the positions where
    ``mask[n, t]`` is 1 (the real tokens)."""
    from ..models import mean_pool as reference
    from ..models.bert import normalize

    t.callable(mean_pool, "mean_pool")
    for description, hidden, mask in _pool_cases():
        got = t.ndarray(t.call(mean_pool, hidden, mask, errors=[
            (ValueError, "broadcast", "mask.sum(axis=1) has shape (N,), which does not line up with the (N, C) "
                                      "sums: keep the axis, mask.sum(axis=1)[:, None] (or keepdims=True).")]),
            f"mean_pool({description})")
        want = reference(hidden, mask)
        m = mask[:, :, None].astype(np.float64)
        total = (hidden * m).sum(axis=1)
        t.close(got, want, f"mean_pool({description})", mistakes=[
            (lambda: hidden.mean(axis=1),
             "that mean counts the padding too: sum hidden * mask[:, :, None] over the tokens and divide by the "
             "number of real tokens, mask.sum(axis=1)."),
            (lambda: total / hidden.shape[1],
             "the padding is zeroed, but the division is by T: divide by each sentence's number of real tokens, "
             "mask.sum(axis=1)[:, None]."),
            (lambda: total, "a mean divides the sum by the number of real tokens: mask.sum(axis=1)[:, None]."),
            (lambda: total / m.sum(),
             "divide each sentence by its own number of real tokens, mask.sum(axis=1), not by mask.sum() (the "
             "whole batch's)."),
            (lambda: normalize(want),
             "mean pooling stops at the mean: dividing by the vector's length (L2 normalisation) is a separate "
             "step, done after it."),
            (lambda: hidden[:, 0], "that is the hidden state of the first ([CLS]) token: mean pooling averages "
                                   "every real token."),
            (lambda: (hidden * (1 - m)).sum(axis=1) / (1 - m).sum(axis=1),
             "that averages the padding: mask is 1 at the real tokens, 0 at the padding."),
        ], shape_hint="one vector per sentence: (N, C) = (hidden.shape[0], hidden.shape[2]); average over the "
                      "tokens, axis=1.",
            hint="(hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1)[:, None].")


# --------------------------------------------------------------------------------------------------
# Exercise 3: cosine similarity
# --------------------------------------------------------------------------------------------------


def _cosine_cases():
    rng = np.random.default_rng(21)

    def rows(n, c):               # vectors of quite different lengths: the length must not matter
        return rng.normal(size=(n, c)) * rng.uniform(0.3, 4.0, size=(n, 1))

    return [("a (3, 4) and b (2, 4)", rows(3, 4), rows(2, 4)),
            ("a (2, 3) and b (2, 3)", rows(2, 3), rows(2, 3)),
            ("a (1, 5) and b (4, 5)", rows(1, 5), rows(4, 5))]


@check("cosine_similarity")
def cosine_similarity(t: Tester, cosine_similarity) -> None:
    """``cosine_similarity(a, b) -> (len(a), len(b))``: entry [i, j] is cos(a_i, b_j) = a_i · b_j / (‖a_i‖ ‖b_j‖)."""
    from ..models.bert import normalize

    t.callable(cosine_similarity, "cosine_similarity")
    for description, a, b in _cosine_cases():
        got = t.ndarray(t.call(cosine_similarity, a, b, errors=[
            (ValueError, "broadcast", "np.linalg.norm(a, axis=1) has shape (N,), which does not line up with a's "
                                      "rows (N, C): keep the axis, np.linalg.norm(a, axis=1, keepdims=True).")]),
            f"cosine_similarity({description})")
        want = normalize(a) @ normalize(b).T
        dots = a @ b.T
        len_a, len_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
        t.close(got, want, f"cosine_similarity({description})", mistakes=[
            (lambda: dots, "divide by the lengths, cos = a·b / (‖a‖ ‖b‖): a dot product alone grows with the "
                           "vectors' lengths."),
            (lambda: dots / len_a[:, None], "divide by the lengths of both vectors, ‖a_i‖ and ‖b_j‖, not of a's "
                                            "alone."),
            (lambda: dots / len_b[None, :], "divide by the lengths of both vectors, ‖a_i‖ and ‖b_j‖, not of b's "
                                            "alone."),
            (lambda: dots / (len_a[:, None] ** 2 * len_b[None, :] ** 2),
             "divide by the lengths, not their squares: np.linalg.norm(a, axis=1) is already the square root of "
             "the sum of squares."),
            (lambda: (a / np.linalg.norm(a, axis=0)) @ (b / np.linalg.norm(b, axis=0)).T,
             "normalise each row (each vector): np.linalg.norm(a, axis=1, keepdims=True), not each column "
             "(axis=0)."),
            (lambda: dots / (np.linalg.norm(a) * np.linalg.norm(b)),
             "each pair gets its own lengths: the norms of the rows (axis=1), not of the whole matrices."),
            (lambda: 1 - want, "that is the cosine distance, 1 - cos: the similarity is the cosine itself."),
            (lambda: want.T, "entry [i, j] compares a_i with b_j: normalised a @ normalised b.T, not b with a."),
        ], shape_hint="one row per vector of a and one column per vector of b: (len(a), len(b)), from "
                      "a_unit @ b_unit.T.",
            hint="a_unit = a / np.linalg.norm(a, axis=1, keepdims=True) (b_unit alike); return a_unit @ b_unit.T.")


# --------------------------------------------------------------------------------------------------
# Exercise 4: the bidirectional attention mask
# --------------------------------------------------------------------------------------------------


_MASKS = [("mask [[1, 1, 1, 0, 0]]", np.array([[1, 1, 1, 0, 0]])),
          ("mask [[1, 1, 0], [1, 1, 1], [1, 0, 0]]", np.array([[1, 1, 0], [1, 1, 1], [1, 0, 0]])),
          ("mask [[1, 1, 1, 1]] (no padding)", np.array([[1, 1, 1, 1]]))]


@check("bidirectional_mask")
def bidirectional_mask(t: Tester, bidirectional_mask) -> None:
    """``bidirectional_mask(mask) -> bool (N, T, T)``: entry [n, i, j] is True when query i of sentence n may
    attend to key j, that is when key j is a real token (``mask[n, j] == 1``), whatever i is."""
    from ..numpy_nn.functional import causal_mask

    t.callable(bidirectional_mask, "bidirectional_mask")
    for description, mask in _MASKS:
        what = f"bidirectional_mask({description})"
        got = t.ndarray(t.call(bidirectional_mask, mask), what, kind="bool")
        N, T = mask.shape
        keys = mask.astype(bool)[:, None, :]                         # (N, 1, T): one flag per key
        queries = mask.astype(bool)[:, :, None]                      # (N, T, 1): one flag per query
        want = np.broadcast_to(keys, (N, T, T))
        causal = causal_mask(T)[None]
        t.close(got, want, what, mistakes=[
            (lambda: causal & keys, "that is a decoder's causal mask: in an encoder every query sees every real "
                                    "key, before and after it; only the padding keys are masked."),
            (lambda: np.broadcast_to(causal, (N, T, T)),
             "that is a decoder's causal mask: an encoder drops it, and masks the padding keys instead."),
            (lambda: np.broadcast_to(queries, (N, T, T)),
             "mask the keys (the columns, mask[:, None, :]), not the queries (the rows)."),
            (lambda: queries & keys,
             "mask the keys only: a padding query with no key to attend to gets a softmax of 0 / 0 (NaN); its "
             "output is simply ignored later."),
            (lambda: ~want, "True means 'may attend': the real keys (mask == 1) are True, the padding False."),
            (lambda: np.ones((N, T, T), dtype=bool),
             "the padding keys must be masked: True only where mask[n, j] == 1."),
        ], shape_hint="one (T, T) matrix per sentence, (N, T, T): np.broadcast_to(mask[:, None, :] == 1, (N, T, T)).",
            hint="allowed[n, i, j] = (mask[n, j] == 1): np.broadcast_to(mask[:, None, :] == 1, (N, T, T)).")


# --------------------------------------------------------------------------------------------------
# Exercise 5: recall@k
# --------------------------------------------------------------------------------------------------


def _recall(ranked, relevant, k, *, duplicates=False, divide_by_k=False, any_hit=False, pooled=False,
            total=False):
    """recall@k with one rule changed, for the wrong answers (the right one: the defaults)."""
    found, sizes = [], []
    for results, wanted in zip(ranked, relevant):
        top = results[:k]
        hits = sum(doc in wanted for doc in top) if duplicates else len(set(top) & set(wanted))
        found.append(float(hits > 0) if any_hit else hits)
        sizes.append(1 if any_hit else k if divide_by_k else len(wanted))
    if pooled:
        return sum(found) / sum(sizes)
    per_query = [f / s for f, s in zip(found, sizes)]
    return float(sum(per_query)) if total else float(np.mean(per_query))


_RECALL_CASES = [("3 queries, one relevant document each, k = 2",
                  [[4, 2, 7], [5, 3, 1], [9, 8, 6]], [{2}, {5}, {9}], 2),
                 ("2 queries with 2 and 3 relevant documents, k = 3",
                  [[1, 3, 1, 4, 5], [2, 7, 8, 6, 3]], [{1, 5}, {2, 8, 3}], 3),
                 ("one query whose results hold document 6 three times, k = 4",
                  [[6, 6, 2, 6, 3, 0]], [{6, 0}], 4),
                 ("3 queries with 1, 2 and 4 relevant documents, k = 5",
                  [[11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24, 25], [30, 31, 32, 33, 34, 35]],
                  [{16}, {21, 24}, {30, 32, 35, 39}], 5)]


@check("recall_at_k")
def recall_at_k(t: Tester, recall_at_k) -> None:
    """``recall_at_k(ranked, relevant, k) -> float``: the mean over queries of the share of the query's
    relevant documents among its first k results (a document listed twice counts once)."""
    t.callable(recall_at_k, "recall_at_k")
    for description, ranked, relevant, k in _RECALL_CASES:
        what = f"recall_at_k({description})"
        got = t.number(t.call(recall_at_k, [list(r) for r in ranked], [set(r) for r in relevant], k), what)
        want = _recall(ranked, relevant, k)
        t.close(got, want, what, mistakes=[
            (lambda: _recall(ranked, relevant, k, duplicates=True),
             "count each relevant document once, even if it is listed twice: len(set(ranked[i][:k]) & "
             "relevant[i])."),
            (lambda: _recall(ranked, relevant, k, divide_by_k=True),
             "that is precision@k (divided by k): recall divides by the number of relevant documents, "
             "len(relevant[i])."),
            (lambda: _recall(ranked, relevant, k, any_hit=True),
             "recall@k is the share of a query's relevant documents found in its top k, not whether one was "
             "found (the two agree only when a query has one relevant document)."),
            (lambda: _recall(ranked, relevant, k, pooled=True),
             "average the recall of each query: pooling the counts of all queries lets a query with many relevant "
             "documents weigh more."),
            (lambda: _recall(ranked, relevant, k, total=True),
             "average over the queries (divide the sum of the recalls by the number of queries)."),
            (lambda: _recall(ranked, relevant, k + 1), "the top k results are ranked[i][:k]: k of them, not k + 1."),
            (lambda: _recall(ranked, relevant, k - 1), "the top k results are ranked[i][:k]: k of them, not k - 1."),
            (lambda: 100 * want, "return a share between 0 and 1, not a percentage."),
        ], hint="for each query i: len(set(ranked[i][:k]) & relevant[i]) / len(relevant[i]); return the mean "
                "over the queries.")
