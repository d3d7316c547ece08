"""Checks for the chapter 14 exercises: tokenization.

Use them at the end of each exercise::

    from nncourse.checks import ch14 as check
    check.count_pairs(count_pairs)

``count_pairs``, ``merge``, ``encode``, ``decode`` and ``bits_per_byte``. Expected values come from
``nncourse.tokenizers`` (the course's BPE, itself tested against Hugging Face's ``tokenizers``);
the wrong answers the checks recognise are written out next to their hints.
"""

from __future__ import annotations

import math
import numbers

from .framework import Tester, check

__all__ = ["count_pairs", "merge", "encode", "decode", "bits_per_byte"]


def _as_ids(t: Tester, value, what: str) -> list:
    """The learner must return a list of ints."""
    if value is None:
        t.fail(f"{what} returned None", "did you forget the return statement?")
    if isinstance(value, (str, bytes)):
        t.fail(f"{what} should return a list of token ids, yours returns the {type(value).__name__} {value!r:.60}",
               "keep the ids as integers in a list: out.append(new_id), not text.")
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                                      for i in value):
        t.fail(f"{what} should return a list of integer ids, yours returns {type(value).__name__} {value!r:.60}",
               "build a list: out = [], then out.append(...) for every symbol.")
    return [int(i) for i in value]


# --------------------------------------------------------------------------------------------------
# Exercise 1: count the pairs
# --------------------------------------------------------------------------------------------------


def _pairs(ids):
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def _no_such_mistake():
    """For a mistake that gives the right answer in this case: the framework skips a value that raises."""
    raise LookupError("this mistake cannot be told apart here")


def _non_overlapping(ids):
    """Pairs counted like str.count: a pair that overlaps the previous occurrence is skipped."""
    counts, last = {}, {}
    for i, pair in enumerate(zip(ids, ids[1:])):
        if last.get(pair) == i - 1:
            continue
        last[pair] = i
        counts[pair] = counts.get(pair, 0) + 1
    return counts


@check("count_pairs")
def count_pairs(t: Tester, count_pairs) -> None:
    """``count_pairs(ids) -> {(a, b): count}`` for a list of ids."""
    t.callable(count_pairs, "count_pairs")
    cases = [("the bytes of 'hello world'", list(b"hello world")),
             ("[1, 2, 1, 2, 3]", [1, 2, 1, 2, 3]),
             ("the bytes of 'aaab'", list(b"aaab")),
             ("[5, 9, 5]", [5, 9, 5]),
             ("a single id [7]", [7]),
             ("an empty list", [])]
    for description, ids in cases:
        got = t.call(count_pairs, list(ids))
        if isinstance(got, (list, tuple)) and got and all(isinstance(p, tuple) for p in got):
            t.fail(f"count_pairs({description}) should return a dict {{pair: count}}, yours returns a "
                   f"{type(got).__name__} of pairs", "count them: counts[pair] = counts.get(pair, 0) + 1, "
                   "or collections.Counter(zip(ids, ids[1:])).")
        if got is None:
            t.fail(f"count_pairs({description}) returned None, expected a dict",
                   "did you forget the return statement? With fewer than two ids there is no pair: return an "
                   "empty dict {}, not None." if len(ids) < 2 else "did you forget the return statement?")
        if not isinstance(got, dict):
            t.fail(f"count_pairs({description}) should return a dict, yours returns {type(got).__name__} {got!r:.60}")
        got = {tuple(k) if isinstance(k, list) else k: v for k, v in got.items()}
        want = _pairs(ids)
        t.equal(got, want, f"count_pairs({description})", mistakes=[
            (lambda: _non_overlapping(ids), "pairs overlap: 'aaa' holds the pair (a, a) twice, at positions 0 and 1."),
            (lambda: {p: 1 for p in want}, "count every occurrence of a pair, not only whether it occurs."),
            (lambda: _pairs(ids[:-1]), "the last pair is missing: zip(ids, ids[1:]) pairs every id with the next."),
            (lambda: {(b, a): c for (a, b), c in want.items()},
             "the key is (left, right): (ids[i], ids[i + 1]), in reading order."),
            (lambda: _pairs(ids + ids[:1]) if len(ids) > 1 else _no_such_mistake(),
             "there is no pair between the last id and the first: the list does not wrap around."),
        ], hint="pair every id with the next one, zip(ids, ids[1:]), and count each pair.")


# --------------------------------------------------------------------------------------------------
# Exercise 2: apply one merge
# --------------------------------------------------------------------------------------------------


def _merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _merge_overlapping(ids, pair, new_id):
    """Every position whose pair matches becomes new_id, and the right symbol is kept too (wrong)."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
        else:
            out.append(ids[i])
        i += 1
    return out


def _merge_as_text(ids, pair, new_id):
    """The ids joined as text and the pair replaced as a substring (wrong): "12,3" holds "2,3"."""
    text = ",".join(str(i) for i in ids).replace(f"{pair[0]},{pair[1]}", str(new_id))
    return [int(s) for s in text.split(",") if s]


def _merge_first(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == tuple(pair):
            return ids[:i] + [new_id] + ids[i + 2:]
    return list(ids)


def _merge_from_right(ids, pair, new_id):
    return _merge(ids[::-1], pair[::-1], new_id)[::-1]


def _merge_dropping_last(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


@check("merge")
def merge(t: Tester, merge) -> None:
    """``merge(ids, pair, new_id) -> new list`` with every (non-overlapping) ``pair`` replaced."""
    t.callable(merge, "merge")
    cases = [("[1, 3, 1, 2]", [1, 3, 1, 2], (1, 2), 256),
             ("[1, 2, 3, 1, 2]", [1, 2, 3, 1, 2], (1, 2), 256),
             ("[5, 5, 5, 5, 5]", [5, 5, 5, 5, 5], (5, 5), 300),
             ("the bytes of 'the cat the hat'", list(b"the cat the hat"), (116, 104), 257),
             ("[4, 1, 2, 9] ending in a lone id", [4, 1, 2, 9], (2, 9), 260),
             ("[7, 8, 7] without the pair", [7, 8, 7], (8, 8), 256),
             ("[3]", [3], (3, 3), 256),
             ("[12, 3], where the pair (2, 3) appears only in the digits", [12, 3], (2, 3), 256),
             ("[1, 23], where the pair (1, 2) appears only in the digits", [1, 23], (1, 2), 256)]
    for description, ids, pair, new_id in cases:
        got = t.call(merge, list(ids), pair, new_id,
                     mutation_hint=f"merge changed the list it was given ({description}): build a new list "
                                   "(out = [] ... out.append(...)) and return it; the caller still needs the old one.")
        got = _as_ids(t, got, f"merge({description}, {pair}, {new_id})")
        t.equal(got, _merge(ids, pair, new_id), f"merge({description}, {pair}, {new_id})", mistakes=[
            (lambda: _merge_overlapping(ids, pair, new_id),
             "after a match, skip both symbols (i += 2): the pair's right symbol is used up by the merge."),
            (lambda: _merge_first(ids, pair, new_id), "replace every occurrence of the pair, not only the first."),
            (lambda: _merge_from_right(ids, pair, new_id),
             "go from left to right: in [5, 5, 5] the left pair is merged, giving [new, 5]."),
            (lambda: _merge_dropping_last(ids, pair, new_id),
             "the last id was lost: when i reaches the last position there is no pair, but ids[i] still goes out."),
            (lambda: _merge_as_text(ids, pair, new_id),
             "the ids were compared as text: joined, [12, 3] reads '12,3', which contains '2,3' although the "
             "ids are 12 and 3. Compare whole ids, (ids[i], ids[i + 1]) == pair, walking the list."),
            (lambda: [new_id if x == pair[0] else x for x in ids],
             "a symbol is replaced only when the next one completes the pair (ids[i], ids[i + 1]) == pair."),
        ], hint="walk with an index i: if (ids[i], ids[i + 1]) == pair, append new_id and skip two; "
                "otherwise append ids[i] and move one.")


# --------------------------------------------------------------------------------------------------
# Exercise 3: encode with a given list of merges
# --------------------------------------------------------------------------------------------------

#: the merges of the exercise: merge k makes token 256 + k
_MERGES = [(116, 104), (256, 101), (32, 257), (97, 116), (258, 32)]


def _encode(ids, merges, first_id=256):
    for k, pair in enumerate(merges):
        ids = _merge(ids, pair, first_id + k)
    return ids


def _encode_once(ids, merges):
    for k, pair in enumerate(merges):
        ids = _merge_first(ids, pair, 256 + k)
    return ids


@check("encode")
def encode(t: Tester, encode) -> None:
    """``encode(text, merges) -> list of ids``: the UTF-8 bytes, then every merge in order."""
    t.callable(encode, "encode")
    cases = [("at the theatre", _MERGES), ("the cat", _MERGES[:2]), (" the the the ", _MERGES),
             ("thé", _MERGES[:2]), ("", _MERGES), ("the", [(104, 101), (116, 256), (116, 104)])]
    for text, merges in cases:
        got = _as_ids(t, t.call(encode, text, [tuple(m) for m in merges]), f"encode({text!r}, merges)")
        data = list(text.encode("utf-8"))
        want = _encode(data, merges)
        t.equal(got, want, f"encode({text!r}, {len(merges)} merges)", mistakes=[
            (lambda: _encode([ord(c) for c in text], merges),
             "start from the UTF-8 bytes, list(text.encode('utf-8')): 'é' is two bytes, not ord('é') = 233."),
            (lambda: _encode_reversed(data, merges),
             "apply the merges in the order they were learned: a later merge may use an earlier one's token."),
            (lambda: _encode(data, merges, 255), "merge k creates token 256 + k (0-255 are the bytes): the first "
                                                 "merge is 256."),
            (lambda: _encode(data, merges, 0), "merge k creates token 256 + k, after the 256 bytes, not k."),
            (lambda: _encode_once(data, merges), "each merge replaces every occurrence of its pair, not only the first."),
            (lambda: _encode(data, merges[:1]), "apply every merge of the list, one after the other, not only the first."),
        ], hint="ids = list(text.encode('utf-8')), then for k, pair in enumerate(merges): ids = merge(ids, pair, 256 + k).")


def _encode_reversed(ids, merges):
    """The merges applied last to first, each keeping its own id (wrong)."""
    for k in reversed(range(len(merges))):
        ids = _merge(ids, merges[k], 256 + k)
    return ids


# --------------------------------------------------------------------------------------------------
# Exercise 4: decode bytes safely
# --------------------------------------------------------------------------------------------------


def _vocab(merges):
    vocab = {i: bytes([i]) for i in range(256)}
    for k, (a, b) in enumerate(merges):
        vocab[256 + k] = vocab[a] + vocab[b]
    return vocab


@check("decode")
def decode(t: Tester, decode) -> None:
    """``decode(ids, vocab) -> str``: join the tokens' bytes, decode UTF-8 with ``errors="replace"``."""
    t.callable(decode, "decode")
    vocab = _vocab(_MERGES + [(195, 169)])           # 261: the two bytes of "é"
    e_acute = list("é".encode("utf-8"))
    cases = [("the tokens of ' theatre'", [258, 97, 116, 114, 101]),
             ("'é' as two separate byte tokens", [116, 104] + e_acute),
             ("'é' as one merged token", [116, 261]),
             ("'日' whose three bytes are three tokens", list("日".encode("utf-8"))),
             ("a lone first byte of 'é' (a model stopped half-way)", [104, 105, e_acute[0]]),
             ("the invalid byte 0xFF between letters", [97, 255, 98]),
             ("no ids", [])]
    for description, ids in cases:
        got = t.call(decode, list(ids), dict(vocab), errors=[
            (UnicodeDecodeError, "", "sampled ids need not be valid UTF-8: decode with errors='replace', "
                                     "which shows bad bytes as '\ufffd' instead of failing."),
            (KeyError, "", "look every id up in vocab (vocab[i] is that token's bytes)."),
        ])
        if isinstance(got, (bytes, bytearray)):
            t.fail(f"decode({description}) should return a str, yours returns bytes {bytes(got)!r:.60}",
                   "turn the joined bytes into text at the end: data.decode('utf-8', errors='replace').")
        data = b"".join(vocab[i] for i in ids)
        want = data.decode("utf-8", errors="replace")
        t.equal(got, want, f"decode({description})", mistakes=[
            (lambda: "".join(vocab[i].decode("utf-8", errors="replace") for i in ids),
             "join all the bytes first, then decode once: a character may be split across tokens, and "
             "decoding each token alone breaks it."),
            (lambda: data.decode("utf-8", errors="ignore"),
             "errors='ignore' drops the bad bytes silently; errors='replace' shows them as '\ufffd', so "
             "the reader sees that something was there."),
            (lambda: data.decode("latin-1"), "the bytes are UTF-8: decode('utf-8', errors='replace'), not latin-1."),
            (lambda: "".join(chr(b) for b in data), "chr(byte) treats every byte as a character: decode the "
                                                    "bytes as UTF-8 instead."),
            (lambda: "".join(chr(i) for i in ids), "look the ids up in vocab: an id is not a character code."),
            (lambda: data.decode("utf-8", errors="backslashreplace"),
             "use errors='replace' (the standard '\ufffd' replacement character), not 'backslashreplace'."),
        ], hint="data = b''.join(vocab[i] for i in ids); return data.decode('utf-8', errors='replace').")


# --------------------------------------------------------------------------------------------------
# Exercise 5: bits per byte from a loss
# --------------------------------------------------------------------------------------------------


@check("bits_per_byte")
def bits_per_byte(t: Tester, bits_per_byte) -> None:
    """``bits_per_byte(loss_nats, n_tokens, n_bytes) -> float``."""
    t.callable(bits_per_byte, "bits_per_byte")
    cases = [(2.0, 1000, 2500), (1.2, 100_000, 100_000), (3.6, 5000, 11_800), (math.log(256), 10, 10)]
    for loss, n_tokens, n_bytes in cases:
        got = t.call(bits_per_byte, loss, n_tokens, n_bytes)
        what = f"bits_per_byte({loss:.4g}, {n_tokens}, {n_bytes})"
        got = t.scalar(got, what)
        want = loss * n_tokens / (n_bytes * math.log(2))
        t.close(got, want, what, rtol=1e-9, atol=1e-12, mistakes=[
            (loss * n_tokens / n_bytes, "that is nats per byte: divide by ln 2 to turn nats into bits."),
            (loss * n_tokens / n_bytes * math.log(2), "divide by ln 2 (one bit is ln 2 nats), do not multiply."),
            (loss / math.log(2), "that is bits per *token*: multiply by n_tokens / n_bytes, the tokens per byte."),
            (loss * n_bytes / (n_tokens * math.log(2)),
             "the ratio is upside down: the total loss is loss_nats * n_tokens, spread over n_bytes bytes."),
            (loss * n_tokens / (n_bytes * math.log(10)), "bits are base 2: divide by ln 2 = log(2), not log(10)."),
            (loss / (n_bytes * math.log(2)), "loss_nats is a mean per token: multiply by n_tokens to get the "
                                             "total, then divide by n_bytes."),
            (loss * n_tokens / n_bytes / 8, "bits per byte is not bytes / 8: convert nats to bits with ln 2."),
        ], hint="total nats = loss_nats * n_tokens; per byte: / n_bytes; in bits: / math.log(2).")
