"""``python -m kubeslim``: the ``kubeslim`` command."""

import sys

from kubeslim.cli import main

sys.exit(main())
