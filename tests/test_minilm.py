"""all-MiniLM-L6-v2 in the course's code (chapter 20): our WordPiece tokenizer gives the same ids as Hugging Face's
from the same tokenizer.json on a mixed corpus; ``load_minilm`` (both back ends) gives the embeddings of
sentence-transformers to 1e-5, also past the 256-piece truncation; bad inputs and damaged files end in clear
errors. Everything that loads the model is here, with module-scoped fixtures (the model loads once)."""

import os
import shutil

import numpy as np
import pytest

from nncourse.data.shakespeare import read_play
from nncourse.errors import ConfigError, DataError, DTypeError
from nncourse.pretrained import load_minilm, minilm_path
from nncourse.tokenizers import WordPieceTokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MIXED = [
    "Café naïve résumé Ångström façade", "Straße İstanbul ǅemal ﬁnal", "東京は日本の首都です。",
    "中文字符和English混合",
    "emoji 😀🎭 mixed👍text", "Hello,world!!! (a)[b]{c} $100 +5 <x> ^y `z` |w| ~v @me #tag",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic", "x" * 150,
    "tab\there\nnewline\r\x00null\u200bzero-width \u00a0nbsp", "a\u0301e\u0300 combining",
    "¿Qué tal? ¡Bien! «quoted» “smart” — dash…",
    "한국어 텍스트", "Ελληνικά κείμενο", "العربية", "", "   ", "ﾊﾝｶｸ ｶﾀｶﾅ", "\ufffd replacement", "①②③ ½ ² ™ ©",
    "[CLS] is a plain string here [SEP]", "don't won't y'all o'clock", "3.14159 1,000,000 2026-12-07",
]


@pytest.fixture(scope="module")
def hf_tokenizer():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(minilm_path(), "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@pytest.fixture(scope="module")
def ours_and_st():
    from sentence_transformers import SentenceTransformer
    encoder, tokenizer = load_minilm()
    return encoder, tokenizer, SentenceTransformer(minilm_path(), device="cpu")


def _corpus():
    lines = [line for line in read_play("macbeth").splitlines() if line.strip()]
    return lines[::3][:1500] + MIXED


def test_wordpiece_ids_equal_hugging_face_on_a_mixed_corpus(hf_tokenizer):
    ours = WordPieceTokenizer.from_file(os.path.join(minilm_path(), "tokenizer.json"), max_length=10**6)
    corpus = _corpus()
    different = [s for s in corpus if ours.encode(s) != hf_tokenizer.encode(s).ids]
    assert not different, different[:5]
    assert ours.normalize("Ångström") == "angstrom"          # accents stripped, lowercased
    assert ours.tokenize("[CLS] x [SEP]") == ["[CLS]", "x", "[SEP]"]   # written special tokens, as HF reads them
    assert "[UNK]" in ours.tokenize("👍text")                   # no piece for the emoji: the word is unknown
    assert ours.tokenize("東京") == ["東", "京"]                 # each ideograph is a word


def test_truncation_at_256_pieces_as_sentence_transformers(ours_and_st):
    _, tokenizer, st = ours_and_st
    assert tokenizer.max_length == st.max_seq_length == 256
    long = "to be or not to be " * 80
    ids = tokenizer.encode(long)
    assert len(ids) == 256 and ids[0] == tokenizer.cls_id and ids[-1] == tokenizer.sep_id
    assert ids == st.tokenizer(long, truncation=True, max_length=256)["input_ids"]


def test_embeddings_equal_sentence_transformers_including_long_sentences(ours_and_st):
    encoder, _, st = ours_and_st
    sentences = _corpus()[:24:3] + MIXED[:6] + ["word " * 400, "Tomorrow, and tomorrow, and tomorrow " * 30]
    ours = encoder.encode(sentences, batch_size=4)
    theirs = st.encode(sentences, batch_size=4, convert_to_numpy=True)
    assert ours.shape == (len(sentences), 384) and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() <= 1e-5
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


def test_torch_backend_equals_sentence_transformers(ours_and_st):
    _, _, st = ours_and_st
    import torch
    encoder, _ = load_minilm(backend="torch")
    assert isinstance(encoder, torch.nn.Module)
    sentences = MIXED[:4] + ["word " * 300]
    assert np.abs(encoder.encode(sentences) - st.encode(sentences)).max() <= 1e-5


def test_the_numpy_path_never_imports_torch():
    import subprocess
    import sys
    code = ("import sys; from nncourse.pretrained import load_minilm; e, t = load_minilm(); e.encode(['hi']); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.stdout.strip() == "False"


def test_similar_sentences_are_closer(ours_and_st):
    encoder, _, _ = ours_and_st
    e = encoder.encode(["The king is dead.", "The monarch has died.", "I like green apples."])
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2


@pytest.mark.parametrize("sentences, error, words", [
    ("one sentence", DTypeError, "wrap it in a list"),
    ([b"bytes"], DTypeError, "decode bytes first"),
    (["ok", None], DTypeError, r"texts\[1\] must be a str"),
    (["bad \ud800 surrogate"], DataError, "unpaired surrogate"),
    (np.array(["a"]), DTypeError, "list of str"),
])
def test_hostile_sentences(ours_and_st, sentences, error, words):
    encoder, _, _ = ours_and_st
    with pytest.raises(error, match=words):
        encoder.encode(sentences)


def test_encode_edge_cases(ours_and_st):
    encoder, _, _ = ours_and_st
    assert encoder.encode([]).shape == (0, 384)
    e = encoder.encode(["", "[SEP]", "\x00\x01"])          # empty after cleaning: [CLS] [SEP] only, still a unit vector
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)
    with pytest.raises(ConfigError, match="batch_size"):
        encoder.encode(["a"], batch_size=0)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(backend="jax"), ConfigError, "backend must be 'numpy' or 'torch'"),
    (dict(backend=None), ConfigError, "backend"),
    (dict(dtype=np.float16), ConfigError, "dtype"),
    (dict(path=3), ConfigError, "path must be a folder"),
    (dict(path="/nonexistent/minilm"), DataError, "is not a folder"),
])
def test_bad_load_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        load_minilm(**kwargs)


def test_damaged_files_are_refused(tmp_path):
    folder = tmp_path / "minilm"
    shutil.copytree(minilm_path(), folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])                    # truncated
    with pytest.raises(DataError, match="missing or damaged"):
        load_minilm(path=folder)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(DataError, match="llama"):
        load_minilm(path=folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(DataError, match="cannot read"):
        load_minilm(path=folder)


def test_tokenizer_hostile_inputs(tmp_path):
    with pytest.raises(ConfigError, match="special tokens"):
        WordPieceTokenizer(["a", "b"])
    with pytest.raises(ConfigError, match="vocab must be a list"):
        WordPieceTokenizer("abc")
    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"], max_length=4)
    assert tok.encode("a a a a a") == [2, 4, 4, 3]
    with pytest.raises(ConfigError, match="max_length"):
        tok.encode("a", max_length=1)
    with pytest.raises(DataError, match="is empty"):
        tok.batch([])
    with pytest.raises(DataError, match="not a file"):
        WordPieceTokenizer.from_file(tmp_path)
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "BPE"}}')
    with pytest.raises(DataError, match="not WordPiece"):
        WordPieceTokenizer.from_file(bad)
    with pytest.raises(DataError, match="not in the vocabulary"):
        tok.decode([99])
