"""The README's quick start runs as written, against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from temu_async.client import TemuApp
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.models import UN_SHIPPING
from temu_async.sandbox.world import LOGISTICS_COMPANIES

README = Path(__file__).resolve().parent.parent / "README.md"


def quick_start(block: int = 0) -> str:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[block]  # type: ignore[no-any-return]


async def test_quick_start_runs_against_the_sandbox() -> None:
    code = quick_start()
    assert 'TemuApp("your-app-key", "your-app-secret", region="us")' in code
    async with Sandbox(SandboxConfig(seed=5, shops=1, orders=150)) as sb:
        creds = sb.credentials
        code = code.replace(
            'TemuApp("your-app-key", "your-app-secret", region="us")',
            f"TemuApp({creds.app_key!r}, {creds.app_secret!r}, region='us', base_url={sb.url!r})",
        ).replace('"the-seller-access-token"', repr(creds.shops[0].access_token))
        # Run main() in this loop instead of asyncio.run (we are inside one already).
        code = code.replace("asyncio.run(main())", "")
        scope: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), scope)
        await scope["main"]()  # type: ignore[operator]


async def test_the_nested_params_example_ships_an_order_in_the_sandbox() -> None:
    code = quick_start(1)
    assert "from temu_async.types import (" in code
    scope: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), scope)
    async with Sandbox(SandboxConfig(seed=6, shops=1, orders=60)) as sb:
        creds = sb.credentials
        shop_world = sb.world.shops[creds.shops[0].mall_id]
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            page = await shop.order.list_v2(page_size=20, parent_order_status=UN_SHIPPING)
            assert page.page_items, "the sandbox has no order waiting to ship"
            item = page.page_items[0]
            sn = item.parent_order_map.parent_order_sn
            await scope["ship"](
                shop,
                item,
                shop_world.warehouses[0].warehouse_id,
                LOGISTICS_COMPANIES[0][0],
                "1Z999AA10123456784",
            )
            detail = await shop.order.list_v2(page_size=100, parent_order_sn_list=[sn])
    assert detail.page_items
    assert detail.page_items[0].parent_order_map.parent_order_status != UN_SHIPPING


async def test_the_labels_example_buys_and_downloads_against_the_sandbox(
    tmp_path: Path, monkeypatch: Any
) -> None:
    text = README.read_text()
    section = text.split("## Shipping labels", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert 'TemuApp(key, secret, region="us")' in code
    monkeypatch.chdir(tmp_path)
    config = SandboxConfig(
        seed=8, shops=1, orders=40, history_days=0.2, order_arrival_per_hour=0, label_delay=0
    )
    async with Sandbox(config) as sb:
        creds = sb.credentials
        mall = creds.shops[0].mall_id
        orders = sorted(
            o.parent_order_sn
            for o in sb.world.orders.shop(mall).by_sn.values()
            if o.status == UN_SHIPPING
        )[:3]
        code = code.replace('region="us")', f"region='us', base_url={sb.url!r})")
        scope: dict[str, Any] = {}
        exec(compile(code, str(README), "exec"), scope)
        await scope["print_labels"](
            creds.app_key, creds.app_secret, creds.shops[0].access_token, orders
        )
    labels = sorted((tmp_path / "out" / "labels").glob("*.pdf"))
    assert len(labels) == 3
    assert all(p.read_bytes().startswith(b"%PDF-") for p in labels)
