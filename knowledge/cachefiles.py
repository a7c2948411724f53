"""Where pnman keeps what it derived from its own files (parsed catalogues, the loaded
knowledge), as Python keeps bytecode: a file named by a checksum of its sources, found
again by the next process, written atomically, the stale ones of the same kind dropped.
A missing, damaged or unwritable cache only costs the work again."""
from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_VARIABLE = "PNMAN_CACHE"          # a folder for pnman's caches; "off": none


def cache_folders(beside: Path) -> list[Path]:
    """Where caches are looked for and kept: $PNMAN_CACHE, else `__pycache__` in `beside`
    (as Python's own, unless bytecode writing is off), else the user's cache folder. The
    same trust as bytecode: folders only their owner (or the package's installer) writes."""
    chosen = os.environ.get(CACHE_VARIABLE, "").strip()
    if chosen:
        return [] if chosen.lower() == "off" else [Path(chosen)]
    folders = [] if sys.dont_write_bytecode else [beside / "__pycache__"]
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return folders + [Path(home) / "pnman"]


def read_cached(folders: list[Path], name: str) -> bytes | None:
    """The first cache file of this name in the folders, or None."""
    for folder in folders:
        try:
            return (folder / name).read_bytes()
        except OSError:
            continue
    return None


def keep(folders: list[Path], name: str, stem: str, suffix: str, data: bytes) -> bool:
    """Write the cache file into the first folder that takes it; False when none does."""
    return any(_keep(folder, name, stem, suffix, data) for folder in folders)


def _keep(folder: Path, name: str, stem: str, suffix: str, data: bytes) -> bool:
    """Write atomically (a reader never sees half of it) and drop the stale files of the same
    stem and suffix; False when the folder cannot be written."""
    import tempfile
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, folder / name)
        except BaseException:
            os.unlink(temporary)
            raise
        for stale in folder.glob(f"{stem}.*{suffix}"):
            if stale.name != name:
                stale.unlink(missing_ok=True)
    except OSError:
        return False
    return True
