"""The exercise checks of chapter 14 (tokenization).

For every check: the solution from solutions/14_tokenization.ipynb passes (the functions are taken from
the notebook itself), the stub and the placeholder ``...`` are "not implemented yet", and plausible
wrong answers fail with the hint meant for them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nncourse.checks import ch14
from check_helpers import assert_hint, run, solution_namespace, stub

ROOT = Path(__file__).resolve().parents[1]


def solution() -> dict:
    return solution_namespace("14_tokenization")


CHECKS = ["count_pairs", "merge", "encode", "decode", "bits_per_byte"]


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes_stub_and_placeholder_do_not(name):
    check_fn = getattr(ch14, name)
    assert run(check_fn, solution()[name]), name
    assert run(check_fn, stub).status == "not implemented"
    assert run(check_fn, ...).status == "not implemented"


def test_the_library_passes_the_checks_too():
    from nncourse import tokenizers
    assert run(ch14.count_pairs, tokenizers.count_pairs)
    assert run(ch14.merge, tokenizers.merge)
    assert run(ch14.bits_per_byte, tokenizers.bits_per_byte)


# ---------------------------------------------------------------------------------------- count_pairs
def _pairs(ids):
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def _str_count(ids):
    counts, i = {}, 0
    seen_at = {}
    for i, pair in enumerate(zip(ids, ids[1:])):
        if seen_at.get(pair) == i - 1:
            continue
        seen_at[pair] = i
        counts[pair] = counts.get(pair, 0) + 1
    return counts


@pytest.mark.parametrize("wrong, needles", [
    (lambda ids: {p: 1 for p in zip(ids, ids[1:])}, ["every occurrence"]),
    (lambda ids: _pairs(ids[:-1]), ["last pair is missing"]),
    (_str_count, ["pairs overlap"]),
    (lambda ids: {(b, a): c for (a, b), c in _pairs(ids).items()}, ["(left, right)"]),
    (lambda ids: _pairs(ids + ids[:1]) if len(ids) > 1 else {}, ["does not wrap around"]),
    (lambda ids: list(zip(ids, ids[1:])), ["dict", "Counter"]),
    (lambda ids: {(a, b): 2 for a, b in zip(ids, ids[1:])}, ["zip(ids, ids[1:])"]),
    (lambda ids: _pairs(ids) if len(ids) > 1 else None, ["returned None", "return an empty dict {}"]),
])
def test_count_pairs_mistakes(wrong, needles):
    assert_hint(run(ch14.count_pairs, wrong), *needles)


def test_a_none_from_count_pairs_is_not_told_about_wrap_around():
    result = run(ch14.count_pairs, lambda ids: _pairs(ids) if len(ids) > 1 else None)
    assert "wrap" not in f"{result.message} {result.hint}"


# ---------------------------------------------------------------------------------------- merge
def _merge(ids, pair, new_id, step=2, first_only=False, keep_last=True):
    out, i, done = [], 0, False
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair) and not done:
            out.append(new_id)
            i += step
            done = first_only
        else:
            if i + 1 < len(ids) or keep_last:
                out.append(ids[i])
            i += 1
    return out


def _in_place(ids, pair, new_id):
    i = 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == tuple(pair):
            ids[i:i + 2] = [new_id]
        i += 1
    return ids


@pytest.mark.parametrize("wrong, needles", [
    (lambda ids, pair, new_id: _merge(ids, pair, new_id, step=1), ["skip both symbols"]),
    (lambda ids, pair, new_id: _merge(ids, pair, new_id, first_only=True), ["every occurrence"]),
    (lambda ids, pair, new_id: _merge(ids[::-1], pair[::-1], new_id)[::-1], ["left to right"]),
    (lambda ids, pair, new_id: _merge(ids, pair, new_id, keep_last=False), ["last id was lost"]),
    (lambda ids, pair, new_id: [new_id if x == pair[0] else x for x in ids], ["completes the pair"]),
    (_in_place, ["changed the list it was given", "new list"]),
    (lambda ids, pair, new_id: "".join(map(str, _merge(ids, pair, new_id))), ["list of token ids"]),
    (lambda ids, pair, new_id: _merge_as_text(ids, pair, new_id, ","), ["compared as text", "'12,3'"]),
    (lambda ids, pair, new_id: _merge_as_text(ids, pair, new_id, " "), ["compared as text", "whole ids"]),
])
def test_merge_mistakes(wrong, needles):
    assert_hint(run(ch14.merge, wrong), *needles)


def _merge_as_text(ids, pair, new_id, sep):
    """A learner's merge on the ids written as text: str.replace finds the pair across two ids' digits."""
    text = sep.join(map(str, ids)).replace(f"{pair[0]}{sep}{pair[1]}", str(new_id))
    return [int(s) for s in text.split(sep) if s]


# ---------------------------------------------------------------------------------------- encode
def _encode(text, merges, first_id=256, chars=False, reverse=False, only_first=False, first_merge_only=False):
    ids = [ord(c) for c in text] if chars else list(text.encode("utf-8"))
    order = list(enumerate(merges))
    if reverse:
        order = order[::-1]
    if first_merge_only:
        order = order[:1]
    for k, pair in order:
        ids = _merge(ids, pair, first_id + k, first_only=only_first)
    return ids


@pytest.mark.parametrize("wrong, needles", [
    (lambda text, merges: _encode(text, merges, chars=True), ["UTF-8 bytes", "two bytes"]),
    (lambda text, merges: _encode(text, merges, reverse=True), ["in the order they were learned"]),
    (lambda text, merges: _encode(text, merges, first_id=255), ["256 + k", "first merge is 256"]),
    (lambda text, merges: _encode(text, merges, first_id=0), ["after the 256 bytes"]),
    (lambda text, merges: _encode(text, merges, only_first=True), ["every occurrence"]),
    (lambda text, merges: _encode(text, merges, first_merge_only=True), ["every merge of the list"]),
    (lambda text, merges: text.encode("utf-8"), ["list of token ids"]),
])
def test_encode_mistakes(wrong, needles):
    assert_hint(run(ch14.encode, wrong), *needles)


# ---------------------------------------------------------------------------------------- decode
@pytest.mark.parametrize("wrong, needles", [
    (lambda ids, vocab: "".join(vocab[i].decode("utf-8", errors="replace") for i in ids), ["join all the bytes first"]),
    (lambda ids, vocab: b"".join(vocab[i] for i in ids).decode("utf-8", errors="ignore"), ["errors='ignore'"]),
    (lambda ids, vocab: b"".join(vocab[i] for i in ids).decode("utf-8"), ["UnicodeDecodeError", "errors='replace'"]),
    (lambda ids, vocab: b"".join(vocab[i] for i in ids).decode("latin-1"), ["not latin-1"]),
    (lambda ids, vocab: "".join(chr(i) for i in ids), ["look the ids up in vocab"]),
    (lambda ids, vocab: b"".join(vocab[i] for i in ids), ["should return a str", "bytes"]),
    (lambda ids, vocab: b"".join(vocab[i] for i in ids).decode("utf-8", errors="backslashreplace"),
     ["not 'backslashreplace'"]),
    (lambda ids, vocab: b"".join(vocab[str(i)] for i in ids).decode("utf-8", errors="replace"),
     ["KeyError", "vocab[i]"]),
])
def test_decode_mistakes(wrong, needles):
    assert_hint(run(ch14.decode, wrong), *needles)


# ---------------------------------------------------------------------------------------- bits per byte
@pytest.mark.parametrize("wrong, needles", [
    (lambda loss, n_tokens, n_bytes: loss * n_tokens / n_bytes, ["nats per byte", "ln 2"]),
    (lambda loss, n_tokens, n_bytes: loss * n_tokens / n_bytes * math.log(2), ["do not multiply"]),
    (lambda loss, n_tokens, n_bytes: loss / math.log(2), ["bits per *token*"]),
    (lambda loss, n_tokens, n_bytes: loss * n_bytes / (n_tokens * math.log(2)), ["upside down"]),
    (lambda loss, n_tokens, n_bytes: loss * n_tokens / (n_bytes * math.log(10)), ["not log(10)"]),
    (lambda loss, n_tokens, n_bytes: loss / (n_bytes * math.log(2)), ["mean per token", "multiply by n_tokens"]),
    (lambda loss, n_tokens, n_bytes: loss * n_tokens / n_bytes / 8, ["not bytes / 8"]),
    (lambda loss, n_tokens, n_bytes: [loss * n_tokens / (n_bytes * math.log(2))] * 2, ["single number"]),
])
def test_bits_per_byte_mistakes(wrong, needles):
    assert_hint(run(ch14.bits_per_byte, wrong), *needles)
