"""The exercise checks of chapter 20 (encoders and embeddings).

For every check: the solution from solutions/20_encoders.ipynb passes (the functions are taken from the
notebook itself), the stub and the placeholder ``...`` are "not implemented yet", the course's own
functions pass, and plausible wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.checks import ch20
from check_helpers import assert_hint, run, solution_namespace, stub

CHECKS = ["wordpiece", "mean_pool", "cosine_similarity", "bidirectional_mask", "recall_at_k"]


def solution() -> dict:
    return solution_namespace("20_encoders")


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch20, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_the_library_passes_the_checks_too():
    from nncourse.models import mean_pool
    from nncourse.models.bert import normalize
    from nncourse.tokenizers import wordpiece_word

    assert run(ch20.wordpiece, wordpiece_word)
    assert run(ch20.mean_pool, mean_pool)
    assert run(ch20.cosine_similarity, lambda a, b: normalize(a) @ normalize(b).T)


def test_the_solutions_mask_works_as_the_attention_mask_of_an_encoder():
    """The solution's mask, used as attend's attn_mask, gives the same outputs at the real positions as the
    unpadded sentence; and no row of it is empty (no NaN at the padding queries)."""
    from nncourse.numpy_nn.functional import attend

    rng = np.random.default_rng(0)
    mask = np.array([[1, 1, 1, 0, 0]])
    q, k, v = (rng.normal(size=(1, 1, 5, 4)) for _ in range(3))
    allowed = solution()["bidirectional_mask"](mask)[:, None]          # (N, 1, T, T): one head
    out, _ = attend(q, k, v, attn_mask=allowed)
    alone, _ = attend(q[:, :, :3], k[:, :, :3], v[:, :, :3])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, :, :3], alone, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------- WordPiece
def _pieces(**rule):
    return lambda word, vocab: ch20._wordpiece(word, vocab, **rule)


def test_wordpiece_wrong_answers():
    def shortest_first(word, vocab):          # grows each piece until it is in the vocabulary
        pieces, start = [], 0
        while start < len(word):
            end = start + 1
            while end <= len(word) and (("##" if start else "") + word[start:end]) not in vocab:
                end += 1
            if end > len(word):
                return ["[UNK]"]
            pieces.append(("##" if start else "") + word[start:end])
            start = end
        return pieces

    assert_hint(run(ch20.wordpiece, shortest_first), "take the longest piece", "not the shortest")
    assert_hint(run(ch20.wordpiece, _pieces(prefix_rest=False)), "'##ing', not 'ing'")
    assert_hint(run(ch20.wordpiece, _pieces(prefix_first=True)), "only the pieces after the first get '##'")
    assert_hint(run(ch20.wordpiece, _pieces(on_miss="rest")), "the whole word becomes ['[UNK]']",
                "not the pieces found so far")
    assert_hint(run(ch20.wordpiece, _pieces(on_miss="skip")), "must not be skipped")
    assert_hint(run(ch20.wordpiece, _pieces(on_miss="char")), "not one '[UNK]' per character")
    assert_hint(run(ch20.wordpiece, lambda word, vocab: [vocab[p] for p in ch20._wordpiece(word, vocab)]),
                "return the pieces themselves (str), not their ids")
    assert_hint(run(ch20.wordpiece, lambda word, vocab: " ".join(ch20._wordpiece(word, vocab))),
                "returned the string 'play ##ing'", "collect the pieces in a list")


# ---------------------------------------------------------------------------------------- mean pooling
def test_mean_pool_wrong_answers():
    def masked_sum(hidden, mask):
        return (hidden * mask[:, :, None]).sum(axis=1)

    assert_hint(run(ch20.mean_pool, lambda h, m: h.mean(axis=1)), "that mean counts the padding too")
    assert_hint(run(ch20.mean_pool, lambda h, m: masked_sum(h, m) / h.shape[1]), "the division is by T")
    assert_hint(run(ch20.mean_pool, masked_sum), "a mean divides the sum by the number of real tokens")
    assert_hint(run(ch20.mean_pool, lambda h, m: masked_sum(h, m) / m.sum()), "not by mask.sum()")
    assert_hint(run(ch20.mean_pool, lambda h, m: h[:, 0]), "[CLS]")

    def normalised(hidden, mask):
        e = masked_sum(hidden, mask) / mask.sum(axis=1)[:, None]
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    assert_hint(run(ch20.mean_pool, normalised), "mean pooling stops at the mean")
    assert_hint(run(ch20.mean_pool, lambda h, m: masked_sum(h, m) / m.sum(axis=1)),
                "raised ValueError", "keep the axis, mask.sum(axis=1)[:, None]")
    assert_hint(run(ch20.mean_pool, lambda h, m: (h * m[:, :, None]).sum(axis=2) / m.sum(axis=1)[:, None]),
                "should have shape (2, 3), yours has shape (2, 5)", "average over the tokens, axis=1")


def test_mean_pool_in_float32_is_close_enough():
    def float32(hidden, mask):
        m = mask[:, :, None]
        return ((hidden * m).sum(axis=1) / m.sum(axis=1)).astype(np.float32)

    assert run(ch20.mean_pool, float32)         # the model itself pools in float32: within the tolerance


# ---------------------------------------------------------------------------------------- cosine
def _norms(x, axis=1):
    return np.linalg.norm(x, axis=axis, keepdims=True)


def test_cosine_similarity_wrong_answers():
    assert_hint(run(ch20.cosine_similarity, lambda a, b: a @ b.T), "a dot product alone grows")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: (a / _norms(a)) @ b.T), "not of a's alone")
    assert_hint(run(ch20.cosine_similarity,
                    lambda a, b: (a / np.linalg.norm(a, axis=1)) @ (b / np.linalg.norm(b, axis=1)).T),
                "raised ValueError", "np.linalg.norm(a, axis=1, keepdims=True)")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: (a / _norms(a, 0)) @ (b / _norms(b, 0)).T),
                "not each column (axis=0)")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: a @ b.T / (np.linalg.norm(a) * np.linalg.norm(b))),
                "not of the whole matrices")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: 1 - (a / _norms(a)) @ (b / _norms(b)).T),
                "that is the cosine distance")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: (b / _norms(b)) @ (a / _norms(a)).T),
                "entry [i, j] compares a_i with b_j")
    assert_hint(run(ch20.cosine_similarity, lambda a, b: ((a / _norms(a)) @ (b / _norms(b)).T).ravel()),
                "should have shape (3, 2), yours has shape (6,)", "(len(a), len(b))")


# ---------------------------------------------------------------------------------------- the mask
def test_bidirectional_mask_wrong_answers():
    def keys(mask):
        return mask[:, None, :] == 1

    def square(x, mask):
        return np.broadcast_to(x, (mask.shape[0], mask.shape[1], mask.shape[1])).copy()

    tril = lambda mask: np.tril(np.ones((mask.shape[1],) * 2, dtype=bool))[None]   # noqa: E731
    assert_hint(run(ch20.bidirectional_mask, lambda m: tril(m) & keys(m)), "that is a decoder's causal mask",
                "every query sees every real key")
    assert_hint(run(ch20.bidirectional_mask, lambda m: square(m[:, :, None] == 1, m)), "mask the keys (the columns")
    assert_hint(run(ch20.bidirectional_mask, lambda m: (m[:, :, None] == 1) & keys(m)), "mask the keys only",
                "0 / 0 (NaN)")
    assert_hint(run(ch20.bidirectional_mask, lambda m: square(m[:, None, :] == 0, m)), "True means 'may attend'")
    assert_hint(run(ch20.bidirectional_mask, lambda m: np.ones((m.shape[0], m.shape[1], m.shape[1]), dtype=bool)),
                "the padding keys must be masked")
    assert_hint(run(ch20.bidirectional_mask, keys), "should have shape (1, 5, 5), yours has shape (1, 1, 5)",
                "np.broadcast_to")


def test_bidirectional_mask_additive_convention_is_refused():
    """The additive mask of _hidden_fast (0 where allowed, -inf at padding) is not the boolean one asked for."""
    def additive(mask):
        T = mask.shape[1]
        return np.broadcast_to(np.where(mask[:, None, :] == 1, 0.0, -np.inf), (mask.shape[0], T, T)).copy()

    assert_hint(run(ch20.bidirectional_mask, additive), "holds floats (float64), expected booleans", ".astype(bool)")


# ---------------------------------------------------------------------------------------- recall@k
def _recall(**rule):
    return lambda ranked, relevant, k: ch20._recall(ranked, relevant, k, **rule)


def test_recall_at_k_wrong_answers():
    assert_hint(run(ch20.recall_at_k, _recall(divide_by_k=True)), "that is precision@k")
    assert_hint(run(ch20.recall_at_k, _recall(any_hit=True)), "not whether one was found")
    assert_hint(run(ch20.recall_at_k, _recall(pooled=True)), "average the recall of each query")
    assert_hint(run(ch20.recall_at_k, _recall(total=True)), "divide the sum of the recalls by the number of queries")
    assert_hint(run(ch20.recall_at_k, lambda r, rel, k: ch20._recall(r, rel, k + 1)), "not k + 1")
    assert_hint(run(ch20.recall_at_k, lambda r, rel, k: 100 * ch20._recall(r, rel, k)), "not a percentage")


def test_recall_at_k_counting_duplicates_written_by_hand():
    def with_duplicates(ranked, relevant, k):
        return float(np.mean([sum(doc in wanted for doc in results[:k]) / len(wanted)
                              for results, wanted in zip(ranked, relevant)]))

    assert_hint(run(ch20.recall_at_k, with_duplicates), "count each relevant document once")


def test_recall_at_k_returning_the_per_query_list():
    def per_query(ranked, relevant, k):
        return [len(set(r[:k]) & set(w)) / len(w) for r, w in zip(ranked, relevant)]

    assert_hint(run(ch20.recall_at_k, per_query), "returned a list, expected a number", "np.mean")
