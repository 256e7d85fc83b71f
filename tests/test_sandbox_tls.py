"""The sandbox over TLS: a self-signed certificate made at start, trusted on request."""

from __future__ import annotations

import aiohttp
import pytest

from temu_async import TemuApp
from temu_async.errors import ConnectError
from temu_async.retry import RetryPolicy
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.process import SandboxProcess

pytest.importorskip("cryptography")


async def test_a_tls_sandbox_serves_a_client_that_trusts_it_and_no_other() -> None:
    async with Sandbox(SandboxConfig(tls=True, shops=1, orders=2)) as sb:
        assert sb.url.startswith("https://127.0.0.1:")
        assert sb.cert_pem is not None and b"BEGIN CERTIFICATE" in sb.cert_pem
        creds = sb.credentials
        connector = aiohttp.TCPConnector(ssl=sb.client_ssl_context())
        async with aiohttp.ClientSession(connector=connector) as session:
            app = TemuApp(creds.app_key, creds.app_secret, base_url=sb.url, session=session)
            shop = app.shop(creds.shops[0].access_token)
            companies = await shop.logistics.companies(region_id=211)
            assert companies is not None
            await app.close()
        assert sb.counters.received == 1

        # A client with only the system's trust store refuses the handshake: nothing sent.
        async with TemuApp(
            creds.app_key,
            creds.app_secret,
            base_url=sb.url,
            retry=RetryPolicy(max_retries=0),
        ) as stranger:
            with pytest.raises(ConnectError):
                await stranger.shop(creds.shops[0].access_token).logistics.companies(region_id=211)
        assert sb.counters.received == 1


def test_a_plain_sandbox_has_no_certificate_to_trust() -> None:
    sb = Sandbox(SandboxConfig(shops=1, orders=1))
    assert sb.cert_pem is None
    with pytest.raises(RuntimeError, match="tls=True"):
        sb.client_ssl_context()


@pytest.mark.slow
async def test_a_child_sandbox_serves_tls_and_hands_over_its_certificate() -> None:
    with SandboxProcess(shops=1, orders=2, tls=True, order_arrival_per_hour=0.0) as sb:
        info = sb.info
        assert info.url.startswith("https://")
        connector = aiohttp.TCPConnector(ssl=info.ssl_context())
        async with aiohttp.ClientSession(connector=connector) as session:
            app = TemuApp(info.app_key, info.app_secret, base_url=info.url, session=session)
            assert await app.shop(info.shops[0].token).logistics.companies(region_id=211)
            await app.close()
        assert sb.counters()["received"] == 1


async def test_the_sandbox_cli_prints_the_certificate_to_trust() -> None:
    import argparse
    import json

    from temu_async.sandbox.cli import add_arguments, config_from_args, describe

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--tls", "--shops", "1", "--orders", "1"])
    async with Sandbox(config_from_args(args)) as sb:
        as_json = json.loads(describe(sb, as_json=True))
        assert as_json["url"].startswith("https://")
        assert sb.cert_pem is not None
        assert as_json["cert_pem"] == sb.cert_pem.decode()
        assert "BEGIN CERTIFICATE" in describe(sb)
