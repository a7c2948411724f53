"""Which rules engine decides: durable-rules where it installs (CPython before 3.13),
CLIPS elsewhere; `PNMAN_ENGINE=durable|clips` forces one. Both give the same firings
(tests/test_engines.py), so nothing above the rules layer knows which one ran: the
record only names it, outside its decision digest."""
from __future__ import annotations

import os
from functools import lru_cache
from importlib import metadata

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.loader import Knowledge

ENGINES = ("durable", "clips")
ENVIRONMENT = "PNMAN_ENGINE"
# What imports each engine, and the distribution that provides it.
_MODULES = {"durable": "durable_rules_engine", "clips": "clips"}
_DISTRIBUTIONS = {"durable": "durable-rules", "clips": "clipspy"}


@lru_cache(maxsize=None)
def available(name: str) -> bool:
    """Whether the engine imports here (durable-rules installed on 3.13 still fails at import)."""
    try:
        __import__(_MODULES[name])
    except (ImportError, OSError):
        return False
    return True


def chosen() -> str:
    """The engine this process uses (exit 2 when PNMAN_ENGINE names one that is missing)."""
    forced = os.environ.get(ENVIRONMENT, "").strip()
    if forced:
        if forced not in ENGINES:
            raise InputError(Phrase("engine_unknown", engines=", ".join(ENGINES), found=forced), file=f"${ENVIRONMENT}")
        if not available(forced):
            raise InputError(Phrase("engine_missing", distribution=_DISTRIBUTIONS[forced], variable=ENVIRONMENT),
                             file=f"${ENVIRONMENT}={forced}")
        return forced
    return "durable" if available("durable") else "clips"


def describe(name: str | None = None) -> str:
    """`durable-rules 2.0.28` or `CLIPS (clipspy 1.0.6)`, for `pnman --version`."""
    name = name or chosen()
    try:
        version = metadata.version(_DISTRIBUTIONS[name])
    except metadata.PackageNotFoundError:
        version = "?"
    return f"durable-rules {version}" if name == "durable" else f"CLIPS (clipspy {version})"


@lru_cache(maxsize=8)
def engine_for(kb: Knowledge, name: str):
    """The compiled engine of a knowledge base (one per process, knowledge and engine)."""
    if name == "durable":
        from .runtime import RuleEngine
        return RuleEngine(kb)
    from .clips_engine import ClipsEngine
    return ClipsEngine(kb)
