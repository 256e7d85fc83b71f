"""The SDK end to end against the sandbox gateway (real HTTP on loopback, real catalogue)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator

import pytest

from temu_async import TemuApp
from temu_async.errors import BusinessError, ParamError, ScopeError, TokenError
from temu_async.oauth import TokenExpiryWarning
from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(seed=7, shops=2, orders=250, clock=ManualClock())) as sb:
        yield sb


def app_for(sb: Sandbox) -> TemuApp:
    creds = sb.credentials
    return TemuApp(creds.app_key, creds.app_secret, "us", base_url=sb.url)


async def test_typed_order_list_matches_the_sandbox_world(sandbox: Sandbox) -> None:
    shop_creds = sandbox.credentials.shops[0]
    async with app_for(sandbox) as app:
        shop = app.shop(shop_creds.access_token)
        page = await shop.order.list_v2(page_number=1, page_size=20, parent_order_status=2)
        assert page.page_items is not None and len(page.page_items) <= 20
        first = page.page_items[0]
        assert first.parent_order_map is not None
        assert first.parent_order_map.parent_order_status == 2
        sns = [
            item.parent_order_map.parent_order_sn
            async for item in shop.order.list_v2.items(parent_order_status=2)
            if item.parent_order_map is not None
        ]
    world = sandbox.world.orders.shop(shop_creds.mall_id).by_sn.values()
    expected = {o.parent_order_sn for o in world if o.status == 2}
    assert len(sns) == len(set(sns)) == page.total_item_num
    assert set(sns) == expected


async def test_bad_typed_args_are_refused_before_sending(sandbox: Sandbox) -> None:
    async with app_for(sandbox) as app:
        shop = app.shop(sandbox.credentials.shops[0].access_token)
        before = sandbox.counters.received
        with pytest.raises(ParamError, match=r"param pageSize: must be <= 100"):
            await shop.order.list_v2(page_size=500)
        assert sandbox.counters.received == before


async def test_code_exchange_then_token_info_and_scope_check(sandbox: Sandbox) -> None:
    mall_id = sandbox.credentials.shops[1].mall_id
    code = sandbox.issue_code(mall_id)
    async with app_for(sandbox) as app:
        token = await app.exchange_code(code)
        assert token.mall_id == mall_id
        assert token.access_token and "access_token" not in repr(token)
        assert token.access_token not in repr(token)
        assert token.allows("bg.order.list.v2.get")

        # Codes are single use.
        with pytest.raises(BusinessError, match="110020002"):
            await app.exchange_code(code)

        sandbox.set_scopes(token.access_token, ["bg.open.accesstoken.info.get"])
        shop = app.shop(token.access_token)
        info = await shop.token_info(check_scopes=True)
        assert info.scopes == {"bg.open.accesstoken.info.get"}
        before = sandbox.counters.received
        with pytest.raises(ScopeError, match="not in the apiScopeList") as refused:
            await shop.order.list_v2(page_size=10)
        assert "re-authorise" in str(refused.value)
        assert sandbox.counters.received == before  # refused locally

        # Without the local check, the gateway's 3000032 reads the same way.
        unchecked = app.shop(token.access_token)
        with pytest.raises(ScopeError, match="3000032") as remote:
            await unchecked.order.list_v2(page_size=10)
        assert "re-authorise" in str(remote.value)


async def test_expired_token_says_the_seller_must_reauthorise(sandbox: Sandbox) -> None:
    token = sandbox.credentials.shops[0].access_token
    sandbox.expire_token(token)
    async with app_for(sandbox) as app:
        with pytest.raises(TokenError, match="3000034") as info:
            await app.shop(token).order.list_v2(page_size=10)
    assert "re-authorise" in str(info.value)


async def test_token_near_expiry_warns() -> None:
    config = SandboxConfig(seed=3, shops=1, orders=10, token_lifetime=2 * 86400.0)
    async with Sandbox(config) as sb, app_for(sb) as app:
        shop = app.shop(sb.credentials.shops[0].access_token)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info = await shop.token_info()
    assert info.expires_in() is not None
    assert any(issubclass(w.category, TokenExpiryWarning) for w in caught)
    text = str(next(w.message for w in caught if issubclass(w.category, TokenExpiryWarning)))
    assert "expires in" in text and "re-authorise" in text


async def test_goods_walk_matches_the_sandbox_world(sandbox: Sandbox) -> None:
    shop_creds = sandbox.credentials.shops[0]
    async with app_for(sandbox) as app:
        shop = app.shop(shop_creds.access_token)
        ids = [
            g.goods_id
            async for g in shop.goods.list.items(
                goods_search_type=1, goods_status_filter_type=1, page_size=5
            )
        ]
    assert ids and len(ids) == len(set(ids))
