"""The reason codes a diagnostician gives for overriding a fiche's status (overrides.yaml).

Codes only, read strictly like every knowledge file; their wording is in the catalogues
(`override.reasons.<code>`). They are not decision content: the file is outside the
knowledge version.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .errors import KnowledgeError
from .yamlio import read_knowledge_file

OVERRIDES_FILE = "overrides.yaml"
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SHIPPED = Path(__file__).resolve().parent / OVERRIDES_FILE


@lru_cache(maxsize=4)
def override_reasons(directory: Path | str | None = None) -> tuple[str, ...]:
    """The reason codes, in the file's order: `directory`/overrides.yaml (a knowledge folder),
    or the shipped file when that folder has none."""
    path = Path(directory) / OVERRIDES_FILE if directory is not None else SHIPPED
    if not path.is_file():
        path = SHIPPED
    data = read_knowledge_file(path)
    if not isinstance(data, dict) or set(data) != {"reasons"}:
        raise KnowledgeError("expected one key, 'reasons': a list of {code: …}", file=str(path))
    items = data["reasons"]
    if not isinstance(items, list) or not items:
        raise KnowledgeError("expected a non-empty list of {code: …}", file=str(path), key="reasons")
    codes: list[str] = []
    for index, item in enumerate(items):
        where = f"reasons[{index}]"
        if not isinstance(item, dict) or set(item) != {"code"}:
            raise KnowledgeError("expected {code: <lower_case_code>} and nothing else", file=str(path), key=where)
        code = item["code"]
        if not isinstance(code, str) or not CODE.match(code):
            raise KnowledgeError(f"expected a lower-case code (letters, digits, _), found {code!r}",
                                 file=str(path), key=f"{where}.code")
        if code in codes:
            raise KnowledgeError(f"code '{code}' appears twice", file=str(path), key=f"{where}.code")
        codes.append(code)
    return tuple(codes)
