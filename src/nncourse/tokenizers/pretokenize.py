"""Pre-tokenization: cutting a text into pieces that BPE may not merge across (GPT-2's regular expression).

Without it, BPE happily learns tokens such as ``"e t"`` or ``"dog."`` that glue the end of one word to
the start of the next, or a word to its punctuation, and spends its vocabulary on them. GPT-2 first
splits the text with one regular expression and runs BPE inside each piece. Its pattern, tried
left to right at every position, is::

    's|'t|'re|'ve|'m|'ll|'d          English contractions (lower case only): "don't" -> "don", "'t"
     ?\\p{L}+                         a run of letters, with at most one space in front: " world"
     ?\\p{N}+                         a run of digits (any script), with one optional space: " 2024"
     ?[^\\s\\p{L}\\p{N}]+              a run of other symbols (punctuation): " ...", "!?"
    \\s+(?!\\S)                        white space, but not the last space before a word ...
    \\s+                              ... (which goes with the word), or white space at the very end

So ``"Hello  world's 42!"`` becomes ``"Hello" " " " world" "'s" " 42" "!"``: a word carries its
leading space, which is why GPT-2's vocabulary holds ``" the"`` and ``"the"`` as two tokens.

``\\p{L}`` (any letter) and ``\\p{N}`` (any number) are Unicode property classes. The standard ``re``
module does not know them (the third-party ``regex`` module does; it is not a dependency of the
course). We build the same classes for ``re`` from ``unicodedata``: every code point whose general
category starts with ``L`` (letters) or ``N`` (numbers: Nd digits, but also Nl such as "Ⅻ" and No such
as "²" or "½"). The shortcuts that look close are *not* the same: ``[^\\W\\d_]`` counts "²" and "½" as
letters, and ``\\d`` misses them as numbers. Likewise ``re``'s ``\\s`` also matches the four control
characters U+001C-U+001F, which Unicode's White_Space property (used by GPT-2 and by Hugging Face's
``tokenizers``) does not, so white space is spelled out too. What remains different from Hugging
Face's pattern is only the Unicode version of the tables (``unicodedata.unidata_version``): a
character added in a newer version may be classified differently.

**SmolLM2's pattern** (``"smollm"``, chapter 17) first cuts every number character off on its own
(``"2024"`` -> ``"2" "0" "2" "4"``: Hugging Face's ``Digits(individual_digits=True)``), then applies
GPT-2's pattern to the text between them. One regular expression does both: a number is a piece by
itself, the `` ?\\p{N}+`` alternative is gone, and the white-space look-ahead also stops before a number
(``"a  7"`` -> ``"a" "  " "7"``: the two spaces stay together because the number starts a new piece)::

    \\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?![^\\s\\p{N}])|\\s+
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from .. import validation
from ..errors import ConfigError

__all__ = ["GPT2_PATTERN", "SMOLLM_PATTERN", "PATTERNS", "compile_pattern", "pretokenize", "bytes_to_unicode",
           "unicode_to_bytes"]

#: GPT-2's pre-tokenization pattern as written with the ``regex`` module's property classes
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
#: SmolLM2's pattern (chapter 17): every number character alone, then GPT-2's pattern
SMOLLM_PATTERN = r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?![^\s\p{N}])|\s+"""
#: the names ``pattern=`` accepts (besides a compiled ``re.Pattern`` of your own)
PATTERNS = ("gpt2", None, "smollm")

# Unicode's White_Space property (PropList.txt): what \s means in GPT-2's pattern
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _category_class(first_letter: str) -> str:
    """A ``re`` character-class body (ranges) for every code point whose category starts with the letter."""
    ranges, start, previous = [], None, None
    for code in range(sys.maxunicode + 1):
        inside = unicodedata.category(chr(code))[0] == first_letter
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, previous))
            start = None
        previous = code
    if start is not None:
        ranges.append((start, previous))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


@functools.lru_cache(maxsize=None)
def _gpt2_regex() -> re.Pattern:
    letters, numbers = _category_class("L"), _category_class("N")
    space = _WHITE_SPACE
    pattern = (rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[{numbers}]+| ?[^{space}{letters}{numbers}]+"
               rf"|[{space}]+(?![^{space}])|[{space}]+")
    return re.compile(pattern)


@functools.lru_cache(maxsize=None)
def _smollm_regex() -> re.Pattern:
    letters, numbers = _category_class("L"), _category_class("N")
    space = _WHITE_SPACE
    pattern = (rf"[{numbers}]|'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[^{space}{letters}{numbers}]+"
               rf"|[{space}]+(?![^{space}{numbers}])|[{space}]+")
    return re.compile(pattern)


def compile_pattern(pattern):
    """``"gpt2"`` -> GPT-2's pattern for ``re``; ``"smollm"`` -> SmolLM2's (numbers alone, then GPT-2's);
    ``None`` -> no splitting; a compiled pattern is kept."""
    if pattern is None or isinstance(pattern, re.Pattern):
        return pattern
    if pattern == "gpt2":
        return _gpt2_regex()
    if pattern == "smollm":
        return _smollm_regex()
    raise ConfigError(f"pattern must be 'gpt2', None (no pre-tokenization), 'smollm' (numbers one by one, then "
                      f"GPT-2's) or a compiled re.Pattern, "
                      f"got {pattern!r}")


def pretokenize(text: str, pattern="gpt2") -> list[str]:
    """The pieces of ``text`` (their concatenation is ``text``) that BPE works inside.

    >>> pretokenize("Hello  world's 42!")
    ['Hello', ' ', ' world', "'s", ' 42', '!']
    """
    if not isinstance(text, str):
        raise ConfigError(f"pretokenize: text must be a str, got {type(text).__name__}"
                          + (": decode bytes first, data.decode('utf-8')" if isinstance(text, bytes)
                             else "; pass the text to split, such as 'Hello world'"))
    compiled = compile_pattern(pattern)
    if compiled is None:
        return [text] if text else []
    pieces = compiled.findall(text)
    if "".join(pieces) != text:          # a pattern of one's own that skips characters would lose text
        raise ConfigError("pretokenize: the pattern does not cover every character of the text, so "
                          "decode(encode(text)) could not give the text back; add a last alternative "
                          "such as |\\s+|. to the pattern")
    return pieces


@functools.lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table byte -> printable character, used by Hugging Face's byte-level tokenizers.

    Token strings in GPT-2's files are written with one visible character per byte: the 188 bytes
    that are printable Latin-1 characters stand for themselves (``"a"`` is byte 97), the other 68
    (controls, the space, byte 127-160, 173) are shifted to U+0100 and above in byte order, so the
    space (byte 32) is ``"Ġ"`` (U+0120) and the newline (byte 10) is ``"Ċ"`` (U+010A). The table only
    changes how tokens are *written*; our tokenizer keeps raw bytes and needs it only to read or
    compare with files in that convention.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, shift = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shift)
            shift += 1
    return table


def unicode_to_bytes(token: str) -> bytes:
    """The reverse of ``bytes_to_unicode`` for one token string: ``"Ġthe"`` -> ``b" the"``."""
    token = validation.text(token, "token", "unicode_to_bytes")
    reverse = {c: b for b, c in bytes_to_unicode().items()}
    try:
        return bytes(reverse[c] for c in token)
    except KeyError as error:
        raise ConfigError(f"unicode_to_bytes: {error.args[0]!r} in {token!r} is not one of the 256 "
                          f"characters of GPT-2's byte table") from None
