"""The guide as data (YAML) and the code that reads it: model, strict loader, dependency
graph, profile reader, export and wording catalogues. Imports nothing else of pnman's."""
from . import locales  # noqa: F401 (refusals are worded by its catalogues)
from .loader import KNOWLEDGE_DIR, Knowledge, default, load

__all__ = ["KNOWLEDGE_DIR", "Knowledge", "default", "load"]
