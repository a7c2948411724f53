"""What pnman keeps: the assessment registry (contract §8, §13) — the SQLite file, its hash
chain, appending, reading, overrides — and the store the faces record through.

A layer of its own between the decision code (pnman.engine, which never imports it) and
the faces (pnman.interview): it imports the engine only for the record's form and hashing.
"""
