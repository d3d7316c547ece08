"""Chat templates (chapter 17): a conversation -> the one string a chat model was trained on.

A chat model reads a conversation as one text with special tokens around each turn. SmolLM2 uses
ChatML::

    <|im_start|>system
    You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
    <|im_start|>user
    What is 2+2?<|im_end|>
    <|im_start|>assistant

The model file ships the rule as a Jinja template; ``ChatTokenizer.apply_chat_template`` renders it in
Jinja's *sandbox* (a template read from a file is code from someone else: the sandbox lets it loop and
concatenate but not reach Python's internals), exactly as Hugging Face ``transformers`` does.

**User text is data, not markup.** ``encode_chat`` keeps the special tokens the *template* writes, and
encodes every message's content with ``special=False``: a user who types ``<|im_end|>`` gets the
characters ``<``, ``|``, ``im``..., not the token that closes the turn. (Encoding the rendered string
with ``encode(text)`` would turn them into the real token: a prompt injection.)
"""

from __future__ import annotations

import functools

from ..errors import ConfigError, DataError
from .bpe import BPETokenizer

__all__ = ["ChatTokenizer", "render_chat_template"]

_ROLES_HINT = "[{'role': 'user', 'content': 'Hello!'}]"


def _check_messages(messages, who):
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, (list, tuple)):
        raise ConfigError(f"{who}: messages must be a list of {{'role': ..., 'content': ...}} dicts such as "
                          f"{_ROLES_HINT}, got {type(messages).__name__}")
    clean = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise ConfigError(f"{who}: messages[{i}] must be a dict with the keys 'role' and 'content' only, got "
                              f"{message!r:.80}; write it as {{'role': 'user', 'content': 'Hello!'}}")
        for key in ("role", "content"):
            value = message[key]
            if not isinstance(value, str):
                raise ConfigError(f"{who}: messages[{i}]['{key}'] must be a str, got {type(value).__name__}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise ConfigError(f"{who}: messages[{i}]['{key}'] holds {value[error.start:error.end]!r}, a lone "
                                  f"surrogate with no UTF-8 bytes; clean the text first, e.g. "
                                  f"text.encode('utf-8', 'replace').decode('utf-8')") from None
        if not message["role"]:
            raise ConfigError(f"{who}: messages[{i}]['role'] is empty; use 'system', 'user' or 'assistant'")
        clean.append({"role": message["role"], "content": message["content"]})
    if not clean:
        raise ConfigError(f"{who}: messages is empty; pass at least one message, e.g. {_ROLES_HINT}")
    return clean


@functools.lru_cache(maxsize=8)
def _compile(template: str):
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(template)
    except jinja2.exceptions.TemplateSyntaxError as error:
        raise DataError(f"the chat template does not compile ({error}); the model file's "
                        f"tokenizer.chat_template is damaged") from None


def render_chat_template(template, messages, *, add_generation_prompt=True, **variables) -> str:
    """``template`` (Jinja source) rendered in the sandbox for ``messages``.

    >>> render_chat_template("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\\n{% endfor %}",
    ...                      [{"role": "user", "content": "hi"}])
    '[user] hi\\n'
    """
    import jinja2

    if not isinstance(template, str) or not template:
        raise ConfigError(f"render_chat_template: template must be the Jinja source (a non-empty str), got "
                          f"{template!r:.60}")
    if not isinstance(add_generation_prompt, bool):
        raise ConfigError(f"render_chat_template: add_generation_prompt must be True or False, got "
                          f"{add_generation_prompt!r}; write it without quotes")
    messages = _check_messages(messages, "render_chat_template")
    compiled = _compile(template)
    try:
        return compiled.render(messages=messages, add_generation_prompt=add_generation_prompt, **variables)
    except jinja2.exceptions.SecurityError as error:
        raise DataError(f"the chat template tried something the sandbox forbids ({error}); do not use this "
                        f"template") from None
    except jinja2.exceptions.TemplateError as error:
        raise ConfigError(f"the chat template refused the messages: {error}") from None


class ChatTokenizer(BPETokenizer):
    """A ``BPETokenizer`` with a chat template and the ids that end a turn (chapter 17).

    Built with ``ChatTokenizer.from_vocabulary(tokens, merges, special_tokens=..., pattern=...,
    chat_template=..., eos_token=..., stop_tokens=...)``. ``pattern`` is ``BPETokenizer``'s: ``"gpt2"``
    (the default), ``"smollm"``, a compiled ``re.Pattern``, or ``None`` (documented: no pre-tokenization,
    BPE over the whole text).
    """

    @classmethod
    def from_vocabulary(cls, tokens, merges, *, special_tokens=(), pattern="gpt2", chat_template=None,
                        eos_token=None, bos_token=None, stop_tokens=()):
        self = super().from_vocabulary(tokens, merges, special_tokens=special_tokens, pattern=pattern)
        if chat_template is not None and (not isinstance(chat_template, str) or not chat_template):
            raise ConfigError(f"ChatTokenizer: chat_template must be Jinja source (str) or None, got "
                              f"{chat_template!r:.60}")
        self.chat_template = chat_template
        for name, token in (("eos_token", eos_token), ("bos_token", bos_token)):
            if token is not None and token not in self.special_tokens:
                raise ConfigError(f"ChatTokenizer: {name} {token!r} is not one of the special tokens "
                                  f"{sorted(self.special_tokens)[:5]}...; name one of them")
        self.eos_token, self.bos_token = eos_token, bos_token
        #: the id that ends the assistant's turn (``<|im_end|>`` for SmolLM2), or None
        self.eos_id = self.special_tokens[eos_token] if eos_token is not None else None
        self.bos_id = self.special_tokens[bos_token] if bos_token is not None else None
        stops = []
        for token in ([eos_token] if eos_token is not None else []) + list(stop_tokens):
            if token not in self.special_tokens:
                raise ConfigError(f"ChatTokenizer: the stop token {token!r} is not one of the special tokens; "
                                  f"name one of them")
            if self.special_tokens[token] not in stops:
                stops.append(self.special_tokens[token])
        #: every id at which generation stops (``<|im_end|>`` and ``<|endoftext|>`` for SmolLM2)
        self.stop_ids = tuple(stops)
        return self

    def _template(self, who):
        if self.chat_template is None:
            raise ConfigError(f"{who}: this tokenizer has no chat template; load one from a chat model's file")
        return self.chat_template

    def _variables(self):
        return {"bos_token": self.bos_token or "", "eos_token": self.eos_token or ""}

    def apply_chat_template(self, messages, add_generation_prompt=True) -> str:
        """The conversation as one string, rendered from the model's template (what ``transformers``'
        ``apply_chat_template(messages, tokenize=False)`` returns). Encode it with ``encode_chat``, not
        with ``encode``, so that special-token strings typed by users stay plain text."""
        template = self._template("apply_chat_template")
        return render_chat_template(template, messages, add_generation_prompt=add_generation_prompt,
                                    **self._variables())

    def encode_chat(self, messages, add_generation_prompt=True) -> list[int]:
        """The ids of the conversation: the template's special tokens as single ids, every message's
        content encoded with ``special=False`` (a typed ``<|im_end|>`` does not close the turn).

        Apart from that, the ids are those of the rendered string: pre-tokenization runs over the whole
        text, across the edges between template and content, as in ``transformers``."""
        messages = _check_messages(messages, "encode_chat")
        template = self._template("encode_chat")
        text = self.apply_chat_template(messages, add_generation_prompt)
        # render once more with a marker in place of each content, to find where the contents are
        markers = [f"\ue000{i}\ue001" for i in range(len(messages))]
        marked = render_chat_template(template, [{"role": m["role"], "content": k} for m, k in zip(messages, markers)],
                                      add_generation_prompt=add_generation_prompt, **self._variables())
        protected, rebuilt, position = [], [], 0
        for i, marker in enumerate(markers):
            at = marked.find(marker, position)
            if at < 0 or marked.count(marker) != 1:
                raise DataError("encode_chat: the chat template does not write each message's content once, "
                                "as it is; this tokenizer cannot keep user text apart from the template's tokens")
            rebuilt.append(marked[position:at])
            start = sum(len(x) for x in rebuilt)
            rebuilt.append(messages[i]["content"])
            protected.append((start, start + len(messages[i]["content"])))
            position = at + len(marker)
        rebuilt.append(marked[position:])
        if "".join(rebuilt) != text:
            raise DataError("encode_chat: the chat template changes the message contents (trims or escapes "
                            "them); this tokenizer cannot keep user text apart from the template's tokens")
        return self._encode_outside(text, protected)

    def _encode_outside(self, text, protected):
        """Encode ``text``, recognising special tokens only outside the ``protected`` spans."""
        names = sorted(self.special_tokens, key=len, reverse=True)
        spans = iter(protected)
        current = next(spans, None)
        ids, start, i = [], 0, 0
        while i < len(text):
            while current is not None and i >= current[1]:
                current = next(spans, None)
            if current is not None and current[0] <= i < current[1]:
                i = current[1]
                continue
            hit = next((s for s in names if text.startswith(s, i)
                        and (current is None or i + len(s) <= current[0])), None)
            if hit is None:
                i += 1
                continue
            ids.extend(self._encode_ordinary(text[start:i]))
            ids.append(self.special_tokens[hit])
            i = start = i + len(hit)
        ids.extend(self._encode_ordinary(text[start:]))
        return ids
