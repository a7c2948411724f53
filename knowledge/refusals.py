"""What the strict readers (knowledge/yamlio.py) refuse: the limits of a user's file and the
errors that say what is wrong. Apart so that the YAML loaders and the readers share them
without importing each other."""
from __future__ import annotations

from typing import Any

MAX_BYTES = 1_000_000
MAX_DEPTH = 50
# A profile has a few dozen values and a full record about 6,000: far more is not a
# pnman file, and refusing it early keeps rejecting a 1 MB file well under a second.
MAX_NODES = 50_000


class SyntaxProblem(ValueError):
    """YAML or JSON the parser cannot read: where (line, column; 0 when unknown) and the
    parser's own words (English: quoted as they are in every language)."""

    def __init__(self, kind: str, line: int, column: int, problem: str):
        self.kind, self.line, self.column, self.problem = kind, line, column, problem
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"invalid {kind}{where}: {problem}")


class RefusedText(ValueError):
    """Text the strict readers refuse; `phrase` is the catalogues' words for it
    (`errors.text.<code>`), str() the English ones."""

    def __init__(self, code: str, **figures: Any):
        from .errors import Phrase
        self.phrase = Phrase(f"text.{code}", **figures)
        super().__init__(self.phrase)

    def __str__(self) -> str:
        from .errors import english_catalogue
        try:
            return self.phrase.words(english_catalogue())
        except Exception:           # noqa: BLE001 - the English catalogue itself cannot be read
            return f"{self.phrase.code} {self.phrase.figures}"


class DuplicateKeyError(RefusedText):
    """A mapping repeats a key, or uses a YAML alias: refused rather than silently resolved."""
