"""The FulfilmentStore contract; a new backend joins by adding a factory to STORES."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from temu_async.fulfilment import FulfilmentRecord, FulfilmentStore, SqliteFulfilmentStore

Factory = Callable[[Any], Awaitable[FulfilmentStore]]


async def _sqlite(tmp: Path) -> FulfilmentStore:
    return SqliteFulfilmentStore(tmp / "nested" / "f.sqlite")


async def _postgres(url: str) -> FulfilmentStore:
    from temu_async.fulfilment.postgres_store import PostgresFulfilmentStore

    return await PostgresFulfilmentStore.open(url)


STORES: dict[str, Factory] = {"sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FulfilmentStore]:
    # A file-backed store gets the test's directory, a server-backed one a fresh database.
    where = request.getfixturevalue("postgres_url") if request.param == "postgres" else tmp_path
    made = await STORES[request.param](where)
    yield made
    await made.close()


async def test_get_save_records(store: FulfilmentStore) -> None:
    assert await store.get("label", "shop-a", "PO-1") is None
    record = FulfilmentRecord("label", "shop-a", "PO-1", "creating", {"request": {"a": [1, "x"]}})
    await store.save(record)
    await store.save(FulfilmentRecord("label", "shop-b", "PO-1", "created"))
    await store.save(FulfilmentRecord("confirm", "shop-a", "PO-1|1Z", "confirmed"))
    record.phase = "created"
    record.data["package_sn"] = "PK-1"
    await store.save(record)
    got = await store.get("label", "shop-a", "PO-1")
    assert got is not None
    assert (got.phase, got.data) == ("created", {"request": {"a": [1, "x"]}, "package_sn": "PK-1"})
    assert got.updated_at > 0
    assert [(r.shop, r.key) for r in await store.records("label")] == [
        ("shop-a", "PO-1"),
        ("shop-b", "PO-1"),
    ]
    assert [r.key for r in await store.records("label", "shop-b")] == ["PO-1"]
    assert [r.phase for r in await store.records("confirm")] == ["confirmed"]


def test_a_save_survives_sigkill_right_after_it(tmp_path: Path) -> None:
    # The sqlite backend: the intent must be on disk when save() returns.
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from temu_async.fulfilment import FulfilmentRecord, SqliteFulfilmentStore

        async def main():
            store = SqliteFulfilmentStore({str(tmp_path / "k.sqlite")!r})
            await store.save(FulfilmentRecord("label", "s", "PO-9", "creating", {{"n": 1}}))
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), check=False)
    assert proc.returncode == -signal.SIGKILL

    async def read() -> FulfilmentRecord | None:
        reopened = SqliteFulfilmentStore(tmp_path / "k.sqlite")
        try:
            return await reopened.get("label", "s", "PO-9")
        finally:
            await reopened.close()

    got = asyncio.run(read())
    assert got is not None and got.phase == "creating" and got.data == {"n": 1}
