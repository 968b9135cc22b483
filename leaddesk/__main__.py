"""Entry point for `python -m leaddesk`, and of the frozen app."""

import multiprocessing
import sys

if __name__ == "__main__":
    # In the frozen app, a lead file import's process starts as this program again: this
    # runs the import there instead of the app (and does nothing otherwise).
    multiprocessing.freeze_support()

    from leaddesk.cli.main import main

    sys.exit(main())
