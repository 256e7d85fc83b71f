"""The reference approach: what a plain asyncio client for Temu looks like without an SDK.

A dict of params, the signature algorithm of Temu's own Python example (``TestSign``:
sort the params, append ``key`` + the compact JSON of each value with its quotes
stripped, wrap in the secret, MD5, upper case) re-implemented in a few plain lines,
``json.dumps`` for the body, aiohttp for the POST, ``json.loads`` for the answer, and
the ``result`` handed back as dicts. No param checks, no typed results, no throttle,
no retries: that is the baseline the SDK's costs and guarantees are measured against.

Written for the benches (not copied from anywhere); used in front of ``aiolimiter``
for the "naive limiter" throughput case.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

__all__ = ["GatewayRefusal", "ReferenceClient", "testsign"]


class GatewayRefusal(Exception):
    """The gateway answered ``success: false``."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def testsign(app_secret: str, params: Mapping[str, Any]) -> str:
    """Temu's example signature, as its docs describe it (values with quotes stripped)."""
    pieces = []
    for key, value in sorted(params.items()):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        pieces.append(key + text.strip('"'))
    plain = app_secret + "".join(pieces) + app_secret
    return hashlib.md5(plain.encode("utf-8")).hexdigest().upper()


class ReferenceClient:
    """One app's plain client: ``await client.call(type, token, params)`` -> result dict."""

    def __init__(self, url: str, app_key: str, app_secret: str) -> None:
        self.url = url
        self.app_key = app_key
        self.app_secret = app_secret
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ReferenceClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self, type_name: str, access_token: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        assert self._session is not None, "use `async with ReferenceClient(...)`"
        payload: dict[str, Any] = {
            "type": type_name,
            "app_key": self.app_key,
            "access_token": access_token,
            "timestamp": int(time.time()),
            "data_type": "JSON",
        }
        payload.update({k: v for k, v in (params or {}).items() if v is not None})
        payload["sign"] = testsign(self.app_secret, payload)
        async with self._session.post(
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        ) as resp:
            answer = json.loads(await resp.read())
        if not answer.get("success"):
            raise GatewayRefusal(answer.get("errorCode"), str(answer.get("errorMsg")))
        return answer.get("result")
