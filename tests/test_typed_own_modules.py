"""Our own modules read results through the generated Structs (issue 15): a catalogue
change that renames or drops a field they use fails mypy there, not at a customer's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

from temu_async.client import TemuApp
from temu_async.oauth import TokenInfo
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sync import OrderSync, OrderSyncOptions, SqliteStore

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "temu_async"

# (generated module, the result Struct, the field our module reads, its new name). Found by
# class and field name, so docstrings and other fields around it do not matter.
RENAMES = [
    ("order.py", "OrderListV2ParentOrderMap", "update_time", "updated_at"),
    (
        "price.py",
        "PriceSkuPricesOpenapiSkuSupplierPriceDto",
        "supplier_price",
        "sku_supplier_price",
    ),
    ("auth.py", "AuthTokenInfoResult", "api_scope_list", "scopes"),
]


def _rename_field(text: str, cls: str, field: str, new: str) -> str:
    start = text.index(f"\nclass {cls}(")
    end = text.find("\nclass ", start + 1)
    end = len(text) if end < 0 else end
    body, count = re.subn(rf"\n    {field}: ", f"\n    {new}: ", text[start:end])
    assert count == 1, (cls, field)
    return text[:start] + body + text[end:]


def test_a_renamed_result_field_fails_mypy_in_the_module_that_reads_it(tmp_path: Path) -> None:
    copy = tmp_path / "temu_async"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for module, cls, field, new in RENAMES:
        path = copy / "_generated" / module
        path.write_text(_rename_field(path.read_text(), cls, field, new))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "temu_async/sync/orders.py",
            "temu_async/sync/prices.py",
            "temu_async/oauth.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "orders.py" in out and 'has no attribute "update_time"' in out, out
    assert "prices.py" in out and 'has no attribute "supplier_price"' in out, out
    assert "oauth.py" in out and 'has no attribute "api_scope_list"' in out, out


def test_token_info_from_plain_data_still_works_with_a_deprecation_warning() -> None:
    wire = {"mallId": 7, "apiScopeList": ["bg.order.list.v2.get"], "expiredTime": 1900000000}
    with pytest.warns(DeprecationWarning, match="plain data"):
        info = TokenInfo.from_result(wire)  # type: ignore[arg-type]
    assert info.mall_id == 7 and info.allows("bg.order.list.v2.get")
    assert info.expires_at == 1900000000.0 and info.access_token is None


async def test_token_info_and_exchange_go_through_the_typed_methods() -> None:
    async with Sandbox(SandboxConfig(seed=4, shops=1, orders=3)) as sb:
        c = sb.credentials
        async with TemuApp(c.app_key, c.app_secret, base_url=sb.url) as app:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                info = await app.shop(c.shops[0].access_token).token_info()
                created = await app.exchange_code(c.shops[0].auth_codes[0])
    assert info.mall_id == c.shops[0].mall_id and info.scopes
    assert created.access_token and created.mall_id == c.shops[0].mall_id


def test_extra_params_are_checked_against_the_list_type() -> None:
    with pytest.raises(ValueError, match=r"parentOrderStatuz is not a param of bg\.order\.list"):
        OrderSyncOptions(extra_params={"parentOrderStatuz": 2})
    options = OrderSyncOptions(extra_params={"parentOrderStatus": 2, "regionId": 211})
    assert options.list_filters() == {"parentOrderStatus": 2, "regionId": 211}


async def test_a_filtered_sync_sends_its_filter(tmp_path: Path) -> None:
    config = SandboxConfig(seed=9, shops=1, orders=60, order_arrival_per_hour=0)
    async with Sandbox(config) as sb:
        c = sb.credentials
        orders = list(sb.world.orders.shops[c.shops[0].mall_id].by_sn.values())
        # The most common status, so the filter keeps some orders and drops others.
        status = Counter(o.status for o in orders).most_common(1)[0][0]
        waiting = {o.parent_order_sn for o in orders if o.status == status}
        async with TemuApp(c.app_key, c.app_secret, region="global", base_url=sb.url) as app:
            shop = app.shop(c.shops[0].access_token, name="a")
            with SqliteStore(tmp_path / "o.sqlite") as store:
                options = OrderSyncOptions(extra_params={"parentOrderStatus": status})
                summary = await OrderSync([shop], store, options).run()
                stored = {sn for sn, _ in store.stored_versions("a", sorted(waiting)).items()}
                count = store.order_count()
    assert summary.ok and 0 < len(waiting) < 60
    assert stored == waiting and count == len(waiting)
