"""Contract-sweep recipes for chapter 20's public callables: the WordPiece tokenizer and its steps, the BERT-style
encoder and its torch twin, mean pooling, and the MiniLM loader."""

import numpy as np
from contract import Call, recipe

_CFG = (11, 8, 8, 2, 1, 12)        # vocab, context, d_model, n_heads, n_layers, d_ff
_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "play", "##ing", "the", "."]


def _tokenizer():
    from nncourse.tokenizers import WordPieceTokenizer
    return WordPieceTokenizer(_VOCAB, max_length=8)


def _encoder():
    from nncourse.models import BertEncoder
    model = BertEncoder(*_CFG, seed=0)
    model.tokenizer = _tokenizer()
    return model


@recipe("nncourse.tokenizers.WordPieceTokenizer")
def _():
    return Call(_VOCAB, lowercase=True, strip_accents=None, max_length=8, max_input_chars_per_word=100,
                kinds={"vocab": "object"})


@recipe("nncourse.tokenizers.WordPieceTokenizer.from_file")
def _():
    from nncourse.pretrained import minilm_path
    from nncourse.tokenizers import WordPieceTokenizer
    return Call(WordPieceTokenizer, minilm_path() + "/vocab.txt", max_length=16)


@recipe("nncourse.tokenizers.WordPieceTokenizer.tokenize")
def _():
    return Call(_tokenizer(), "The playing.")


@recipe("nncourse.tokenizers.WordPieceTokenizer.normalize")
def _():
    return Call(_tokenizer(), "Café")


@recipe("nncourse.tokenizers.WordPieceTokenizer.encode")
def _():
    return Call(_tokenizer(), "the playing", max_length=6)


@recipe("nncourse.tokenizers.WordPieceTokenizer.batch")
def _():
    return Call(_tokenizer(), ["the playing", "play"], max_length=6, kinds={"texts": "object"})


@recipe("nncourse.tokenizers.WordPieceTokenizer.decode")
def _():
    return Call(_tokenizer(), [2, 4, 5, 3], kinds={"ids": "object"})


@recipe("nncourse.tokenizers.bert_normalize")
def _():
    return Call("Café\tNaïve", lowercase=True, strip_accents=None)


@recipe("nncourse.tokenizers.bert_pretokenize")
def _():
    return Call("hello, world")


@recipe("nncourse.tokenizers.wordpiece_word")
def _():
    return Call("playing", {"play": 4, "##ing": 5}, unk_token="[UNK]", prefix="##", max_chars=100,
                kinds={"vocab": "object"})


@recipe("nncourse.models.BertEncoder")
def _():
    return Call(*_CFG, type_vocab_size=2, norm_eps=1e-12, seed=0, dtype=np.float32)


@recipe("nncourse.models.BertEncoder.forward")
def _():
    ids = np.array([[2, 4, 5, 3]])
    return Call(_encoder(), ids, np.ones((1, 4), np.int64), np.zeros((1, 4), np.int64),
                kinds={"input_ids": "array", "attention_mask": "array", "token_type_ids": "array"})


@recipe("nncourse.models.BertEncoder.backward")
def _():
    model = _encoder()
    model(np.array([[2, 4, 3]]))
    return Call(model, np.zeros((1, 3, 8), np.float32), kinds={"grad_hidden": "array"})


@recipe("nncourse.models.BertEncoder.encode")
def _():
    return Call(_encoder(), ["the playing", "play."], batch_size=2, kinds={"sentences": "object"})


@recipe("nncourse.models.mean_pool")
def _():
    return Call(np.ones((2, 3, 4), np.float32), np.array([[1, 1, 0], [1, 0, 0]]),
                kinds={"hidden": "array", "mask": "array"})


@recipe("nncourse.models.torch.BertEncoder")
def _():
    return Call(*_CFG, type_vocab_size=2, norm_eps=1e-12, seed=0)


@recipe("nncourse.models.torch.BertEncoder.forward")
def _():
    from nncourse.models.torch import BertEncoder
    return Call(BertEncoder(*_CFG, seed=0), np.array([[2, 4, 5, 3]]), np.ones((1, 4), np.int64),
                kinds={"input_ids": "array", "attention_mask": "array", "token_type_ids": "array"})


@recipe("nncourse.pretrained.load_minilm")
def _():
    return Call(backend="numpy", path=None, dtype=np.float32, kinds={"backend": "text"})


@recipe("nncourse.pretrained.minilm_path")
def _():
    return Call()


def _unit(rows, seed):
    x = np.random.default_rng(seed).normal(size=(rows, 8))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@recipe("nncourse.widgets.semantic_search.top_k")
def _():
    return Call(_unit(2, 0), _unit(6, 1), k=3, kinds={"query_embeddings": "array", "speech_embeddings": "array"})


@recipe("nncourse.widgets.semantic_search.semantic_search_explorer")
def _():
    return Call(["a", "b"], [f"s{i}" for i in range(6)], _unit(2, 0), _unit(6, 1), [0, 1], k=2,
                kinds={"queries": "object", "speech_labels": "object", "query_embeddings": "array",
                       "speech_embeddings": "array", "targets": "object"})
