"""The browser face: the interview, the results and the JSON API of contract §7 (FastAPI)."""
