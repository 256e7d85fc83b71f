"""The standalone entry point (argument parsing, the printout, serving) and the catalogue file."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from pathlib import Path

import aiohttp
import msgspec
import pytest
from sandbox_support import sign, small_catalogue

from temu_async.sandbox import (
    CatalogueMissing,
    Sandbox,
    SandboxConfig,
    load_catalogue,
)
from temu_async.sandbox.cli import add_arguments, serve


async def test_serve_prints_credentials_that_work(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    path.write_bytes(msgspec.json.encode(small_catalogue()))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--shops",
            "3",
            "--orders",
            "15",
            "--seed",
            "4",
            "--latency-ms",
            "1",
            "--catalogue",
            str(path),
            "--json",
        ]
    )
    out = io.StringIO()
    task = asyncio.create_task(serve(args, out))
    try:
        for _ in range(200):
            if out.getvalue():
                break
            await asyncio.sleep(0.01)
        info = json.loads(out.getvalue())
        app = info["apps"][0]
        assert len(app["shops"]) == 3 and info["url"].endswith("/openapi/router")
        body = {
            "type": "bg.open.accesstoken.info.get",
            "app_key": app["app_key"],
            "access_token": app["shops"][2]["access_token"],
            "timestamp": int(time.time()),
            "data_type": "JSON",
        }
        body["sign"] = sign(app["app_secret"], body)
        async with aiohttp.ClientSession() as session, session.post(info["url"], json=body) as resp:
            got = await resp.json()
        assert got["success"] is True and got["result"]["mallId"] == app["shops"][2]["mall_id"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_missing_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueMissing, match="make generate"):
        load_catalogue(tmp_path / "nope.json")


def test_secrets_stay_out_of_reprs() -> None:
    sb = Sandbox(SandboxConfig(orders=1, catalogue=small_catalogue()))
    creds = sb.credentials
    text = repr(creds)
    assert creds.app_secret not in text
    assert all(s.access_token not in text for s in creds.shops)
    assert creds.app_key in text
