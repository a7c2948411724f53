"""pnman: the PNMAN guide n°4 (ICT) as an expert system.

The repository keeps its layers as top-level folders (knowledge/, rules/, engine/,
interview/); installed, they are this package's subpackages (pyproject's package-dir),
so site-packages holds one name, `pnman`. Run from a source checkout, the same
subpackages are found in the sibling folders.
"""
from __future__ import annotations

import os as _os

__version__ = "0.2.0"

_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_checkout, "pyproject.toml")) and _os.path.isdir(_os.path.join(_checkout, "knowledge")):
    __path__.append(_checkout)   # noqa: F821 - a package's own search path
