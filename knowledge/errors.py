"""Errors with context. The CLI alone turns them into exit code 2 and one message.

A message is a `Phrase`: a code of the catalogues' `errors:` section and its figures, worded
at the edge in the reader's language (`locales.error_text`); `str(exc)` is the English one.
A plain string is still taken (a message nobody reads but a developer: a broken knowledge
base)."""
from __future__ import annotations

TYPE_CHECKING = False       # annotations only: typing is not loaded by `pnman --help`
if TYPE_CHECKING:
    from typing import Any, Callable


class Phrase:
    """Words of the catalogues (`errors.<code>`) with their figures; a figure may itself be a
    Phrase (« attendu : {expected} » with `expected` = « un nombre entier de 0 à 9 »)."""

    __slots__ = ("code", "figures")

    def __init__(self, code: str, /, **figures: Any):
        self.code = code
        self.figures = figures

    def words(self, cat) -> str:
        """This phrase in the language of catalogue `cat` (a knowledge.locales.Catalogue)."""
        figures = {k: v.words(cat) if isinstance(v, Phrase) else v for k, v in self.figures.items()}
        return cat.text(f"errors.{self.code}", **figures)

    def __repr__(self) -> str:
        return f"Phrase({self.code!r}, {self.figures!r})"


class Word(Phrase):
    """A catalogue entry by its full key (« status.eligible »): a word of the domain inside a
    refusal, said as everywhere else."""

    def words(self, cat) -> str:
        figures = {k: v.words(cat) if isinstance(v, Phrase) else v for k, v in self.figures.items()}
        return cat.text(self.code, **figures)


class Number(Phrase):
    """A count inside a refusal, grouped as the reader's language writes numbers (« 1 000 000 »,
    « 1,000,000 », « 1.000.000 »), in Latin digits; CLDR's narrow and no-break spaces become
    plain ones (a refusal is one terminal line, which shows other spaces escaped)."""

    def __init__(self, value: int):
        super().__init__("number", value=value)

    def words(self, cat) -> str:
        from babel.numbers import format_decimal
        text = format_decimal(self.figures["value"], locale=cat.cldr, numbering_system="latn")
        return text.replace("\u202f", " ").replace("\u00a0", " ")


# The English catalogue, for `str(exc)` and `detail` (what logs and programs read): set by
# knowledge.locales when it is imported (it imports this module, not the other way round;
# the knowledge package imports it first).
english_catalogue: Callable[[], Any] | None = None


def install_english(catalogue: Callable[[], Any]) -> None:
    """Give refusals their English words (knowledge.locales does, when it loads)."""
    global english_catalogue
    english_catalogue = catalogue


def _english():
    if english_catalogue is None:       # pragma: no cover - knowledge/__init__ imports locales
        raise RuntimeError("pnman.knowledge.locales is not loaded: no words for a refusal")
    return english_catalogue()


def os_reason(exc: OSError) -> Phrase:
    """Why the system refused, in the reader's words (the OS says it in English)."""
    import errno
    names = {errno.EACCES: "permission", errno.EPERM: "permission", errno.ENOENT: "missing",
             errno.EISDIR: "directory", errno.ENOSPC: "full", errno.EROFS: "read_only"}
    return Phrase(f"os.{names.get(exc.errno, 'other')}")


class PnmanError(Exception):
    """Base of every error pnman reports to a user without a traceback."""

    def __init__(self, message: str | Phrase, *, file: str | Phrase | None = None, key: str | None = None):
        self.file = file
        self.key = key
        self.phrase = message if isinstance(message, Phrase) else None
        self._detail = message if isinstance(message, str) else None
        super().__init__(message)

    def __str__(self) -> str:
        return self.render()

    @property
    def detail(self) -> str:
        """What was wrong, in English (its code and figures when the English catalogue itself
        cannot be read: the refusal may be about that very file)."""
        if self.phrase is None:
            return self._detail
        try:
            return self.phrase.words(_english())
        except PnmanError:
            return f"{self.phrase.code} {self.phrase.figures}"

    def detail_in(self, cat=None) -> str:
        """What was wrong, in the language of `cat` (English without one)."""
        return self.phrase.words(cat) if self.phrase is not None and cat is not None else self.detail

    def render(self, cat=None) -> str:
        """The one-line message: file, key and what was wrong, in the language of `cat`."""
        if cat is None or self.phrase is None:
            where = []
            if self.file:
                where.append(self.file.words(_english()) if isinstance(self.file, Phrase) else str(self.file))
            if self.key:
                where.append(f"key '{self.key}'")
            prefix = ": ".join(where)
            return _one_line(f"{prefix}: {self.detail}" if prefix else self.detail)
        where = []
        if self.file:
            where.append(self.file.words(cat) if isinstance(self.file, Phrase) else str(self.file))
        if self.key:
            where.append(cat.text("errors.key", name=self.key))
        detail = self.detail_in(cat)
        if not where:
            return _one_line(detail)
        return _one_line(cat.text("errors.line", where=cat.text("errors.separator").join(where), detail=detail))


def _one_line(text: str) -> str:
    """Control characters from user input would break the one-line message: show them escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class KnowledgeError(PnmanError):
    """The knowledge base is broken (schema, reference, cycle)."""


class ValueOutOfRange(KnowledgeError):
    """A knowledge or edition file holds a value beyond what its key allows (an edition
    figure above 10¹², say): bad input (exit 2), even for `pnman validate`, which lists the
    other faults of an edition among its findings."""


class ProfileError(PnmanError):
    """A user-supplied profile (or session, result, batch row) is not acceptable."""


class InputError(PnmanError):
    """A user-supplied file cannot be read or parsed."""
