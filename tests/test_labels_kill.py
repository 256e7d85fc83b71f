"""SIGKILL the label pipeline at three points, rerun it: every order bought once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from labels_support import child_sns, label_config, unshipped

from temu_async.fulfilment import SqliteFulfilmentStore
from temu_async.sandbox import Sandbox

WORKER = Path(__file__).with_name("labels_worker.py")

# (phase, n-th save in it, before/after): after an intent, before any create went out
# for it; after a create ran on the gateway but before its package number was saved;
# after the file was written but before "downloaded" was saved.
KILLS = ("creating:12:after", "created:20:before", "downloaded:3:before")


async def _run(sb: Sandbox, tmp: Path, orders: list[str], spec: str) -> int:
    creds = sb.credentials
    env = {
        **os.environ,
        "LW_APP_KEY": creds.app_key,
        "LW_APP_SECRET": creds.app_secret,
        "LW_TOKEN": creds.shops[0].access_token,
        "PYTHONPATH": str(Path(__file__).parent),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        sb.url,
        str(tmp / "state.db"),
        str(tmp / "labels"),
        ",".join(orders),
        spec,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(err.decode())
    return proc.returncode


async def test_sigkill_at_three_points_then_rerun_buys_each_order_once(tmp_path: Path) -> None:
    async with Sandbox(label_config(label_delay=1)) as sb:
        orders = unshipped(sb, 50)
        store = SqliteFulfilmentStore(tmp_path / "state.db")

        def bought_for(key: str) -> bool:
            return any(p.lines[0].parent_order_sn == key for p in sb.world.labels.packages.values())

        # 1: an intent on disk whose create never went out.
        assert await _run(sb, tmp_path, orders, KILLS[0]) == -signal.SIGKILL
        creating = [r.key for r in await store.records("label") if r.phase == "creating"]
        assert any(not bought_for(key) for key in creating)
        # 2: a create that ran on the gateway while the store still says "creating".
        assert await _run(sb, tmp_path, orders, KILLS[1]) == -signal.SIGKILL
        creating = [r.key for r in await store.records("label") if r.phase == "creating"]
        assert any(bought_for(key) for key in creating)
        # 3: a label file written whose record still says "bought".
        assert await _run(sb, tmp_path, orders, KILLS[2]) == -signal.SIGKILL
        bought = [r for r in await store.records("label") if r.phase == "bought"]
        assert any(list((tmp_path / "labels").glob(f"{r.key}_*.pdf")) for r in bought)
        assert await _run(sb, tmp_path, orders, "none") == 0
        records = await store.records("label")
        await store.close()
    assert len(records) == 50 and {r.phase for r in records} == {"downloaded"}
    pdfs = sorted((tmp_path / "labels").glob("*.pdf"))
    assert len(pdfs) == 50
    assert all(p.read_bytes().startswith(b"%PDF-") for p in pdfs)
    assert not list((tmp_path / "labels").glob("*.part"))
    desk = sb.world.labels
    for sn in child_sns(sb, orders):
        assert desk.create_requests[sn] == 1, sn
        assert desk.purchases[sn] == 1, sn
    assert sb.counters.requests_by_type["bg.logistics.shipment.create"] == 50
