"""The knowledge version: a hash of the files that decide (guide, facts, fiches).

Apart from the loader so that `pnman --version` can name it without parsing and
checking the whole knowledge base."""
from __future__ import annotations

import os
from pathlib import Path

KNOWLEDGE_DIR = Path(__file__).resolve().parent


def deciding_files(directory: Path) -> list[Path]:
    return [directory / "guide.yaml", directory / "facts.yaml", *sorted((directory / "fiches").glob("*.yaml"))]


def _sha256():
    """A SHA-256 hasher from CPython's own module (`_sha2` since 3.12, `_sha256` before): the
    same digest as hashlib's, without loading OpenSSL, a tenth of `pnman --version`."""
    for name in ("_sha2", "_sha256"):
        try:
            return __import__(name).sha256()
        except (ImportError, AttributeError):
            continue
    import hashlib
    return hashlib.sha256()


def version_of(paths: list[Path]) -> str:
    digest = _sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return "kb-" + digest.hexdigest()[:16]


def current_version() -> str:
    """The version of the knowledge this process uses ($PNMAN_KNOWLEDGE or the shipped one)."""
    directory = Path(os.environ.get("PNMAN_KNOWLEDGE") or KNOWLEDGE_DIR)
    return version_of(deciding_files(directory))
