"""Bring a checkout's bytecode up to date before timing fresh pnman processes.

An installed pnman has its bytecode compiled (pip does it, or the first run writes it),
so no user pays Python's compiler on every start. A checkout run with bytecode writing
off (PYTHONDONTWRITEBYTECODE, as on some build machines) recompiles every edited module
in every process: 40–60 ms of start-up that is the machine's setting, not pnman's."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FOLDERS = ("knowledge", "rules", "engine", "records", "interview", "pnman", "bench")


def compile_checkout(root: Path, python: str = sys.executable) -> str:
    """Compile the checkout's modules whose bytecode is stale, with the Python that will run
    them; says what was done (a line for the bench's output)."""
    folders = [folder for folder in FOLDERS if (root / folder).is_dir()]
    done = subprocess.run([python, "-m", "compileall", "-q", *folders], cwd=root,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    setting = ", PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"bytecode compiled first, as installed ({root}{setting})" if done \
        else f"bytecode of {root}: some modules did not compile"
