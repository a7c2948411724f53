"""`python -m pnman ARGS` is `pnman ARGS`."""
import sys

from pnman.interview.cli.main import main

sys.exit(main())
