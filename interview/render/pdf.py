"""The HTML report as a PDF: WeasyPrint, an optional extra (`pip install 'pnman[pdf]'`).

`assessment_pdf(record, words)` renders `html.assessment_html` with report.html's print
rules and `templates/report-pdf.css`: A4, a footer with the company, the date, « page X /
Y » and, when the record was appended to a registry, the chain head. Arabic is drawn with
the bundled Amiri font (`fonts/`, OFL), so it shapes the same on any machine; Latin text
uses the system's sans-serif. WeasyPrint fetches nothing but pnman's own font files and
data: URLs — never the network, never another file.
"""
from __future__ import annotations

import string
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import Environment, PackageLoader

from pnman.knowledge.errors import Phrase, PnmanError

from .html import assessment_html
from .l10n import Words
from .safe import plain

FONTS = Path(__file__).resolve().parent / "fonts"
# The Arabic block, its supplements and presentation forms, the joiners and marks shaping needs.
ARABIC_RANGE = "U+0600-06FF, U+0750-077F, U+0870-08FF, U+200C-200F, U+FB50-FDFF, U+FE70-FEFF"
EXTRA = "pip install 'pnman[pdf]'"


def weasyprint():
    """The weasyprint module, or a one-line error naming the extra (exit 2 at the CLI)."""
    try:
        import weasyprint as module
    except ImportError:
        raise PnmanError(Phrase("tools.weasyprint", extra=EXTRA)) from None
    except OSError as exc:          # installed, but pango cannot be loaded
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise PnmanError(Phrase("tools.pango", problem=first)) from None
    return module


def allowed_url(url: str) -> bool:
    """What the PDF may load: data: URLs and the files of pnman's own fonts folder."""
    if url.startswith("data:"):
        return True
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return False
    path = Path(unquote(parsed.path)).resolve()
    return path.parent == FONTS and path.is_file()


def url_fetcher(module):
    """WeasyPrint's fetcher, refusing every URL `allowed_url` refuses (both fetcher APIs:
    the URLFetcher class of recent WeasyPrint, the default_url_fetcher function before)."""
    from weasyprint import urls

    def refuse(url):
        raise ValueError(f"pnman's PDF loads nothing from outside its package: {url[:80]}")

    if hasattr(urls, "URLFetcher"):
        class Restricted(urls.URLFetcher):
            def fetch(self, url, headers=None):
                return super().fetch(url, headers) if allowed_url(url) else refuse(url)
        return Restricted()
    return lambda url: urls.default_url_fetcher(url) if allowed_url(url) else refuse(url)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: quotes, backslashes and anything unprintable escaped."""
    out = []
    for ch in plain(str(text)):
        if ch in "\"\\<>" or not ch.isprintable():
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _content(words: Words, key: str, **fields: str) -> str:
    """A catalogue sentence as CSS content: its words as strings, each placeholder as the
    CSS that `fields` gives for it (« page {page} / {pages} » → counter(page) …)."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(str(words.cat.raw(key))):
        if literal:
            parts.append(css_string(literal))
        if field in fields:
            parts.append(fields[field])
        elif field:
            raise PnmanError(f"unknown placeholder {{{field}}} (expected {', '.join(fields)})", key=key)
    return " ".join(parts) or '""'


def _short(text: str, limit: int) -> str:
    """A footer line never runs over the page's margin: a long name ends with « … »."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def print_css(record: dict, words: Words) -> str:
    """The PDF's stylesheet for this record: its footer in the report's language."""
    env = Environment(loader=PackageLoader("pnman.interview.render", "templates"), autoescape=False)
    rtl = words.cat.direction == "rtl"
    head = (record.get("registry") or {}).get("head") if isinstance(record.get("registry"), dict) else None
    return env.get_template("report-pdf.css").render(
        arabic_range=ARABIC_RANGE, start="right" if rtl else "left", end="left" if rtl else "right",
        company=css_string(_short(plain((record.get("profile") or {}).get("name") or "—"), 90)),
        date=css_string(words.date(record.get("timestamp", ""))),
        page=_content(words, "report.page", page="counter(page)", pages="counter(pages)"),
        # the hash on a line of its own under its label: 64 characters fit the footer's middle
        registry=_content(words, "report.registry_head", head='"\\A " ' + css_string(head)) if head else "")


def assessment_pdf(record: dict, words: Words, verbose: bool = False) -> bytes:
    """The localised record's report as PDF bytes (A4). Raises PnmanError when WeasyPrint
    is not installed, naming the extra to install."""
    module = weasyprint()
    from weasyprint.text.fonts import FontConfiguration
    fetcher, fonts = url_fetcher(module), FontConfiguration()
    base = FONTS.as_uri() + "/"
    rtl = words.cat.direction == "rtl"
    html = module.HTML(string=assessment_html(record, words, verbose=verbose, outlined_graph=rtl), base_url=base,
                       url_fetcher=fetcher)
    css = module.CSS(string=print_css(record, words), base_url=base, url_fetcher=fetcher, font_config=fonts)
    return html.write_pdf(stylesheets=[css], font_config=fonts)
