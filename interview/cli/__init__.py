"""The `pnman` command line: parse, call the engine, render."""
