"""One dispatcher from a report format to its renderer, for every face that writes an
assessment report (`pnman assess`, the terminal interview, `pnman registry show`).
The renderers are imported when asked for: the PDF one pulls in WeasyPrint."""
from __future__ import annotations

from importlib import import_module

from .l10n import Words

# format -> (module of interview.render, function); the JSON record is the localised record itself.
RENDERERS = {"text": ("text", "assessment_text"), "markdown": ("markdown", "assessment_markdown"),
             "html": ("html", "assessment_html"), "pdf": ("pdf", "assessment_pdf")}
FORMATS = ("text", "json", "markdown", "html", "pdf")


def render_report(record: dict, w: Words, fmt: str, *, verbose: bool = False) -> str | bytes:
    """The localised record as a report in `fmt` (one of FORMATS)."""
    if fmt == "json":
        from ..files import to_json
        return to_json(record)
    module, function = RENDERERS[fmt]
    return getattr(import_module(f"{__package__}.{module}"), function)(record, w, verbose=verbose)
