"""Passwords: hashed with argon2id (argon2-cffi's defaults, RFC 9106's second choice), read
from the terminal twice, or as one line of standard input for scripts."""
from __future__ import annotations

import getpass
import sys
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pnman.knowledge.errors import InputError, Phrase

_HASHER = PasswordHasher()          # argon2id


@lru_cache(maxsize=1)
def _dummy() -> str:
    """A hash no password matches, made at the first sign-in rather than at import: every
    `pnman` command imports this module with its parser, and a hash costs 0.4 s of CPU."""
    return _HASHER.hash("no account has this password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` was made from. No stored hash (an unknown
    name) is checked against a dummy, so a wrong name takes as long as a wrong password."""
    try:
        return _HASHER.verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def read_password(prompt: str, again: str, stdin=None) -> str:
    """Twice from the terminal (they must match), or one line from standard input."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        line = stdin.readline()
        if not line:
            raise InputError(Phrase("users.no_password"), key="password")
        return line.rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass(again) != first:
        raise InputError(Phrase("users.differ"), key="password")
    return first
