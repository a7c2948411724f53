"""pnman engine: knowledge loading, rules evaluation, planning, explanations, audit."""

__version__ = "0.1.0"
