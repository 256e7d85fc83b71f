from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# Test helpers (oracles, servers) live beside the tests and import by bare name.
sys.path.insert(0, str(Path(__file__).parent))

from tiny_gateway import TinyGateway


@pytest.fixture
async def gateway() -> AsyncIterator[TinyGateway]:
    """A small real gateway on loopback that checks signatures and follows a script."""
    gw = TinyGateway()
    await gw.start()
    yield gw
    await gw.stop()
