"""``python -m media_core.fax decode CAPTURE -o DIR``."""

from __future__ import annotations

import sys

from media_core.fax.cli import main

sys.exit(main())
