"""Errors with context. The CLI alone turns them into exit code 2 and one message."""
from __future__ import annotations


class PnmanError(Exception):
    """Base of every error pnman reports to a user without a traceback."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        self.detail = message
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.key:
            where.append(f"key '{self.key}'")
        prefix = ": ".join(where)
        return _one_line(f"{prefix}: {self.detail}" if prefix else self.detail)


def _one_line(text: str) -> str:
    """Control characters from user input would break the one-line message: show them escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class KnowledgeError(PnmanError):
    """The knowledge base is broken (schema, reference, cycle)."""


class ProfileError(PnmanError):
    """A user-supplied profile (or session, result, batch row) is not acceptable."""


class InputError(PnmanError):
    """A user-supplied file cannot be read or parsed."""
