"""What CSV and workbook portfolios share: a header checked against the profile keys, a
text cell read into a profile value of its fact's type, and the bound on rows."""
from __future__ import annotations

from typing import Any

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.locales import catalogue
from pnman.knowledge.profile import NO_WORDS, YES_WORDS

BOOLEANS = {**dict.fromkeys(YES_WORDS, True), **dict.fromkeys(NO_WORDS, False)}
MAX_ROWS = 1_000_000          # rows (lines) of the input


def text_value(key: str, text: str, spec, list_sep: str = ";") -> Any:
    """A CSV cell as a profile value of the fact's type; empty means unknown."""
    text = text.strip()
    if text == "":
        return None
    kind = spec.type
    if kind == "bool":
        value = BOOLEANS.get(text.lower())
        if value is not None:
            return value
        raise CellError(Phrase("batch.cell_bool", column=key, found=repr(text)))
    if kind == "int":
        if not text.lstrip("-").isdigit():
            raise CellError(Phrase("batch.cell_int", column=key, found=repr(text)))
        return int(text)
    if kind in ("list", "intlist"):
        items = [i.strip() for i in text.split(list_sep) if i.strip()]
        if kind == "intlist":
            if not all(i.isdigit() for i in items):
                raise CellError(Phrase("batch.cell_fiches", column=key, separator=list_sep, found=repr(text)))
            return [int(i) for i in items]
        return items
    return text


def check_header(header: list[str], kb, path: str, where: Phrase) -> None:
    """Every column named once, by a profile key (exit 2 naming the first that is not);
    `where` says how the columns are laid out (batch.where_*)."""
    if "" in header:
        raise InputError(Phrase("batch.unnamed_column", column=header.index("") + 1, where=where), file=path)
    unknown = [h for h in header if h not in kb.facts]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(kb.facts), n=1)
        hint = Phrase("did_you_mean_column", close=close[0]) if close else ""
        raise InputError(Phrase("batch.unknown_column", column=unknown[0], hint=hint), file=path, key=unknown[0])
    if len(set(header)) != len(header):
        raise InputError(Phrase("batch.twice"), file=path)


class CellError(ValueError):
    """A cell that is not a value of its column's kind: the row's error, in words (str: English)."""

    def __init__(self, phrase: Phrase):
        self.phrase = phrase
        super().__init__(phrase.words(catalogue("en")))
