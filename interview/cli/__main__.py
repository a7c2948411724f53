"""`python -m pnman.interview.cli`: the same as the `pnman` console script."""
import sys

from .main import main

sys.exit(main())
