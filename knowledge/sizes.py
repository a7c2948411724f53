"""The guide's size classes by code, smallest first: a light module (no schema, no
pydantic) so the command line can offer them as choices without loading the knowledge."""

SIZE_CODES = ("TPE", "PE", "ME")
