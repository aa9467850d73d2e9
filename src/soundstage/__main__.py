"""``python -m soundstage``: the CLI."""

import sys

from soundstage.cli import main

if __name__ == "__main__":
    sys.exit(main())
