"""The guide's text, normalised so that citations can be checked word for word.

Citations in `knowledge/` are copied from the guide; line breaks, tabs, bullets and
page furniture (running footers, page numbers) differ between the printed layout
and a quotation, so both sides are normalised the same way before comparing.
"""
from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

GUIDE_FILENAME = "guide-pnman-tic.txt"

_FURNITURE = re.compile(
    r"^\s*(?:\d*Les Technologies de l’Information et de la Communication\s*"
    r"|Fiche n° \d+\s*:.*"
    r"|Présentation de l’axe Internet|Présentation des outils de gestion"
    r"|Présentation de l’infrastructure des Systèmes d’Information|INTRODUCTION)\s*$"
)
_SPACES = re.compile(r"\s+")
_HYPHEN_BREAK = re.compile(r"(\w)- (\w)")


def normalise(text: str) -> str:
    """Collapse whitespace and bullets, and join words hyphenated across lines."""
    text = text.replace("•", " ").replace("−", " ").replace("\u00a0", " ")
    text = _SPACES.sub(" ", text).strip()
    text = text.replace("/ ", "/")   # a line break after a slash ("scanner/\nfax")
    return _HYPHEN_BREAK.sub(r"\1\2", text)


def find_guide(explicit: str | os.PathLike | None = None) -> Path | None:
    """Locate the guide: explicit path, $PNMAN_GUIDE, or the project's `../shared/seed`."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("PNMAN_GUIDE"):
        candidates.append(Path(os.environ["PNMAN_GUIDE"]))
    here = Path(__file__).resolve().parent.parent
    candidates += [here.parent / "shared" / "seed" / GUIDE_FILENAME,
                   Path.cwd().parent / "shared" / "seed" / GUIDE_FILENAME,
                   Path.cwd() / "shared" / "seed" / GUIDE_FILENAME]
    for path in candidates:
        if path.is_file():
            return path
    return None


class GuideText:
    """The guide, searchable for verbatim quotations."""

    def __init__(self, raw: str, path: Path | None = None):
        self.raw = raw
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GuideText":
        path = Path(path)
        return cls(path.read_text(encoding="utf-8"), path)

    @cached_property
    def _flat(self) -> str:
        return normalise(self.raw)

    @cached_property
    def _body(self) -> str:
        lines = [line for line in self.raw.splitlines() if not _FURNITURE.match(line)]
        return normalise("\n".join(lines))

    def contains(self, quotation: str) -> bool:
        """True when the quotation appears in the guide, layout aside."""
        q = normalise(quotation)
        return q in self._flat or q in self._body
