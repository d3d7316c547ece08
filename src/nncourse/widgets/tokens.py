"""A token explorer (chapter 14): a text cut into its tokens, coloured, for several vocabulary sizes.

``tokens_html(tokenizer, text)`` draws each token as a coloured box (neighbours get different
colours, so the boundaries show); a space is drawn as ``␣`` and a newline as ``↵`` so that tokens
made of white space are visible, and a token that holds only part of a UTF-8 character shows its
raw bytes (``\\xe2``).

``token_explorer(tokenizers, examples)``:

* ``static=True`` (the book): every example x every tokenizer is rendered once, when the widget is
  built, into nested ``Stack``s ``jslink``-ed to the controls (see ``widgets.static``), so it also
  works in the static book, with no kernel;
* ``static=False`` (a live notebook): a text box; every keystroke re-tokenizes what you type.
"""

from __future__ import annotations

import html
import numbers

import ipywidgets as W

from ..errors import ConfigError
from ..validation import boolean

__all__ = ["tokens_html", "token_explorer", "EXAMPLES", "PALETTE"]

#: background colours of neighbouring tokens (light, so that the text stays readable)
PALETTE = ("#fde2a7", "#b9e3f5", "#cdeccd", "#f7c6d9", "#ddd3f2", "#ffd2b3")

#: examples chosen to show the pitfalls: common words, rare words, numbers, spaces, other scripts
EXAMPLES = {
    "Shakespeare": "To be, or not to be: that is the question.",
    "rare words": "Floccinaucinihilipilification and the honorificabilitudinitatibus.",
    "numbers": "In 1599 they paid 12,345 pounds; 2 + 2 = 4, 1000000 > 999999.",
    "spaces": "def f(x):\n    return  x   *  2\n",
    "other scripts": "Café, naïve, Ελληνικά, 日本語 🙂",
}


def _shown(piece: bytes) -> str:
    """A token's bytes as readable HTML: ␣ for spaces, ↵ for newlines, \\xNN for broken UTF-8."""
    text = piece.decode("utf-8", errors="backslashreplace")
    text = html.escape(text).replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")
    return text


def tokens_html(tokenizer, text: str) -> str:
    """``text`` as a row of coloured tokens, with a line counting tokens, bytes and bytes per token."""
    if not isinstance(text, str):
        fix = "decode bytes first with .decode('utf-8')" if isinstance(text, bytes) else "pass text='...'"
        raise ConfigError(f"tokens_html expects a str as text, got {type(text).__name__}; {fix}")
    _check_tokenizer(tokenizer, "tokenizer", "tokens_html")
    ids = tokenizer.encode(text)
    spans = []
    for position, token_id in enumerate(ids):
        colour = PALETTE[position % len(PALETTE)]
        spans.append(f"<span class='token' title='id {token_id}' style='background:{colour};"
                     f"padding:1px 0;margin:0 1px;border-radius:3px;white-space:pre'>"
                     f"{_shown(tokenizer.token_bytes(token_id))}</span>")
    n_bytes = len(text.encode("utf-8"))
    ratio = f"{n_bytes / len(ids):.2f}" if ids else "-"
    summary = (f"<div class='token-count' style='font-size:85%;color:#555'>{len(ids)} tokens for "
               f"{n_bytes} bytes ({ratio} bytes per token), vocabulary of {tokenizer.vocab_size}</div>")
    body = "".join(spans) or "<i>(empty)</i>"
    return (f"<div class='token-row' style='font-family:monospace;line-height:1.9;"
            f"word-break:break-all'>{body}</div>{summary}")


def _check_tokenizer(tok, name, who):
    if not (hasattr(tok, "encode") and hasattr(tok, "token_bytes") and hasattr(tok, "vocab_size")) \
            or isinstance(tok, type):
        raise ConfigError(f"{who}: {name} is a {type(tok).__name__}, not a tokenizer; pass a trained "
                          f"BPETokenizer (BPETokenizer.train(text, vocab_size))")
    return tok


def _labelled(tokenizers):
    who = "token_explorer"
    if hasattr(tokenizers, "encode") and hasattr(tokenizers, "token_bytes"):
        raise ConfigError(f"{who}: tokenizers must be a list or a dict of tokenizers, got a single "
                          f"{type(tokenizers).__name__}; write [tok] or {{'512': tok}}")
    if isinstance(tokenizers, dict):
        items = list(tokenizers.items())
    elif isinstance(tokenizers, (list, tuple)):
        items = [(i, t) for i, t in enumerate(tokenizers)]
    else:
        raise ConfigError(f"{who}: tokenizers must be a list or a dict of tokenizers, such as {{'512': tok}}, got "
                          f"{type(tokenizers).__name__}")
    if not items:
        raise ConfigError("token_explorer: tokenizers is empty; pass at least one tokenizer, e.g. {'512': tok}")
    for label, tok in items:
        _check_tokenizer(tok, f"tokenizers[{label!r}]", who)
    if not isinstance(tokenizers, dict):
        items = [(str(t.vocab_size), t) for _, t in items]
    return [str(label) for label, _ in items], [tok for _, tok in items]


def token_explorer(tokenizers, examples=None, *, static=True, default=None):
    """Tokens of a few texts for several tokenizers (``{label: tokenizer}`` or a list).

    ``examples``: ``{name: text}`` (default ``EXAMPLES``). ``default``: the label shown first.
    Returns a ``VBox``; the static form has ``.controls``, ``.stack`` and ``.links``, the live
    form ``.text``, ``.slider`` and ``.output`` (an ``HTML`` widget).
    """
    labels, toks = _labelled(tokenizers)
    static = boolean(static, "static", "token_explorer")
    if examples is not None and not isinstance(examples, dict):
        raise ConfigError(f"token_explorer: examples must be a dict {{name: text}}, such as {{'mine': 'To be or "
                          f"not to be'}}, got {type(examples).__name__}")
    examples = dict(EXAMPLES if examples is None else examples)
    if not examples:
        raise ConfigError("token_explorer: examples is empty; pass at least one example text, such as "
                          "{'mine': 'To be or not to be'} (or leave examples out for the default ones)")
    for name, text in examples.items():
        if not isinstance(text, str):
            raise ConfigError(f"token_explorer: examples[{name!r}] must be a text (str), got {type(text).__name__}")
    if default is not None and (not isinstance(default, (str, numbers.Integral)) or isinstance(default, bool)
                                or str(default) not in labels):
        raise ConfigError(f"token_explorer: default must be one of the tokenizers' labels {labels} (or None for "
                          f"the first), got {default!r:.40}")
    start = labels.index(str(default)) if default is not None else 0
    slider = W.SelectionSlider(options=list(zip(labels, range(len(labels)))), index=start,
                               description="vocabulary size", continuous_update=True,
                               style={"description_width": "initial"}, layout=W.Layout(width="420px"))
    title = W.HTML("<b>Tokens, coloured one by one</b>")
    if not static:
        text = W.Textarea(value=next(iter(examples.values())), description="text",
                          layout=W.Layout(width="95%", height="4em"))
        output = W.HTML()

        def redraw(_=None):
            output.value = tokens_html(toks[slider.index], text.value)

        text.observe(redraw, names="value")
        slider.observe(redraw, names="index")
        redraw()
        box = W.VBox([title, text, slider, output])
        box.text, box.slider, box.output = text, slider, output
        return box

    names = list(examples)
    buttons = W.ToggleButtons(options=list(zip(names, range(len(names)))), index=0, description="text",
                              style={"description_width": "initial"})
    links = []
    inner = []
    for name in names:
        leaves = [W.HTML(tokens_html(tok, examples[name])) for tok in toks]
        stack = W.Stack(children=leaves, selected_index=start)
        links.append(W.jslink((slider, "index"), (stack, "selected_index")))
        inner.append(stack)
    outer = W.Stack(children=inner, selected_index=0)
    links.append(W.jslink((buttons, "index"), (outer, "selected_index")))
    footer = W.HTML("<small>Precomputed for these texts. In a live notebook, "
                    "<code>token_explorer(..., static=False)</code> tokenizes what you type.</small>")
    box = W.VBox([title, buttons, slider, outer, footer])
    box.controls, box.stack, box.links = [buttons, slider], outer, links
    return box
