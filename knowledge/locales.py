"""The wording catalogues, one per language (locales/<lang>.yaml).

Decisions are codes and figures; a catalogue turns them into sentences at the very end.
Keys are dotted paths into the nested YAML; `{placeholders}` are filled with figures.

A value may be a plural entry: a mapping whose keys are CLDR plural categories (some of
zero, one, two, few, many, and always other), e.g. `{one: "{n} réponse", other: "{n}
réponses"}`. It is one entry, not nested keys; `text()` picks its form with the
language's CLDR rules (Babel) for the figure `count`, or `n` when there is no `count`.

Numbers follow the catalogue's `locale`: `meta.locale` when the catalogue names one,
else the Algerian variant of its language when CLDR has it (fr_DZ, ar_DZ), else the
language (en), else CLDR's root. Digits stay Latin (0-9) everywhere: CLDR's ar_DZ writes them so, with
« . » between thousands, as Algerian Arabic print does.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
TYPE_CHECKING = False       # typing's import is a tenth of `pnman --help`'s own start-up: annotations only
if TYPE_CHECKING:
    from typing import Any, Iterator

from .cachefiles import CACHE_VARIABLE  # noqa: F401 (a folder for the parsed catalogues; "off": none)
from .errors import KnowledgeError, install_english

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE_LANGUAGE = "fr"
# The fields the localisation step adds to a record (top-level keys, and keys inside the
# items of a list): wording, never decision content, so the digest leaves them out.
LOCALISED = {"": ("lang",), "plan": ("label",), "warnings": ("message",)}
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def available_languages(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The languages a catalogue exists for, French first: the choices of every --lang."""
    found = sorted(p.stem for p in directory.glob("*.yaml"))
    return tuple(sorted(found, key=lambda code: code != SOURCE_LANGUAGE))


def is_plural(value: Any) -> bool:
    """A plural entry: a mapping of CLDR plural categories that has `other` (one leaf)."""
    return (isinstance(value, dict) and "other" in value and all(isinstance(k, str) for k in value)
            and set(value) <= set(PLURAL_CATEGORIES) and all(isinstance(v, str) for v in value.values()))


def forms(value: Any) -> list[Any]:
    """The texts of an entry: a plural entry's forms, or the value itself."""
    return list(value.values()) if is_plural(value) else [value]


def flatten(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a nested mapping as (dotted key, value); a plural entry is a leaf."""
    if isinstance(tree, dict) and not is_plural(tree):
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

    @property
    def locale(self) -> str:
        """The CLDR locale of numbers and plurals (see the module's docstring)."""
        from babel import localedata
        named = self._entries.get("meta.locale")
        if named:
            if not localedata.exists(str(named)):
                raise KnowledgeError(f"CLDR has no locale '{named}'", file=self.path, key="meta.locale")
            return str(named)
        for name in (f"{self.lang}_DZ", self.lang):
            if localedata.exists(name):
                return name
        return "root"       # a language CLDR does not know: plain grouping, one plural form

    @property
    def cldr(self):
        """The Babel Locale of `locale`, for number formats and plural rules."""
        return _babel_locale(self.locale)

    @property
    def translation(self) -> bool:
        """Whether the catalogue translates the French original (meta.translation)."""
        return self._entries.get("meta.translation") is True

    @property
    def direction(self) -> str:
        """The writing direction of the language: rtl or ltr (meta.direction, ltr if absent)."""
        return "rtl" if self._entries.get("meta.direction") == "rtl" else "ltr"

    def plural_form(self, count: Any) -> str:
        """The CLDR plural category of `count` in this language (other for a non-number)."""
        if isinstance(count, bool) or not isinstance(count, (int, float)):
            return "other"
        return self.cldr.plural_form(abs(count))

    def text(self, key: str, /, **figures: Any) -> str:
        template = self.raw(key)
        if is_plural(template):
            count = figures.get("count", figures.get("n"))
            if count is None:
                raise KnowledgeError("a plural entry needs the figure {count} (or {n})", file=self.path, key=key)
            template = template.get(self.plural_form(count), template["other"])
        if not figures:
            return str(template)
        try:
            return str(template).format(**figures)
        except (KeyError, IndexError, ValueError) as exc:
            raise KnowledgeError(f"placeholder {exc} cannot be filled", file=self.path, key=key) from None

    def get(self, key: str, default: str | None = None, **figures: Any) -> str | None:
        return self.text(key, **figures) if key in self._entries else default


@lru_cache(maxsize=16)
def _babel_locale(name: str):
    from babel import Locale
    return Locale.parse(name)


@lru_cache(maxsize=8)
def catalogue(lang: str, directory: Path = LOCALES_DIR) -> Catalogue:
    path = directory / f"{lang}.yaml"
    if lang not in available_languages(directory):
        raise KnowledgeError(f"no catalogue for language '{lang}' (available: {', '.join(available_languages(directory))})",
                             key="--lang")
    return Catalogue(lang, _entries(path), str(path))


def _entries(path: Path) -> dict[str, Any]:
    """A catalogue's flattened entries. Parsing its YAML costs more than all the rest of
    `pnman --help` (issue 23), so the parsed entries are kept, as Python keeps bytecode, in a
    `marshal` file named by checksums of the YAML's bytes: an edited catalogue is parsed again,
    a damaged or unwritable cache only costs the parse. CRC-32 and Adler-32 with the length
    (zlib, loaded anyway by argparse's help): no adversary writes our catalogues, and
    hashlib's OpenSSL would cost a tenth of `pnman --help`."""
    import marshal
    import zlib

    from .cachefiles import cache_folders, keep, read_cached
    raw = path.read_bytes()
    name = f"{path.stem}.{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}{len(raw):x}.marshal"
    folders = cache_folders(path.parent)
    kept = read_cached(folders, name)
    if kept is not None:
        try:
            entries = marshal.loads(kept)
        except (EOFError, ValueError, TypeError):
            entries = None
        if isinstance(entries, dict):
            return entries
    from .yamlio import read_knowledge_file    # YAML only when no cache holds the catalogue
    data = read_knowledge_file(path)
    if not isinstance(data, dict):
        raise KnowledgeError("top level must be a mapping", file=str(path))
    entries = dict(flatten(data))
    keep(folders, name, path.stem, ".marshal", marshal.dumps(entries))
    return entries


MESSAGE_LANGUAGE_VARIABLES = ("PNMAN_LANG", "LANG")


def message_language(argv: list[str] | None = None, environ: dict | None = None) -> str:
    """The language of pnman's messages (refusals, --help) before any argument is parsed:
    `--lang X` on the command line, else $PNMAN_LANG, else the language of $LANG (fr_DZ.UTF-8
    → fr), when a catalogue exists for it; else French, the guide's language."""
    import os
    languages = available_languages()
    argv = list(argv or ())
    for index, arg in enumerate(argv):
        value = argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else \
            arg.split("=", 1)[1] if arg.startswith("--lang=") else None
        if value in languages:
            return value
    environ = os.environ if environ is None else environ
    for name in MESSAGE_LANGUAGE_VARIABLES:
        code = str(environ.get(name) or "").split(".")[0].split("_")[0].split("-")[0].lower()
        if code in languages:
            return code
    return SOURCE_LANGUAGE


install_english(lambda: catalogue("en"))      # str(exc) of a refusal worded by a Phrase
