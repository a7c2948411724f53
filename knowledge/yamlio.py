"""Strict readers for YAML and JSON: duplicate keys, alias bombs and oversized input are errors.

PyYAML silently keeps the last of duplicate keys and happily expands aliases; both
are wrong for data that decides eligibility, so the loader here refuses them.
"""
from __future__ import annotations

import json
from typing import Any

import yaml

try:  # the C loader is much faster; fall back to pure Python where it is absent
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader

MAX_BYTES = 1_000_000
MAX_DEPTH = 50


class DuplicateKeyError(ValueError):
    """A mapping repeats a key, or uses a YAML alias: refused rather than silently resolved."""


class _NoDuplicates:
    """Mixin: refuse duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hashable = key in seen
            except TypeError:
                raise DuplicateKeyError(f"line {key_node.start_mark.line + 1}: a key must be a plain value")
            if hashable:
                raise DuplicateKeyError(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_NoDuplicates, _Base):
    """Knowledge files: the fast C loader, duplicates refused."""


class _UserLoader(_NoDuplicates, yaml.SafeLoader):
    """User files: the pure-Python composer, so aliases ("billion laughs") can be refused."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise DuplicateKeyError(f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not accepted")
        return super().compose_node(parent, index)


for _loader in (_StrictLoader, _UserLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _loader.construct_mapping)


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_text(text: str, *, kind: str) -> Any:
    """Parse YAML or JSON text strictly; raises ValueError with a readable reason."""
    if kind == "json":
        def no_duplicates(pairs):
            result = {}
            for key, value in pairs:
                if key in result:
                    raise DuplicateKeyError(f"duplicate key '{key}'")
                result[key] = value
            return result
        try:
            data = json.loads(text, object_pairs_hook=no_duplicates)
        except RecursionError:
            raise ValueError(f"nesting deeper than {MAX_DEPTH} levels")
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    else:
        try:
            data = yaml.load(text, Loader=_UserLoader)  # noqa: S506 - strict safe loader
        except DuplicateKeyError:
            raise
        except RecursionError:
            raise ValueError(f"nesting deeper than {MAX_DEPTH} levels")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ValueError(f"invalid YAML{where}: {problem}") from exc
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"nesting deeper than {MAX_DEPTH} levels")
    return data


def load_knowledge_yaml(path) -> Any:
    """Knowledge files are trusted to be small; still strict about duplicates."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # noqa: S506
