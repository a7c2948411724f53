"""Strict readers for YAML and JSON: duplicate keys, aliases, YAML 1.1 surprises, text that
is not Unicode and oversized input are errors.

PyYAML silently keeps the last of duplicate keys, happily expands aliases and reads
`1:20` as the number 80 (YAML 1.1 base 60); json accepts a lone surrogate (`"\\ud800"`)
that no file can hold. All are wrong for data that decides eligibility, so the readers
here refuse them. User files go through libyaml's C parser too (fast even at the size
limit); aliases are found in the composed node graph, before anything is expanded.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is much faster; fall back to pure Python where it is absent
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader

MAX_BYTES = 1_000_000
MAX_DEPTH = 50
# A profile has a few dozen values and a full record about 6,000: far more is not a
# pnman file, and refusing it early keeps rejecting a 1 MB file well under a second.
MAX_NODES = 50_000


class SyntaxProblem(ValueError):
    """YAML or JSON the parser cannot read: where (line, column; 0 when unknown) and the
    parser's own words (English: quoted as they are in every language)."""

    def __init__(self, kind: str, line: int, column: int, problem: str):
        self.kind, self.line, self.column, self.problem = kind, line, column, problem
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"invalid {kind}{where}: {problem}")


class RefusedText(ValueError):
    """Text the strict readers refuse; `phrase` is the catalogues' words for it
    (`errors.text.<code>`), str() the English ones."""

    def __init__(self, code: str, **figures: Any):
        from .errors import Phrase
        self.phrase = Phrase(f"text.{code}", **figures)
        super().__init__(self.phrase)

    def __str__(self) -> str:
        from .errors import english_catalogue
        try:
            return self.phrase.words(english_catalogue())
        except Exception:           # noqa: BLE001 - the English catalogue itself cannot be read
            return f"{self.phrase.code} {self.phrase.figures}"


class DuplicateKeyError(RefusedText):
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


def _load_user_yaml(text: str) -> Any:
    loader = _UserLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def lone_surrogate(value: Any) -> str | None:
    """The first text (key or value) holding a lone surrogate (from a `\\ud800` escape), or
    None. Such a text is not Unicode: no file or terminal can hold it, so it would fail much
    later, far from its cause."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _refuse_surrogates(value: Any) -> None:
    bad = lone_surrogate(value)
    if bad is not None:
        char = next(c for c in bad if 0xD800 <= ord(c) <= 0xDFFF)
        raise RefusedText("surrogate", char=repr(char))


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
                    raise DuplicateKeyError("duplicate", name=key)
                result[key] = value
            return result
        try:
            data = json.loads(text, object_pairs_hook=no_duplicates)
        except RecursionError:
            raise RefusedText("nesting", limit=MAX_DEPTH)
        except json.JSONDecodeError as exc:
            raise SyntaxProblem("JSON", exc.lineno, exc.colno, exc.msg) from exc
    else:
        try:
            data = _load_user_yaml(text)
        except DuplicateKeyError:
            raise
        except RecursionError:
            raise RefusedText("nesting", limit=MAX_DEPTH)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SyntaxProblem("YAML", mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, problem) from exc
    if _depth(data) > MAX_DEPTH:
        raise RefusedText("nesting", limit=MAX_DEPTH)
    _refuse_surrogates(data)
    return data


def load_knowledge_yaml(path) -> Any:
    """Knowledge files are trusted to be small; still strict about duplicates."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # noqa: S506


def read_knowledge_file(path: Path) -> Any:
    """A knowledge file (guide, facts, fiches, catalogues, overrides, editions) as data; a
    missing or unreadable file, or YAML the strict reader refuses, is a KnowledgeError
    naming the file (exit 2)."""
    from .errors import KnowledgeError
    if not path.is_file():
        raise KnowledgeError("knowledge file is missing", file=str(path))      # a broken installation
    try:
        return load_knowledge_yaml(path)
    except DuplicateKeyError as exc:
        raise KnowledgeError(exc.phrase, file=str(path)) from None
    except Exception as exc:  # yaml errors: keep the parser's message
        raise KnowledgeError(f"cannot be read as YAML: {exc}", file=str(path)) from None
