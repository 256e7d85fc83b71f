"""Signed (toa-*) downloads against the sandbox's file server, and its checks."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from labels_support import label_config, mall_id, unshipped

from temu_async import ShopClient, TemuApp
from temu_async.download import DownloadTooLarge, SignedUrlRefused, toa_headers, toa_sign
from temu_async.fulfilment import LabelOptions, Parcel, SqliteFulfilmentStore, buy_labels
from temu_async.sandbox import ManualClock, Sandbox

PARCEL = {
    "weight": "2",
    "weightUnit": "lb",
    "length": "10",
    "width": "8",
    "height": "4",
    "dimensionUnit": "in",
}


def doc_toa_sign(secret: str, headers: dict[str, str]) -> str:
    """The fulfilment guide's algorithm, spelled out on its own: the four other
    headers sorted by ASCII name, name + value with nothing between, the secret at
    both ends, MD5, upper case."""
    names = ["toa-access-token", "toa-app-key", "toa-random", "toa-timestamp"]
    assert names == sorted(names)
    joined = secret + "".join(f"{n}{headers[n]}" for n in names) + secret
    return hashlib.md5(joined.encode("ascii")).hexdigest().upper()


def test_toa_headers_follow_the_documented_algorithm() -> None:
    before = int(time.time())
    headers = toa_headers("app-key-1", "token-xyz", "s3cr3t")
    assert set(headers) == {
        "toa-app-key",
        "toa-access-token",
        "toa-random",
        "toa-timestamp",
        "toa-sign",
    }
    assert re.fullmatch(r"[A-Za-z0-9]{32}", headers["toa-random"])
    assert re.fullmatch(r"\d{10}", headers["toa-timestamp"])
    assert before <= int(headers["toa-timestamp"]) <= int(time.time())
    assert headers["toa-sign"] == doc_toa_sign("s3cr3t", headers)
    # A known vector, computed by hand from the rule.
    fixed = {
        "toa-app-key": "k",
        "toa-access-token": "t",
        "toa-random": "r" * 32,
        "toa-timestamp": "1711009072",
    }
    text = "S" + "toa-access-tokent" + "toa-app-keyk" + "toa-random" + "r" * 32
    text += "toa-timestamp1711009072" + "S"
    assert toa_sign("S", fixed) == hashlib.md5(text.encode()).hexdigest().upper()
    # Fresh random each time: two URLs never share a signature.
    assert toa_headers("a", "b", "c")["toa-random"] != toa_headers("a", "b", "c")["toa-random"]


async def _bought_url(sb: Sandbox, shop: ShopClient, kind: str = "SHIPPING_LABEL_PDF") -> str:
    """Buy one label the long way (raw calls) and return its document URL."""
    sn = unshipped(sb, 1)[0]
    order = sb.world.orders.get(mall_id(sb), sn)
    assert order is not None
    wid = sb.world.shops[mall_id(sb)].warehouses[0].warehouse_id
    created = await shop.call(
        "bg.logistics.shipment.create",
        {
            "sendType": 0,
            "sendRequestList": [
                {
                    "warehouseId": wid,
                    "shipCompanyId": 699272611,
                    "channelId": 410001,
                    **PARCEL,
                    "interlineShipCompanyList": [],
                    "sendSubRequestList": [],
                    "orderSendInfoList": [
                        {
                            "quantity": c.quantity,
                            "orderSn": c.order_sn,
                            "parentOrderSn": sn,
                            "goodsId": c.goods_id,
                            "skuId": c.sku_id,
                        }
                        for c in order.children
                    ],
                }
            ],
        },
    )
    package = created["packageSnList"][0]
    result = await shop.call("bg.logistics.shipment.result.get", {"packageSnList": [package]})
    assert result["packageInfoResultList"][0]["shippingLabelStatus"] == 1
    docs = await shop.call(
        "bg.logistics.shipment.document.get", {"documentType": kind, "packageSnList": [package]}
    )
    url: str = docs["shippingLabelUrlList"][0]["url"]
    return url


async def test_download_to_a_directory_keeps_name_and_type(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            url = await _bought_url(sb, shop)
            got = await shop.download(url, tmp_path)
            assert got.content_type == "application/pdf"
            assert got.filename is not None and got.filename.endswith(".pdf")
            assert got.path == tmp_path / got.filename
            data = got.path.read_bytes()
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
            assert got.size == len(data)
            assert not list(tmp_path.glob("*.part"))
            # Into memory, and streamed chunk by chunk: the same bytes.
            again = await shop.download(url)
            assert again.content == data and again.path is None
            async with shop.stream_download(url) as stream:
                assert stream.content_type == "application/pdf"
                chunks = [c async for c in stream]
            assert b"".join(chunks) == data
    assert sb.files.refusals == {}


async def test_size_cap_stops_the_download_and_leaves_no_file(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            url = await _bought_url(sb, shop)
            with pytest.raises(DownloadTooLarge, match="max_bytes=100"):
                await shop.download(url, tmp_path / "label.pdf", max_bytes=100)
    assert list(tmp_path.iterdir()) == []


async def test_wrong_toa_sign_is_refused_by_the_sandbox() -> None:
    async with Sandbox(label_config()) as sb:
        creds = sb.credentials
        token = creds.shops[0].access_token
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            url = await _bought_url(sb, app.shop(token))
        good = toa_headers(creds.app_key, token, creds.app_secret)
        assert good["toa-sign"] == doc_toa_sign(creds.app_secret, good)
        bad_sign = {**good, "toa-sign": doc_toa_sign("not-the-secret", good)}
        tampered = {**good, "toa-random": "x" * 32}  # signature no longer covers it
        async with aiohttp.ClientSession() as http:
            for headers in (bad_sign, tampered):
                async with http.get(url, headers=headers) as resp:
                    assert resp.status == 403
                    assert (await resp.json())["reason"] == "sign"
            async with http.get(url, headers={**good, "toa-random": "short"}) as resp:
                assert resp.status == 403
            async with http.get(url) as resp:
                assert resp.status == 403
            async with http.get(url, headers=good) as resp:
                assert resp.status == 200
                assert (await resp.read()).startswith(b"%PDF")
    assert sb.files.refusals["sign"] == 2


async def test_wrong_secret_raises_a_typed_error_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Sandbox(label_config()) as sb:
        creds = sb.credentials
        token = creds.shops[0].access_token
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            url = await _bought_url(sb, app.shop(token))
        wrong = "f" * 40
        async with TemuApp(creds.app_key, wrong, base_url=sb.url) as other:
            shop = other.shop(token)
            with pytest.raises(SignedUrlRefused) as info:
                await shop.download(url)
            files = shop.signed_files()
    err = info.value
    assert err.status == 403
    assert "fetch a fresh URL" in str(err)
    token_part = url.rsplit("/", 1)[1]
    for text in (str(err), repr(err), repr(files), caplog.text):
        for secret in (wrong, token, creds.app_secret, token_part):
            assert secret not in text


async def test_an_expired_url_is_refused_and_a_fresh_one_works(tmp_path: Path) -> None:
    clock = ManualClock()
    # A wide timestamp window lets the test jump 11 minutes without the client resyncing.
    async with Sandbox(label_config(clock=clock, timestamp_tolerance=3600)) as sb:
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            url = await _bought_url(sb, shop)
            clock.advance(599)
            assert (await shop.download(url)).size > 0
            clock.advance(2)
            with pytest.raises(SignedUrlRefused, match="expire 10 minutes"):
                await shop.download(url, tmp_path / "late.pdf")
            assert not (tmp_path / "late.pdf").exists()
            package = next(iter(sb.world.labels.packages))
            fresh = await shop.call(
                "bg.logistics.shipment.document.get", {"packageSnList": [package]}
            )
            got = await shop.download(fresh["shippingLabelUrlList"][0]["url"], tmp_path)
            assert got.size > 0
    assert sb.files.refusals["expired"] == 1


async def test_bad_urls_are_refused_locally_without_echoing_them() -> None:
    async with TemuApp("key", "secret", base_url="http://127.0.0.1:9/openapi/router") as app:
        shop = app.shop("token")
        with pytest.raises(ValueError, match="http") as info:
            await shop.download("ftp://files.example/label?sig=abc")
        assert "sig=abc" not in str(info.value)


async def test_server_errors_are_retried_and_unsafe_names_cleaned(tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        if len(seen) == 1:
            return web.Response(status=503, text="busy")
        return web.Response(
            body=b"%PDF-1.4 tiny",
            content_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="../../etc/label one.pdf"'},
        )

    app = web.Application()
    app.router.add_get("/f/{token}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with TemuApp("k" * 8, "s" * 8, base_url=f"http://127.0.0.1:{port}/r") as temu:
            got = await temu.shop("t" * 8).download(f"http://127.0.0.1:{port}/f/abc", tmp_path)
    finally:
        await runner.cleanup()
    assert len(seen) == 2
    assert got.filename == "label_one.pdf" and got.path == tmp_path / "label_one.pdf"
    assert got.path.read_bytes() == b"%PDF-1.4 tiny"
    for headers in seen:
        assert headers["toa-app-key"] == "k" * 8 and headers["toa-access-token"] == "t" * 8
        assert headers["toa-sign"] == doc_toa_sign("s" * 8, headers)
    assert seen[0]["toa-random"] != seen[1]["toa-random"]  # signed afresh per attempt


async def test_no_signature_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Sandbox(label_config(label_fail_first=1)) as sb:
        sb.world.labels.expire_next = 1
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            store = SqliteFulfilmentStore(tmp_path / "s.db")
            parcel = Parcel(weight="1", length="1", width="1", height="1")
            rows = await buy_labels(
                shop,
                store,
                unshipped(sb, 2),
                tmp_path,
                LabelOptions(parcel=parcel, poll_initial=0.05),
            )
            await store.close()
    assert [r.outcome for r in rows] == ["downloaded"] * 2
    assert sb.files.refusals["expired"] == 1
    text = caplog.text
    assert "asking for a fresh one" in text
    assert not re.search(r"[0-9A-F]{32}", text)  # no toa-sign (nor request sign)
    assert creds.shops[0].access_token not in text and creds.app_secret not in text
    assert "/openapi/files/" not in text  # nor the URL's capability token
