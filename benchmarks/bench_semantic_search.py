"""Chapter 20's figures: semantic search over Shakespeare with all-MiniLM-L6-v2 in the course's NumPy encoder,
against a BM25 keyword baseline, and the embedding speed of NumPy against sentence-transformers.

Run with one thread (writes ``chapters/results/semantic_search.json`` and ``semantic_search_embeddings.npz``)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 HF_HUB_OFFLINE=1 python benchmarks/bench_semantic_search.py

1. Embeds every speech of at least 40 words of eight plays (``semantic_search_data.py``) with the torch twin of
   the course's encoder (``load_minilm(backend="torch")``: the NumPy one gives the same vectors, checked to 1e-5
   on every 41st speech, but its exact GELU makes it slow) and the 32 queries with the NumPy encoder; the
   queries were labelled before the first evaluation, none sharing a content word with its target (checked here).
2. recall@k (k = 1, 5, 10) for embeddings (cosine similarity) and BM25 (k1 = 1.5, b = 0.75), with 95 %
   bootstrap intervals over the queries (10,000 resamples, seed 0).
3. Speed: sentences per second for 64 speeches (batch 32), NumPy encoder against sentence-transformers,
   one thread, best of 2.
"""

import json
import os
import platform
import re
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nncourse.pretrained import load_minilm, minilm_path  # noqa: E402
from semantic_search_data import QUERIES, load_speeches, shared_content_words, target_index  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "chapters" / "results"
KS = (1, 5, 10)


def bm25_scores(queries, documents, k1=1.5, b=0.75):
    """BM25 scores (n_queries, n_documents) on lowercase word tokens."""
    def words(text):
        return re.findall(r"[a-z]+", text.lower())
    docs = [words(d) for d in documents]
    vocab = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
    tf = np.zeros((len(docs), len(vocab)))
    for j, d in enumerate(docs):
        for w in d:
            tf[j, vocab[w]] += 1
    lengths = tf.sum(axis=1)
    df = (tf > 0).sum(axis=0)
    idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
    weight = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[:, None] / lengths.mean()))
    scores = np.zeros((len(queries), len(docs)))
    for i, q in enumerate(queries):
        for w in words(q):
            if w in vocab:
                scores[i] += idf[vocab[w]] * weight[:, vocab[w]]
    return scores


def ranks_of(scores, targets):
    """The rank (1 = best) of each query's target speech."""
    target_scores = scores[np.arange(len(targets)), targets]
    return 1 + (scores > target_scores[:, None]).sum(axis=1)


def recall_with_interval(ranks, k, resamples=10_000, seed=0):
    hits = (ranks <= k).astype(float)
    rng = np.random.default_rng(seed)
    boot = hits[rng.integers(0, len(hits), size=(resamples, len(hits)))].mean(axis=1)
    return {"recall": float(hits.mean()), "low": float(np.percentile(boot, 2.5)),
            "high": float(np.percentile(boot, 97.5))}


def main():
    speeches = load_speeches()
    texts = [t for _, _, t in speeches]
    targets = np.array([target_index(speeches, play, phrase) for _, play, phrase in QUERIES])
    for (query, _, _), t in zip(QUERIES, targets):
        shared = shared_content_words(query, texts[t])
        if shared:
            raise SystemExit(f"query {query!r} shares {shared} with its target: rewrite it")
    queries = [q for q, _, _ in QUERIES]
    encoder, tokenizer = load_minilm()
    twin, _ = load_minilm(backend="torch")      # the torch twin of the same encoder embeds the 1,247 speeches

    start = time.perf_counter()
    speech_emb = twin.encode(texts, batch_size=32)
    embed_seconds = time.perf_counter() - start
    query_emb = encoder.encode(queries)                                # the queries with the NumPy encoder
    check = np.arange(0, len(texts), 41)                               # and a sample of speeches: the same
    numpy_vs_twin = float(np.abs(encoder.encode([texts[i] for i in check]) - speech_emb[check]).max())
    assert numpy_vs_twin <= 1e-5, numpy_vs_twin
    cosine = query_emb.astype(np.float64) @ speech_emb.astype(np.float64).T
    bm25 = bm25_scores(queries, texts)
    ranks = {"embeddings": ranks_of(cosine, targets), "bm25": ranks_of(bm25, targets)}

    # speed, one thread: the same 128 speeches, batches of 32
    from sentence_transformers import SentenceTransformer
    import torch
    torch.set_num_threads(1)
    st = SentenceTransformer(minilm_path(), device="cpu")
    sample = texts[::max(1, len(texts) // 64)][:64]
    assert np.abs(encoder.encode(sample[:16]) - st.encode(sample[:16])).max() <= 1e-5
    speed = {}
    for name, fn in (("numpy", lambda: encoder.encode(sample, batch_size=32)),
                     ("sentence-transformers", lambda: st.encode(sample, batch_size=32))):
        best = min(_timed(fn) for _ in range(2))
        speed[name] = len(sample) / best

    result = {
        "machine": platform.processor() or platform.machine(), "threads": 1,
        "n_speeches": len(texts), "n_queries": len(queries), "plays": sorted({p for p, _, _ in speeches}),
        "queries": queries, "targets": targets.tolist(),
        "mean_pieces_per_speech": float(np.mean([min(len(tokenizer.encode(t)), 256) for t in texts])),
        "embed_all_seconds_torch_twin": embed_seconds, "numpy_vs_torch_twin_max_difference": numpy_vs_twin,
        "recall": {m: {str(k): recall_with_interval(r, k) for k in KS} for m, r in ranks.items()},
        "ranks": {m: r.tolist() for m, r in ranks.items()},
        "speed_sentences_per_second": speed, "speed_sample": len(sample),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "semantic_search.json").write_text(json.dumps(result, indent=1))
    np.savez_compressed(OUT / "semantic_search_embeddings.npz", speeches=speech_emb.astype(np.float16),
                        queries=query_emb.astype(np.float16), targets=targets)
    print(json.dumps({k: v for k, v in result.items() if k != "ranks"}, indent=1))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
