"""The loaded knowledge kept between processes.

Reading the YAML, checking it against the schema and deriving the conditions cost every
pnman process 20–40 ms, and importing pydantic to check it twice as much again (issue 23:
the start-up is 0.15–0.3 ms of every row of a 1,000-row batch). The loaded `Knowledge`
is kept, pickled, in pnman's cache folders (knowledge/cachefiles.py), in a file named by
a SHA-256 of everything that made it: the knowledge files' bytes, the code of this
package, the folder it was read from and the Python that pickled it. An edited fiche, a
new program or another Python is loaded from the YAML again; a damaged or unreadable
file only costs the load. The kept knowledge holds plain values only (model.py), so a
process that finds it imports neither PyYAML nor pydantic.

Unpickling runs code named in the file: the cache folders are trusted as Python trusts
its bytecode (`__pycache__` beside the knowledge, the user's own cache folder, or
$PNMAN_CACHE, which whoever sets it answers for).
"""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

from .cachefiles import cache_folders, keep, read_cached
from .fingerprint import _sha256, deciding_files

STEM = "knowledge"
SUFFIX = ".pickle"
CODE = Path(__file__).resolve().parent       # the package whose modules build the Knowledge


def snapshot_stem(directory: Path) -> str:
    """The snapshots of one knowledge folder share a stem (a new one replaces the stale one);
    two folders (two checkouts, an edited copy) keep theirs side by side."""
    digest = _sha256()
    digest.update(str(directory).encode())
    return f"{STEM}-{digest.hexdigest()[:12]}"


def snapshot_name(directory: Path) -> str:
    """The snapshot's file name: a SHA-256 of what the loaded knowledge is made from."""
    digest = _sha256()
    for part in (str(directory), sys.version, str(pickle.HIGHEST_PROTOCOL)):
        digest.update(part.encode() + b"\0")
    for root, path in _sources(directory):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return f"{snapshot_stem(directory)}.{digest.hexdigest()[:32]}{SUFFIX}"


def _sources(directory: Path) -> list[tuple[Path, Path]]:
    """(root, file) of every file a load reads, and of the code that turns them into a Knowledge."""
    files = [*deciding_files(directory), directory / "questions.yaml"]
    return [(directory, path) for path in files] + [(CODE, path) for path in sorted(CODE.glob("*.py"))]


def load_kept(directory: Path, load, kind: type):
    """`load(directory)`, or the `kind` (the Knowledge) a previous process loaded from the same
    files; anything else in the file only costs the load."""
    directory = directory.resolve()
    try:
        name = snapshot_name(directory)
    except OSError:
        return load(directory)          # a file missing: the loader says which
    folders = cache_folders(directory)
    kept = read_cached(folders, name)
    if kept is not None:
        try:
            found = pickle.loads(kept)
        except Exception:   # noqa: BLE001 - a damaged or foreign file only costs the load
            found = None
        if found.__class__ is kind:
            return found
    kb = load(directory)
    try:
        unchanged = snapshot_name(directory) == name
    except OSError:
        unchanged = False
    if unchanged:           # a file edited while it was read: its snapshot would be under the old name
        keep(folders, name, snapshot_stem(directory), SUFFIX, pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL))
    return kb
