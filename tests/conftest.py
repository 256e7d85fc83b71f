from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One real PostgreSQL for the session (started on first use; tests make databases)."""
    from postgres_server import running_postgres

    with running_postgres() as server:
        yield server


_databases = iter(range(10**6))


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """A fresh, empty database on the session's PostgreSQL."""
    import asyncio
    import concurrent.futures

    asyncpg = pytest.importorskip("asyncpg")
    name = f"test_{next(_databases)}"

    async def create() -> None:
        conn = await asyncpg.connect(postgres_server.url)
        await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()

    # In a thread of its own: an async test may be asking from inside its event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result()
    return str(postgres_server.url.rsplit("/", 1)[0] + "/" + name)
