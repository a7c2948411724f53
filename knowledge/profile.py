"""Reading and checking a company profile (contract §2).

An absent key means "unknown", which is not `false`: the profile is kept exactly as
given, and every check names the file, the key and what was expected.
"""
from __future__ import annotations

import difflib
import stat
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .errors import InputError, Phrase, ProfileError
from .loader import Knowledge
from .yamlio import MAX_BYTES, RefusedText, SyntaxProblem, parse_text


def decode_text(raw: bytes, label: str, expected: Phrase) -> str:
    """User file bytes as text: a BOM is dropped; binary, non-UTF-8 or empty input is refused."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        raise InputError(Phrase("binary", expected=expected), file=label)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Phrase("not_utf8", position=exc.start, hint=""), file=label) from None
    if not text.strip():
        raise InputError(Phrase("empty", expected=expected), file=label)
    return text


def read_document(source: str, *, what: str = "file") -> Any:
    """Read a YAML or JSON document from a path or '-' (stdin), strictly. `what`: the kind
    of document (errors.what.<what>: profile, result_file, file) its refusals name."""
    if source in ("/dev/stdin", "/proc/self/fd/0", "/dev/fd/0"):
        source = "-"
    label = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            raw = _read_regular(Path(source), label, what)
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=label) from None
    noun = Phrase(f"what.{what}")
    if len(raw) > MAX_BYTES:
        raise InputError(Phrase("too_large_kb", limit=MAX_BYTES // 1000, what=noun), file=label)
    text = decode_text(raw, label, Phrase("expect.document", what=noun))
    suffix = Path(source).suffix.lower() if source != "-" else ""
    if suffix not in ("", ".yaml", ".yml", ".json"):
        raise InputError(Phrase("extension", suffix=suffix), file=label)
    kind = "json" if suffix == ".json" or (not suffix and text.lstrip().startswith(("{", "["))) else "yaml"
    try:
        return parse_text(text, kind=kind)
    except SyntaxProblem as exc:
        where = {"line": exc.line, "column": exc.column} if exc.line else {}
        raise InputError(Phrase("syntax" if where else "syntax_no_line", kind=exc.kind, problem=exc.problem, **where),
                         file=label) from None
    except RefusedText as exc:
        raise InputError(exc.phrase, file=label) from None
    except ValueError as exc:           # json's own (an integer too long to convert): its words
        raise InputError(Phrase("text.other", problem=str(exc)[:200]), file=label) from None


def _read_regular(path: Path, label: str, what: str) -> bytes:
    """A regular file's first bytes; a pipe or device would block or never end, so it is
    refused before it is opened for reading."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(Phrase("no_such", what=Phrase(f"what.{what}")), file=label) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Phrase("directory", what=Phrase(f"what.{what}")), file=label)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(Phrase("not_regular", what=Phrase(f"what.{what}")), file=label)
    with path.open("rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _show(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: short, so the message stays one readable line."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a number of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The yes/no words every input takes (YAML, JSON, CSV cells, interview answers), in any
# case: YAML 1.1's booleans, the words French spreadsheets write, and 1/0.
YES_WORDS = ("true", "yes", "on", "y", "vrai", "oui", "o", "1")
NO_WORDS = ("false", "no", "off", "n", "faux", "non", "0")
_YES_NO = {**dict.fromkeys(YES_WORDS, True), **dict.fromkeys(NO_WORDS, False)}


def yes_no(value: Any) -> bool | None:
    """A yes/no answer as a bool, or None when the value is not one of the yes/no words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower())
    return None


def normalise_value(key: str, value: Any, kb: Knowledge) -> Any:
    """The canonical form of a checked answer: a yes/no word becomes true or false."""
    spec = kb.facts.get(key)
    if spec is not None and spec.type == "bool" and value is not None:
        return yes_no(value)
    return value


def _bounds(spec) -> tuple[int, int]:
    return (spec.min if spec.min is not None else 0), (spec.max if spec.max is not None else 10**9)


def _expected(spec, kb: Knowledge) -> Phrase:
    kind = spec.type
    if kind == "bool":
        return Phrase("kinds.bool")
    if kind == "int":
        low, high = _bounds(spec)
        return Phrase("kinds.int", low=low, high=high)
    if kind == "string":
        return Phrase("kinds.string")
    if kind == "intlist":
        return Phrase("kinds.intlist", count=len(kb.fiches))
    return Phrase("kinds.list")


from .errors import os_reason  # noqa: E402,F401 (where it was first; other modules import it from here)


def check_value(key: str, value: Any, kb: Knowledge, *, file: str = "<profile>") -> None:
    """Check one answer against its fact's type and bounds (None, unknown, is always fine)."""
    spec = kb.facts.get(key)
    if spec is None:
        close = difflib.get_close_matches(key, list(kb.facts), n=1, cutoff=0.6)
        message = Phrase("unknown_key", close=close[0]) if close else Phrase("unknown_key_no_hint")
        raise ProfileError(message, file=file, key=key)
    if value is None:
        return
    kind = spec.type
    if kind == "bool" and yes_no(value) is None:
        raise ProfileError(Phrase("expected_bool", found=_show(value)), file=file, key=key)
    if kind == "int":
        low, high = _bounds(spec)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProfileError(Phrase("expected_found", expected=_expected(spec, kb), found=_show(value)),
                               file=file, key=key)
        if not low <= value <= high:
            raise ProfileError(Phrase("expected_found", expected=_expected(spec, kb), found=_show(value)),
                               file=file, key=key)
    if kind == "string":
        if not isinstance(value, str):
            raise ProfileError(Phrase("expected_found", expected=Phrase("kinds.string"), found=_show(value)),
                               file=file, key=key)
        if spec.max_length is not None and len(value) > spec.max_length:
            raise ProfileError(Phrase("expected", expected=Phrase("kinds.string_max", max=spec.max_length)),
                               file=file, key=key)
    if kind in ("list", "intlist"):
        if not isinstance(value, list):
            raise ProfileError(Phrase("expected_found", expected=_expected(spec, kb), found=_show(value)),
                               file=file, key=key)
        if len(value) > 100:
            raise ProfileError(Phrase("expected", expected=Phrase("kinds.list_max")), file=file, key=key)
        for item in value:
            if kind == "intlist":
                if isinstance(item, bool) or not isinstance(item, int) or item not in kb.fiches:
                    raise ProfileError(Phrase("expected_found", expected=Phrase("kinds.fiches", count=len(kb.fiches)),
                                              found=_show(item)), file=file, key=key)
                continue
            allowed = list(kb.guide.goals) if key == "goals" else list(spec.choices)
            if not isinstance(item, str) or item not in allowed:
                close = difflib.get_close_matches(str(item)[:100], allowed, n=1, cutoff=0.6)
                hint = Phrase("did_you_mean", close=close[0]) if close else ""
                raise ProfileError(Phrase("not_one_of", found=_show(item), allowed=", ".join(allowed), hint=hint),
                                   file=file, key=key)


def check_profile(data: Any, kb: Knowledge, *, file: str = "<profile>") -> Mapping[str, Any]:
    """Validate a parsed profile; return it (read-only) with yes/no words as true/false,
    or raise ProfileError."""
    if not isinstance(data, dict):
        raise ProfileError(Phrase("top_level", found=type(data).__name__), file=file)
    for key, value in data.items():
        if not isinstance(key, str):
            raise ProfileError(Phrase("keys_text"), file=file, key=str(key))
        if key == "employees" and value is None:
            break  # reported below: the headcount is required
        check_value(key, value, kb, file=file)
    if "employees" not in data or data["employees"] is None:
        raise ProfileError(Phrase("employees_required"), file=file, key="employees")
    return MappingProxyType({key: normalise_value(key, value, kb) for key, value in data.items()})


def load_profile(source: str, kb: Knowledge) -> Mapping[str, Any]:
    """Read and check a profile file ('-' for stdin)."""
    data = read_document(source, what="profile")
    return check_profile(data, kb, file="<stdin>" if source == "-" else source)
