"""Strict readers for YAML and JSON: duplicate keys, aliases, YAML 1.1 surprises, text that
is not Unicode and oversized input are errors.

PyYAML silently keeps the last of duplicate keys, happily expands aliases and reads
`1:20` as the number 80 (YAML 1.1 base 60); json accepts a lone surrogate (`"\\ud800"`)
that no file can hold. All are wrong for data that decides eligibility, so the readers
here refuse them. User files go through libyaml's C parser too (fast even at the size
limit); aliases are found in the composed node graph, before anything is expanded.

PyYAML itself is imported only when YAML is read (knowledge/yamlloaders.py): a batch of
CSV rows with its knowledge and catalogues cached reads none.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .refusals import MAX_BYTES, MAX_DEPTH, MAX_NODES, DuplicateKeyError, RefusedText, SyntaxProblem  # noqa: F401


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
        from yaml import YAMLError

        from .yamlloaders import load_user_yaml
        try:
            data = load_user_yaml(text)
        except DuplicateKeyError:
            raise
        except RecursionError:
            raise RefusedText("nesting", limit=MAX_DEPTH)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SyntaxProblem("YAML", mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, problem) from exc
    if _depth(data) > MAX_DEPTH:
        raise RefusedText("nesting", limit=MAX_DEPTH)
    _refuse_surrogates(data)
    return data


def load_knowledge_yaml(path) -> Any:
    """Knowledge files are trusted to be small; still strict about duplicates."""
    from .yamlloaders import load_knowledge_yaml
    return load_knowledge_yaml(path)


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
