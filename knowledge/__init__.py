"""The guide as data (YAML) and the code that reads it: model, strict loader, dependency
graph, profile reader, export and wording catalogues. Imports nothing else of pnman's.

The loader (and pydantic behind it) is imported on first use, not with the package: the
command line imports `errors` and `locales` from here to build its parser, and
`pnman --help` must not pay for the schema (issue 23)."""
from __future__ import annotations

from . import locales  # noqa: F401 (refusals are worded by its catalogues)

__all__ = ["KNOWLEDGE_DIR", "Knowledge", "default", "load"]


def __getattr__(name: str):
    if name in __all__:
        from . import loader
        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
