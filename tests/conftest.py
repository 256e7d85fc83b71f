from __future__ import annotations

import sys
from pathlib import Path

# Test helpers (oracles, servers) live beside the tests and import by bare name.
sys.path.insert(0, str(Path(__file__).parent))
