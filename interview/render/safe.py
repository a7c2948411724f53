"""Text typed by people, made safe to print: no control, escape or direction characters.

A company name reaches terminals, Markdown files, reports and logs. Raw, an escape
sequence could clear the screen, a newline could forge a report line (« Classe de
taille : ME »), a bidi override could reorder what a reader sees. Each is shown as its
escape instead (`\\x1b`, `\\u202e`), which is visible and harmless everywhere.
"""
from __future__ import annotations

import unicodedata

# Characters that change how the text around them is displayed, beyond the Cc controls.
DIRECTION = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def _visible(ch: str) -> str:
    return ch.encode("unicode_escape").decode("ascii")


def plain(text: object) -> str:
    """The text with every control, format and line/paragraph separator character escaped."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if ch in DIRECTION or category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append(_visible(ch))
        else:
            out.append(ch)
    return "".join(out)
