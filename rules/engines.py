"""Which rules engine decides: durable-rules where it installs (CPython before 3.13),
CLIPS elsewhere; `PNMAN_ENGINE=durable|clips` forces one. Both give the same firings
(tests/test_engines.py), so nothing above the rules layer knows which one ran: the
record only names it, outside its decision digest."""
from __future__ import annotations

import os
from functools import lru_cache

from pnman.knowledge.errors import InputError, Phrase

TYPE_CHECKING = False
if TYPE_CHECKING:       # not at run time: `pnman --version` names the engine without the schema (nor typing)
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
    """`durable-rules 2.0.28` or `CLIPS (clipspy 1.0.6)`, for `pnman --version`: this module
    imports neither the knowledge's schema nor an engine's session, so the command answers fast."""
    name = name or chosen()
    version = _installed_version(_DISTRIBUTIONS[name])
    return f"durable-rules {version}" if name == "durable" else f"CLIPS (clipspy {version})"


def _installed_version(distribution: str) -> str:
    """The distribution's version from its `.dist-info` folder's name (PEP 427/491: the
    name and version are in it) beside the module, else from importlib.metadata: importing
    that costs 20 ms, as much as the rest of `pnman --version`."""
    import sys
    prefix = distribution.replace("-", "_").lower() + "-"
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in names:
            if entry.lower().startswith(prefix) and entry.endswith(".dist-info"):
                return entry[len(prefix):-len(".dist-info")]
    from importlib import metadata
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


@lru_cache(maxsize=8)
def engine_for(kb: Knowledge, name: str):
    """The compiled engine of a knowledge base (one per process, knowledge and engine)."""
    if name == "durable":
        from .runtime import RuleEngine
        return RuleEngine(kb)
    from .clips_engine import ClipsEngine
    return ClipsEngine(kb)
