"""What pnman concludes from what holds: plan, record, explain, audit, validate, the
questioning. No wording here: decisions are codes and figures."""

from pnman import __version__  # noqa: F401 - the program version, one place
