"""Measures that compare models and tokenizers fairly: bits per byte and compression.

A model's loss is in nats *per token*, and a token is a different amount of text for every tokenizer
(one byte for a character model, three or four for BPE). To compare, turn the loss into the number
of bits needed per byte of text:

    total information = loss_nats · n_tokens          (nats, for the whole text)
    bits per byte     = loss_nats · n_tokens / (n_bytes · ln 2)

``n_bytes`` is the UTF-8 length of the text the ``n_tokens`` predictions cover. A model that guesses
bytes uniformly at random needs 8 bits per byte; a good English model about 1.
"""

from __future__ import annotations

import math
import numbers

from ..errors import ConfigError

__all__ = ["bits_per_byte", "bytes_per_token"]


def _positive_count(name, value, who):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{who}: {name} must be a positive whole number (a count), got {value!r}")
    return int(value)


def bits_per_byte(loss_nats, n_tokens, n_bytes) -> float:
    """Bits per byte of a mean loss of ``loss_nats`` nats per token over ``n_tokens`` tokens that
    spell ``n_bytes`` bytes of UTF-8 text.

    >>> round(bits_per_byte(1.0, 100, 100), 4)        # 1 nat per byte = 1/ln 2 bits
    1.4427
    >>> round(bits_per_byte(2.0, 25, 100), 4)         # 2 nats per token, 4 bytes per token
    0.7213
    """
    who = "bits_per_byte"
    if isinstance(loss_nats, bool) or not isinstance(loss_nats, numbers.Real):
        raise ConfigError(f"{who}: loss_nats must be a number (a mean cross-entropy in nats), got {loss_nats!r}")
    if not math.isfinite(loss_nats) or loss_nats < 0:
        raise ConfigError(f"{who}: loss_nats must be finite and >= 0 (a cross-entropy), got {loss_nats!r}; "
                          f"a NaN or infinite loss means the training diverged")
    n_tokens, n_bytes = _positive_count("n_tokens", n_tokens, who), _positive_count("n_bytes", n_bytes, who)
    return float(loss_nats) * n_tokens / (n_bytes * math.log(2))


def bytes_per_token(tokenizer, text: str) -> float:
    """The compression of ``text`` by ``tokenizer``: UTF-8 bytes divided by the number of tokens."""
    n_bytes = len(text.encode("utf-8")) if isinstance(text, str) else None
    if not n_bytes:
        raise ConfigError(f"bytes_per_token: text must be a non-empty str, got {type(text).__name__} {text!r:.40}; "
                          f"pass the text whose compression to measure")
    if isinstance(tokenizer, (str, bytes)) or not callable(getattr(tokenizer, "encode", None)):
        raise ConfigError(f"bytes_per_token: tokenizer must be a tokenizer (such as a BPETokenizer), got "
                          f"{type(tokenizer).__name__}; the order is bytes_per_token(tokenizer, text)")
    return n_bytes / len(tokenizer.encode(text))
