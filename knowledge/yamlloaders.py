"""PyYAML's loaders made strict (knowledge/yamlio.py says why): duplicate keys, aliases
and YAML 1.1 base-60 numbers refused, user files limited to MAX_NODES values. Apart so
that PyYAML is imported only when YAML is read."""
from __future__ import annotations

from typing import Any

import yaml

from .refusals import MAX_NODES, DuplicateKeyError

try:  # the C loader is much faster; fall back to pure Python where it is absent
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader


class _NoDuplicates:
    """Mixin: refuse duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hashable = key in seen
            except TypeError:
                raise DuplicateKeyError("plain_key", line=key_node.start_mark.line + 1)
            if hashable:
                raise DuplicateKeyError("duplicate_at", line=key_node.start_mark.line + 1, name=key)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_NoDuplicates, _Base):
    """Knowledge files: the fast C loader, duplicates refused."""


class _UserLoader(_NoDuplicates, _Base):
    """User files: duplicates refused, no YAML 1.1 base-60 numbers, at most MAX_NODES values."""

    nodes = 0

    def resolve(self, kind, value, implicit):
        self.nodes += 1     # called once per node as the document is composed
        if self.nodes > MAX_NODES:
            raise DuplicateKeyError("too_many_values", limit=MAX_NODES)
        return super().resolve(kind, value, implicit)

    def construct_yaml_int(self, node):
        if ":" in str(node.value):
            raise DuplicateKeyError("base60", line=node.start_mark.line + 1, value=node.value)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        if ":" in str(node.value):
            raise DuplicateKeyError("base60", line=node.start_mark.line + 1, value=node.value)
        return super().construct_yaml_float(node)


for _loader in (_StrictLoader, _UserLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _loader.construct_mapping)
_UserLoader.add_constructor("tag:yaml.org,2002:int", _UserLoader.construct_yaml_int)
_UserLoader.add_constructor("tag:yaml.org,2002:float", _UserLoader.construct_yaml_float)


def _refuse_aliases(root) -> None:
    """An alias makes the composer reuse a node: a node met twice is an alias (refused
    before anything is expanded, so a « billion laughs » costs nothing)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise DuplicateKeyError("alias", line=node.start_mark.line + 1)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def load_user_yaml(text: str) -> Any:
    loader = _UserLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_knowledge_yaml(path) -> Any:
    """Knowledge files are trusted to be small; still strict about duplicates."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # noqa: S506
