"""What pnman concludes from what holds: plan, record, explain, audit, validate, the
questioning. No wording here: decisions are codes and figures."""

__version__ = "0.1.0"
