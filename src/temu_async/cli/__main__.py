"""``python -m temu_async.cli``: the same as the ``temu-async`` script."""

from __future__ import annotations

import sys

from temu_async.cli.run import main

sys.exit(main())
