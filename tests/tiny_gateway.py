"""A tiny Temu-like gateway on loopback for the client's own tests.

It re-derives the signature from the raw body it received (stdlib json, keeping key
order, with the oracle in official_sign.py), records when each request arrived, and
answers from a per-test script. Deliberately small: the full fake gateway is
temu_async.sandbox; this one lets a test choose any answer, byte for byte.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from official_sign import official_sign

Reply = dict[str, Any] | web.StreamResponse
Script = Callable[[dict[str, Any], int], Awaitable[Reply] | Reply]


def ok(result: Any) -> dict[str, Any]:
    return {
        "success": True,
        "errorCode": 1000000,
        "errorMsg": "",
        "requestId": "r-ok",
        "result": result,
    }


def fail(code: int, message: str = "refused") -> dict[str, Any]:
    return {"success": False, "errorCode": code, "errorMsg": message, "requestId": f"r-{code}"}


@dataclass
class TinyGateway:
    app_key: str = "test-app-key"
    app_secret: str = "test-app-secret-0123456789"
    clock_offset: float = 0.0
    script: Script | None = None
    arrivals: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/openapi/router", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/openapi/router"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def parsed(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.bodies[i])

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        raw = await request.read()
        self.bodies.append(raw)
        self.urls.append(str(request.url))
        self.content_types.append(request.headers.get("Content-Type", ""))
        now = time.time() + self.clock_offset
        headers = {"Date": email.utils.formatdate(now, usegmt=True)}
        body = json.loads(raw)
        if official_sign(body, self.app_secret) != body.get("sign"):
            return web.json_response(fail(3000001, "sign is invalid"), headers=headers)
        if abs(int(body["timestamp"]) - now) > 300:
            return web.json_response(fail(3000012, "timestamp expired"), headers=headers)
        reply: Any = ok({"echo": body.get("type")})
        if self.script is not None:
            reply = self.script(body, len(self.bodies))
            if hasattr(reply, "__await__"):
                reply = await reply
        if isinstance(reply, web.StreamResponse):
            return reply
        return web.json_response(reply, headers=headers)
