"""The wording catalogues, one per language (locales/<lang>.yaml).

Decisions are codes and figures; a catalogue turns them into sentences at the very end.
Keys are dotted paths into the nested YAML; `{placeholders}` are filled with figures.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from .errors import KnowledgeError
from .yamlio import DuplicateKeyError, load_knowledge_yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE_LANGUAGE = "fr"
# The fields the localisation step adds to a record (top-level keys, and keys inside the
# items of a list): wording, never decision content, so the digest leaves them out.
LOCALISED = {"": ("lang",), "plan": ("label",), "warnings": ("message",)}


def available_languages(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The languages a catalogue exists for, French first: the choices of every --lang."""
    found = sorted(p.stem for p in directory.glob("*.yaml"))
    return tuple(sorted(found, key=lambda code: code != SOURCE_LANGUAGE))


def flatten(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a nested mapping as (dotted key, value)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, tree


class Catalogue:
    """One language's wording: `text(key, **figures)`; a missing key is a KnowledgeError."""

    def __init__(self, lang: str, entries: dict[str, Any], path: str):
        self.lang = lang
        self.path = path
        self._entries = entries

    @property
    def keys(self) -> set[str]:
        return set(self._entries)

    def has(self, key: str) -> bool:
        return key in self._entries

    def raw(self, key: str) -> Any:
        try:
            return self._entries[key]
        except KeyError:
            raise KnowledgeError("no wording for this key", file=self.path, key=key) from None

    def text(self, key: str, **figures: Any) -> str:
        template = self.raw(key)
        if not figures:
            return str(template)
        try:
            return str(template).format(**figures)
        except (KeyError, IndexError, ValueError) as exc:
            raise KnowledgeError(f"placeholder {exc} cannot be filled", file=self.path, key=key) from None

    def get(self, key: str, default: str | None = None, **figures: Any) -> str | None:
        return self.text(key, **figures) if key in self._entries else default


@lru_cache(maxsize=8)
def catalogue(lang: str, directory: Path = LOCALES_DIR) -> Catalogue:
    path = directory / f"{lang}.yaml"
    if lang not in available_languages(directory):
        raise KnowledgeError(f"no catalogue for language '{lang}' (available: {', '.join(available_languages(directory))})",
                             key="--lang")
    try:
        data = load_knowledge_yaml(path)
    except DuplicateKeyError as exc:
        raise KnowledgeError(str(exc), file=str(path)) from None
    except Exception as exc:  # yaml errors: keep the parser's message
        raise KnowledgeError(f"cannot be read as YAML: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise KnowledgeError("top level must be a mapping", file=str(path))
    return Catalogue(lang, dict(flatten(data)), str(path))
