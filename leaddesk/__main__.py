"""Entry point for `python -m leaddesk`."""

import sys

from leaddesk.cli.main import main

sys.exit(main())
