"""Chapter 14's tokenizer, frozen before chapter 17 generalised the class to an explicit vocabulary.

The digests below were recorded with the chapter-14 code (commit 125f777), before any change: the
version-1 save format of a tokenizer trained on Macbeth, and its ids on a mixed text with and without
special tokens. Chapter 17's refactoring must leave every one of them unchanged. (Equality with
Hugging Face ``tokenizers`` stays in tests/test_tokenizers.py.)
"""

import hashlib
import json

import pytest

from nncourse.data.shakespeare import read_play
from nncourse.tokenizers import BPETokenizer


def _digest(value) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.fixture(scope="module")
def frozen():
    return BPETokenizer.train(read_play("macbeth")[:20000], 512, special_tokens=["<|endoftext|>"])


TEXT_TAIL = " 12345 ünïcödé 東京 🙂 <|endoftext|> x\n\n\t  y"


def test_training_and_the_version_1_save_format_are_unchanged(frozen, tmp_path):
    assert frozen.merges[:5] == [(32, 116), (104, 101), (104, 97), (105, 110), (111, 117)]
    assert frozen.merge_counts[:4] == [468, 342, 240, 223]
    assert frozen.vocab_size == 512 and frozen.special_tokens == {"<|endoftext|>": 511}
    data = frozen.to_dict()
    assert sorted(data) == ["format", "merges", "pattern", "special_tokens", "version"]
    assert data["format"] == "nncourse-byte-bpe" and data["version"] == 1
    assert _digest(json.dumps(data, sort_keys=True)) == (
        "74270fd0b9bf7d804af50238194ca2bfb5a56615d3a11c69ec4d4972b951c56f")
    frozen.save(tmp_path / "tok.json")
    assert json.loads((tmp_path / "tok.json").read_text()) == data
    assert repr(frozen) == ("BPETokenizer(vocab_size=512, merges=255, special_tokens=['<|endoftext|>'], "
                            "pattern='gpt2')")


def test_ids_on_a_fixed_text_are_unchanged(frozen):
    text = read_play("hamlet")[:5000] + TEXT_TAIL
    ids = frozen.encode(text)
    assert ids[:12] == [331, 82, 78, 65, 82, 68, 79, 58, 10, 87, 404, 348]
    assert len(ids) == 2829 and ids.count(511) == 1
    assert _digest(str(ids)) == "8410d54cf148f949cc0af783d568ef26eb4e4315ca639e959d9b577ee929fcd8"
    plain = frozen.encode(text, special=False)
    assert len(plain) == 2839 and 511 not in plain
    assert _digest(str(plain)) == "7d8409aae2f920e3d74fe155a6676f936e00c340aee6f6d73f0c6d58d55ff8f3"
    assert frozen.decode(ids) == text == frozen.decode(plain)


def test_a_saved_file_loads_to_the_same_tokenizer(frozen, tmp_path):
    frozen.save(tmp_path / "tok.json")
    again = BPETokenizer.load(tmp_path / "tok.json")
    text = read_play("hamlet")[:2000] + TEXT_TAIL
    assert again.encode(text) == frozen.encode(text) and again.vocab_size == 512
