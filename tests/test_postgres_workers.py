"""Several `temu-async sync orders --db postgresql://…` workers over one set of shops.

Real parts only: a PostgreSQL server and a redis-server on loopback, the sandbox in this
process (a thread), and the workers as separate processes running the CLI.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from temu_async.sandbox import FaultSpec, SandboxConfig
from temu_async.sandbox.thread import SandboxThread

pytest.importorskip("asyncpg")

SHOPS = 9


def _name(mall_id: int) -> str:
    return f"mall-{mall_id}"


@pytest.mark.redis
@pytest.mark.slow
def test_three_workers_one_killed_every_order_once_and_no_shop_held_twice(tmp_path: Path) -> None:
    from postgres_server import running_postgres
    from redis_server import running_redis

    from temu_async.sync.postgres_store import PostgresStore

    config = SandboxConfig(
        seed=21,
        shops=SHOPS,
        orders=240,
        goods=5,
        order_arrival_per_hour=0,
        rate_limit=60,
        faults=FaultSpec(latency_ms=20),
    )
    with running_postgres() as pg, running_redis() as redis, SandboxThread(config) as sb:
        creds = sb.credentials
        env = {
            **os.environ,
            "TEMU_APP_KEY": creds.app_key,
            "TEMU_APP_SECRET": creds.app_secret,
            "TEMU_REGION": "global",
            "TEMU_BASE_URL": sb.url,
            "TEMU_ACCESS_TOKENS": ",".join(
                f"{_name(s.mall_id)}={s.access_token}" for s in creds.shops
            ),
        }

        def worker(name: str) -> subprocess.Popen[bytes]:
            cmd = [sys.executable, "-m", "temu_async.cli", "sync", "orders", "--db", pg.url]
            cmd += ["--redis", redis.url, "--rate-limit", "60", "--worker-id", name]
            cmd += ["--lease", "2", "--page-size", "20", "--quiet"]
            return subprocess.Popen(
                cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )

        workers = {name: worker(name) for name in ("w1", "w2", "w3")}
        with PostgresStore(pg.url) as store:
            # Kill a worker once it holds a shop and has stored part of its orders (which
            # worker gets shops first depends on who starts first).
            deadline = time.monotonic() + 90
            killed_in: str | None = None
            victim: str | None = None
            while killed_in is None and time.monotonic() < deadline:
                live = {}
                for shop, owner, _, _ in store.lease_history():
                    live[shop] = owner  # the latest lease of each shop
                for shop, owner in live.items():
                    if store.order_count(shop) > 0 and store.load_state(shop).in_progress:
                        killed_in, victim = shop, owner
                        break
                time.sleep(0.02)
            assert killed_in is not None and victim is not None, "no shop got under way"
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            survivors = sorted(set(workers) - {victim})

            outputs = {}
            for name in survivors:
                out, err = workers[name].communicate(timeout=180)
                outputs[name] = out.decode() + err.decode()
                assert workers[name].returncode == 0, outputs[name]
            world = {
                _name(m): {sn: (o.updated, o.status) for sn, o in shop.by_sn.items()}
                for m, shop in sb.world.orders.shops.items()
            }
            newest = {name: max(u for u, _ in orders.values()) for name, orders in world.items()}

            # Every order exactly once, as the sandbox has it; every checkpoint covers it.
            for name, orders in world.items():
                assert store.order_versions(name) == orders, name
                state = store.load_state(name)
                assert not state.in_progress and state.synced_through is not None
                assert state.synced_through >= newest[name]
            assert store.order_count() == sum(len(o) for o in world.values()) == SHOPS * 240

            # The killed worker's shop was taken over, and no shop was ever held by two
            # workers at once (each lease starts after the previous one ended).
            history = store.lease_history()
            owners = {owner for shop, owner, _, _ in history if shop == killed_in}
            assert victim in owners and owners & set(survivors)
            by_shop: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
            for shop, owner, start, until in history:
                by_shop[shop].append((start, until, owner))
            assert set(by_shop) == set(world)
            for spans in by_shop.values():
                spans.sort()
                for (_, until, owner), (start, _, other) in itertools.pairwise(spans):
                    if owner != other:
                        assert start >= until, spans
            assert all("synced:" in outputs[name] for name in survivors)


@pytest.mark.slow
def test_two_workers_pushing_one_csv_change_every_sku_once(tmp_path: Path) -> None:
    from collections import Counter

    from postgres_server import running_postgres

    config = SandboxConfig(seed=8, shops=3, orders=2, goods=30, rate_limit=200)
    with running_postgres() as pg, SandboxThread(config) as sb:
        creds = sb.credentials
        env = {
            **os.environ,
            "TEMU_APP_KEY": creds.app_key,
            "TEMU_APP_SECRET": creds.app_secret,
            "TEMU_REGION": "global",
            "TEMU_BASE_URL": sb.url,
            "TEMU_ACCESS_TOKENS": ",".join(
                f"{_name(s.mall_id)}={s.access_token}" for s in creds.shops
            ),
        }
        cli = [sys.executable, "-m", "temu_async.cli", "sync", "prices"]
        pulled = subprocess.run(
            [*cli, "pull", "--db", pg.url, "--quiet"], env=env, capture_output=True, timeout=120
        )
        assert pulled.returncode == 0, pulled.stderr.decode()
        seeded = {m: set(sb.world.price_orders[m]) for m in sb.world.goods}
        rows = [
            (_name(m), g.goods_id, s.sku_id, f"{float(s.supply_price) + 0.25:.2f}")
            for m, goods in sb.world.goods.items()
            for g in goods.values()
            for s in g.skus
        ]
        csv_path = tmp_path / "prices.csv"
        csv_path.write_text(
            "shop,goodsId,skuId,price\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)
        )
        pushes = [
            subprocess.Popen(
                [*cli, "push", str(csv_path), "--db", pg.url, "--worker-id", name],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for name in ("p1", "p2")
        ]
        outputs = [p.communicate(timeout=180) for p in pushes]
        for p, (_out, err) in zip(pushes, outputs, strict=True):
            assert p.returncode == 0, err.decode()
        changed: Counter[int] = Counter()
        for m, orders in sb.world.price_orders.items():
            for po_id, po in orders.items():
                if po_id not in seeded[m]:
                    changed.update(po.sku_ids)
        assert set(changed) == {sku for _, _, sku, _ in rows}
        assert set(changed.values()) == {1}  # every SKU changed once, by one of the two
        reports = [out.decode() for out, _ in outputs]
        assert sum(r.count(",applied,") for r in reports) == len(rows), reports
