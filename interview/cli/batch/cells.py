"""What CSV and workbook portfolios share: a header checked against the profile keys, a
text cell read into a profile value of its fact's type, and the bound on rows."""
from __future__ import annotations

from typing import Any

from pnman.knowledge.errors import InputError
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
        raise ValueError(f"column '{key}': expected true/false (oui/non), found {text!r}")
    if kind == "int":
        if not text.lstrip("-").isdigit():
            raise ValueError(f"column '{key}': expected a whole number, found {text!r}")
        return int(text)
    if kind in ("list", "intlist"):
        items = [i.strip() for i in text.split(list_sep) if i.strip()]
        if kind == "intlist":
            if not all(i.isdigit() for i in items):
                raise ValueError(f"column '{key}': expected fiche numbers separated by '{list_sep}', found {text!r}")
            return [int(i) for i in items]
        return items
    return text


def check_header(header: list[str], kb, path: str, where: str) -> None:
    """Every column named once, by a profile key (exit 2 naming the first that is not)."""
    if "" in header:
        raise InputError(f"column {header.index('') + 1} of the header has no name; expected a profile key "
                         f"({where})", file=path)
    unknown = [h for h in header if h not in kb.facts]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(kb.facts), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"unknown column '{unknown[0]}'{hint}", file=path, key=unknown[0])
    if len(set(header)) != len(header):
        raise InputError("a column appears twice in the header", file=path)
