"""A SQLite file another process holds a write lock on: one wait, one clear error naming
the file, and shops that did not sync reported as failed (never as done)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from temu_async import TemuApp
from temu_async.cli import main
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.thread import SandboxThread
from temu_async.store_errors import StoreLocked
from temu_async.sync import OrderSync, SqliteStore
from temu_async.sync.progress import Progress
from temu_async.sync.report import ProgressPrinter

_HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS other (x)")
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO other VALUES (1)")
print("locked", flush=True)
sys.stdin.readline()  # hold the lock until the test closes our stdin
"""


class _Holder:
    """Another process holding the database's write lock."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with SandboxThread(
        SandboxConfig(seed=3, shops=3, orders=30, goods=3, order_arrival_per_hour=0)
    ) as sb:
        c = sb.credentials
        monkeypatch.setenv("TEMU_APP_KEY", c.app_key)
        monkeypatch.setenv("TEMU_APP_SECRET", c.app_secret)
        monkeypatch.setenv("TEMU_REGION", "global")
        monkeypatch.setenv("TEMU_BASE_URL", sb.url)
        monkeypatch.setenv(
            "TEMU_ACCESS_TOKENS", ",".join(f"s{i}={s.access_token}" for i, s in enumerate(c.shops))
        )
        yield sb


def test_the_cli_waits_once_then_names_the_file_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "locked.sqlite"
    SqliteStore(db).close()
    holder = _Holder(db)
    try:
        started = time.monotonic()
        code = main(["sync", "orders", "--db", str(db), "--lock-wait", "1", "--quiet"])
        took = time.monotonic() - started
    finally:
        holder.release()
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and str(db) in err and "another process holds" in err
    assert 0.9 <= took < 3.0  # one wait of --lock-wait, not one per shop
    assert sandbox.counters.received == 0


async def test_a_lock_taken_mid_run_fails_every_shop_after_one_wait(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = tmp_path / "late.sqlite"
    c = sandbox.credentials
    async with TemuApp(
        c.app_key, c.app_secret, region="global", base_url=sandbox.url, rate_limit=1000
    ) as app:
        shops = [app.shop(s.access_token, name=f"s{i}") for i, s in enumerate(c.shops)]
        with SqliteStore(db, lock_wait=1.0) as store:
            holder = _Holder(db)  # after the store opened: met at the first commit
            try:
                sync = OrderSync(shops, store)
                started = time.monotonic()
                summary = await sync.run()
                took = time.monotonic() - started
                # It is still locked: later writes fail at once, not after another wait.
                quick = time.monotonic()
                with pytest.raises(StoreLocked):
                    store.begin_price_writes([])
                assert time.monotonic() - quick < 0.5
            finally:
                holder.release()
            # The lock is gone: the same store writes again.
            assert store.begin_price_writes([]) == []
    assert took < 2.5, took  # 3 shops, one wait of 1 s
    assert set(summary.errors) == {"s0", "s1", "s2"}
    for error in summary.errors.values():
        assert "another process holds" in error and str(db) in error
    snap = sync.progress.snapshot()
    assert (snap.shops_done, snap.shops_failed) == (0, 3)
    out = io.StringIO()
    printer = ProgressPrinter(sync.progress, mode="lines", stream=out)
    printer._draw()
    line = out.getvalue()
    assert "shops 0/3 (3 failed)" in line and " done" not in line and "s0 0 failed" in line


def test_progress_counts_a_failed_shop_as_failed_not_done() -> None:
    clock = iter(range(100))
    progress = Progress("orders", clock=lambda: float(next(clock)))
    progress.shop("a")
    progress.shop("b")
    progress.finish("a")
    progress.finish("b", error="StoreLocked: locked")
    snap = progress.snapshot()
    assert (snap.shops_done, snap.shops_failed, snap.shops_total) == (1, 1, 2)
