"""A pytest plugin: the ``temu_sandbox`` fixture, a running sandbox per test.

Enable it in a test module or conftest::

    pytest_plugins = ["temu_async.sandbox.pytest_plugin"]

and override ``temu_sandbox_config`` to change the seed, sizes, clock or
catalogue. Needs pytest-asyncio (async fixtures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .config import SandboxConfig
from .server import Sandbox

__all__ = ["temu_sandbox", "temu_sandbox_config"]


@pytest.fixture
def temu_sandbox_config() -> SandboxConfig:
    """The config ``temu_sandbox`` starts with; override this fixture to change it."""
    return SandboxConfig()


@pytest_asyncio.fixture
async def temu_sandbox(temu_sandbox_config: SandboxConfig) -> AsyncIterator[Sandbox]:
    """A sandbox listening on 127.0.0.1 (free port); stopped after the test."""
    async with Sandbox(temu_sandbox_config) as sandbox:
        yield sandbox
