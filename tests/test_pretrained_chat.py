"""nncourse.pretrained.chat with small stand-ins: the repetition penalty's rule, and chat() equal to
Llama.generate when there is no penalty (the 135 M model is checked in tests/test_smollm2.py)."""

import numpy as np
import pytest

from nncourse.errors import ConfigError
from nncourse.models import Llama
from nncourse.pretrained import apply_repetition_penalty, chat
from nncourse.tokenizers import ChatTokenizer

TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "Ġ", "ab", "Ġab", "Ċ"]
TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}<|im_start|>"


@pytest.fixture(scope="module")
def pair():
    tok = ChatTokenizer.from_vocabulary(TOKENS, ["a b", "Ġ ab"], special_tokens=TOKENS[:3], chat_template=TEMPLATE,
                                        eos_token="<|im_end|>", stop_tokens=["<|endoftext|>"])
    model = Llama(len(TOKENS), 64, 16, 4, 2, 2, 24, seed=3, dtype=np.float64)
    return model, tok


def test_the_penalty_rule():
    logits = np.array([2.0, -2.0, 1.0, -1.0, 0.5])
    out = apply_repetition_penalty(logits, [0, 1, 1], 2.0)
    assert out.tolist() == [1.0, -4.0, 1.0, -1.0, 0.5] and logits[0] == 2.0     # a new array
    assert apply_repetition_penalty(logits, [], 1.5).tolist() == logits.tolist()
    assert apply_repetition_penalty(logits, [2, 3], 1.0).tolist() == logits.tolist()
    with pytest.raises(ConfigError, match="outside 0..4.*another tokenizer"):
        apply_repetition_penalty(logits, [7], 1.2)
    with pytest.raises(ConfigError, match="repetition_penalty must be a finite number > 0"):
        apply_repetition_penalty(logits, [1], float("nan"))
    with pytest.raises(ConfigError, match="logits must be a 1-D float array"):
        apply_repetition_penalty(logits[None], [1], 1.2)


def test_chat_without_penalty_equals_generate(pair):
    model, tok = pair
    messages = [{"role": "user", "content": "ab ab"}]
    ids = np.array([tok.encode_chat(messages)])
    for sampling in ({"top_k": 1}, {"temperature": 0.8, "top_p": 0.9, "seed": 5}):
        text, out = chat(model, tok, messages, max_new_tokens=12, **sampling)
        want = model.generate(ids, 12, stop_token=tok.stop_ids, **sampling)[0, ids.shape[1]:].tolist()
        stop = next((i for i, t in enumerate(want) if t in tok.stop_ids), None)
        assert out == (want if stop is None else want[:stop + 1])
        assert text == tok.decode([t for t in out if t not in tok.stop_ids])


def test_the_penalty_changes_the_greedy_answer(pair):
    model, tok = pair
    messages = [{"role": "user", "content": "ab ab"}]
    plain = chat(model, tok, messages, max_new_tokens=12, top_k=1)[1]
    strict = chat(model, tok, messages, max_new_tokens=12, top_k=1, repetition_penalty=50.0)[1]
    assert plain != strict


def test_chat_bad_inputs(pair):
    model, tok = pair
    messages = [{"role": "user", "content": "ab"}]
    with pytest.raises(ConfigError, match="repetition_penalty must be a finite number >= 1"):
        chat(model, tok, messages, repetition_penalty=0.5)
    with pytest.raises(ConfigError, match="model must be chapter 16's NumPy Llama"):
        chat("model", tok, messages)
    with pytest.raises(ConfigError, match="tokenizer must be the model's ChatTokenizer"):
        chat(model, "tok", messages)
    with pytest.raises(ConfigError, match="max_new_tokens must be a whole number >= 0"):
        chat(model, tok, messages, max_new_tokens=-1)
    with pytest.raises(ConfigError, match="messages must be a list"):
        chat(model, tok, "ab")
