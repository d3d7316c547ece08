"""The token explorer (chapter 14): static (precomputed, for the book) and live."""

import re

import pytest

from nncourse.errors import ConfigError
from nncourse.tokenizers import BPETokenizer
from nncourse.widgets.tokens import EXAMPLES, PALETTE, token_explorer, tokens_html

CORPUS = "To be, or not to be: that is the question. The question, the answer. 1599 and 1600. " * 20


@pytest.fixture(scope="module")
def tokenizers():
    big = BPETokenizer.train(CORPUS, 290)
    return {str(n): BPETokenizer(big.merges[: n - 256]) for n in (256, 270, 290)}


def spans(markup):
    return re.findall(r"<span class='token'[^>]*>(.*?)</span>", markup)


def test_tokens_html_shows_every_token_with_visible_spaces(tokenizers):
    tok = tokenizers["290"]
    text = "to be, or not\n"
    markup = tokens_html(tok, text)
    shown = spans(markup)
    assert len(shown) == len(tok.encode(text))
    assert "".join(shown).replace("␣", " ").replace("↵", "\n") == text
    assert f"{len(shown)} tokens for {len(text)} bytes" in markup and "vocabulary of 290" in markup
    colours = re.findall(r"background:(#[0-9a-f]{6})", markup)
    assert all(a != b for a, b in zip(colours, colours[1:])) and set(colours) <= set(PALETTE)
    # bytes alone: 14 tokens of one byte each
    assert len(spans(tokens_html(tokenizers["256"], text))) == len(text)


def test_tokens_html_escapes_markup_and_shows_broken_utf8(tokenizers):
    markup = tokens_html(tokenizers["290"], "<b>x</b> é")
    assert "<b>" not in markup and "&lt;" in markup and "&gt;" in markup
    # a tokenizer that merged only the first byte of "é" with a space would show the raw byte
    tok = BPETokenizer([(32, 0xC3)])
    shown = spans(tokens_html(tok, " é"))
    assert shown == ["␣\\xc3", "\\xa9"]
    assert "(empty)" in tokens_html(tok, "")


def test_static_explorer_precomputes_every_text_and_vocabulary(tokenizers):
    box = token_explorer(tokenizers, default="290")
    buttons, slider = box.controls
    assert [o[0] for o in buttons.options] == list(EXAMPLES)
    assert [o[0] for o in slider.options] == ["256", "270", "290"] and slider.index == 2
    leaves = [leaf.value for stack in box.stack.children for leaf in stack.children]
    assert len(leaves) == len(EXAMPLES) * 3
    first = box.stack.children[0].children
    counts = [len(spans(leaf.value)) for leaf in first]
    assert counts[0] > counts[1] > counts[2]                 # more merges, fewer tokens
    assert len(box.links) == len(EXAMPLES) + 1 and all(type(link).__name__ == "Link" for link in box.links)


def test_live_explorer_retokenizes_what_is_typed(tokenizers):
    box = token_explorer(tokenizers, static=False)
    before = box.output.value
    box.text.value = "the question"
    after = box.output.value
    assert after != before and len(spans(after)) == len(tokenizers["256"].encode("the question"))
    box.slider.index = 2
    assert len(spans(box.output.value)) == len(tokenizers["290"].encode("the question"))


def test_bad_arguments():
    with pytest.raises(ConfigError, match="at least one tokenizer"):
        token_explorer({})
    with pytest.raises(ConfigError, match="not a tokenizer"):
        token_explorer({"512": "gpt2"})
    with pytest.raises(ConfigError, match="at least one example"):
        token_explorer([BPETokenizer()], examples={})
    with pytest.raises(ConfigError, match="expects a str"):
        tokens_html(BPETokenizer(), 42)
