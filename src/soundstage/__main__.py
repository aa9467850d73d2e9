"""``python -m soundstage``: the CLI (worker processes are started this way)."""

import sys

from soundstage.cli import main

sys.exit(main())
