"""Our pure-Python byte-level BPE against Hugging Face's ``tokenizers`` (Rust): training and encoding speed.

Run with one thread (``tokenizers`` would otherwise use every core)::

    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python benchmarks/bench_tokenizers.py

Both tokenizers are trained on the 30 training plays of ``load_shakespeare(seed=0)`` with the same
vocabulary size and GPT-2's pre-tokenization; HF is configured as in ``tests/test_tokenizers.py``.
Encoding: the 4 test plays (about 465,000 characters) as one string, and line by line (HF's
``encode_batch``, one thread), each tokenizer from a fresh
instance (an empty cache; ours keeps a cache of the pieces it has encoded) and again warm; the two
alternate, medians of ``--repeats`` rounds. HF also gets the same *merges* as ours (``hf(ours)``), so
the comparison is of the two implementations, not of two vocabularies.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")             # one thread for the Rust side too
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from nncourse.data.shakespeare import load_shakespeare
from nncourse.tokenizers import BPETokenizer, bytes_to_unicode, pretokenize


def hf_trained(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=0, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator(texts, trainer=trainer)
    return tk


def hf_with_our_merges(tok):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    table = bytes_to_unicode()
    strings = ["".join(table[b] for b in tok.token_bytes(i)) for i in range(256 + len(tok.merges))]
    tk = Tokenizer(models.BPE(vocab={s: i for i, s in enumerate(strings)},
                              merges=[(strings[a], strings[b]) for a, b in tok.merges]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tk.decoder = decoders.ByteLevel()
    return tk


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab-size", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    splits = load_shakespeare(seed=0)
    text = splits.test
    n_bytes = len(text.encode("utf-8"))
    print(f"training text {len(splits.train):,} chars; encoded text {len(text):,} chars, {n_bytes:,} bytes")
    for vocab_size in args.vocab_size:
        ours_train, ours = timed(lambda: BPETokenizer.train(splits.train, vocab_size))
        hf_train, hf = timed(lambda: hf_trained([splits.train], vocab_size))
        print(f"\nvocab_size {vocab_size}: training ours {ours_train:.2f} s, HF {hf_train:.2f} s "
              f"(ours / HF {ours_train / hf_train:.1f})")
        hf_same = hf_with_our_merges(ours)
        lines = text.splitlines(keepends=True)
        rows = {"ours cold": [], "ours warm": [], "hf(ours) cold": [], "hf(ours) warm": [], "hf": [],
                "ours lines": [], "hf(ours) lines": [], "hf pre-tokenizer only": [], "ours pre-tokenizer only": []}
        for _ in range(args.repeats):
            fresh = BPETokenizer(ours.merges)
            t, ids = timed(lambda: fresh.encode(text))
            rows["ours cold"].append(t)
            rows["ours warm"].append(timed(lambda: fresh.encode(text))[0])
            fresh_hf = hf_with_our_merges(ours)
            t, encoding = timed(lambda: fresh_hf.encode(text))
            rows["hf(ours) cold"].append(t)
            rows["hf(ours) warm"].append(timed(lambda: fresh_hf.encode(text))[0])
            rows["hf"].append(timed(lambda: hf.encode(text))[0])
            t, line_ids = timed(lambda: [fresh.encode(line) for line in lines])
            rows["ours lines"].append(t)
            t, line_encodings = timed(lambda: fresh_hf.encode_batch(lines))
            rows["hf(ours) lines"].append(t)
            assert [e.ids for e in line_encodings] == line_ids
            rows["hf pre-tokenizer only"].append(timed(lambda: fresh_hf.pre_tokenizer.pre_tokenize_str(text))[0])
            rows["ours pre-tokenizer only"].append(timed(lambda: pretokenize(text))[0])
        assert ids == encoding.ids == hf_same.encode(text).ids, "the two implementations disagree"
        medians = {k: statistics.median(v) for k, v in rows.items()}
        for name, seconds in medians.items():
            print(f"  encode {name:14s} {seconds * 1000:8.1f} ms  {n_bytes / seconds / 1e6:6.2f} MB/s")
        print(f"  time ours / time hf(ours): cold {medians['ours cold'] / medians['hf(ours) cold']:.2f}, "
              f"warm {medians['ours warm'] / medians['hf(ours) warm']:.2f}; "
              f"{n_bytes / len(ids):.2f} bytes per token")
        print(f"  line by line ({len(lines):,} lines, HF's encode_batch): time ours / time hf(ours) "
              f"{medians['ours lines'] / medians['hf(ours) lines']:.2f}")


if __name__ == "__main__":
    main()
