"""The running sandbox: an aiohttp server on loopback speaking Temu's router protocol.

One POST route (``/openapi/router``). Per request: parse the body, play due order
events, maybe inject a fault, run the gateway checks, count the request against
the app's (and the type's) 1-second window, check params against the catalogue,
then run the type's behaviour or answer a catalogue-shaped result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import ssl
import uuid
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web

from ..catalogue import Catalogue, TypeSpec
from . import codes
from .catalogue_source import load_catalogue
from .codes import BusinessError, GatewayReject
from .config import SandboxConfig
from .counters import Counters
from .credentials import AppCredentials, SandboxCredentials, ShopCredentials
from .faults import FaultDecision, Faults
from .files import FILES_PATH, FileServer
from .gateway import check_request
from .handlers import HANDLERS, Call
from .limiter import SlidingWindow, max_in_window, try_admit
from .models import OrderStatusChange
from .param_check import check_params
from .synthetic import synthetic_result
from .tls import SelfSigned, self_signed
from .webhook_push import PushOutcome, WebhookPusher
from .world import World

__all__ = ["ROUTER_PATH", "Sandbox"]

ROUTER_PATH = "/openapi/router"
log = logging.getLogger("temu_async.sandbox")

_TRUNCATED = b'{"success":true,"errorCode":1000000,"errorMsg":"","result":{"pageItems":[{"parent'
_HTML = (
    "<html><head><title>{status} Error</title></head><body><center><h1>{status} Error</h1>"
    "</center><hr><center>sandbox-gateway</center></body></html>"
)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key sent twice: the gateway reads the first one (PROTOCOL.md).
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw, object_pairs_hook=_first_wins, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


class Sandbox:
    """A fake Temu gateway. ``async with Sandbox(SandboxConfig(...)) as sb: sb.url ...``"""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = self.config.clock
        self.catalogue: Catalogue = self.config.catalogue or load_catalogue()
        self.types: dict[str, TypeSpec] = self.catalogue.by_type()
        self.faults = Faults(self.config.seed, self.config.faults)
        self.counters = Counters()
        self.world = World(self.config, sorted(self.types))
        self.world.seed(self.clock.now())
        self.files = FileServer(self.world, self.server_time, self.config.timestamp_tolerance)
        """Serves label documents at signed URLs; ``files.refusals`` counts refused GETs."""
        self._rate_limit = self.config.rate_limit or self.catalogue.default_rate_limit
        self._type_limits: dict[str, int] = {}
        if self.config.type_limits_enabled:
            for t in self.catalogue.types:
                if t.rate_limit is not None:
                    self._type_limits[t.type] = t.rate_limit.per_second
        self._type_limits.update(self.config.type_rate_limits)
        self._app_windows: dict[str, SlidingWindow] = {}
        self._type_windows: dict[tuple[str, str], SlidingWindow] = {}
        self._ip_whitelists: dict[str, frozenset[str]] = {}
        self._ids = random.Random(f"{self.config.seed}:request-ids")
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._tls: SelfSigned | None = None
        self._hook_lock = asyncio.Lock()
        self.webhooks = WebhookPusher(
            url=self.config.webhook_url,
            events=self.config.webhook_events,
            policy=self.config.webhook_policy,
            secret_for=self._app_secret,
            region_id=self.config.region_id,
            delivery_seconds=self.config.delivery_seconds,
        )
        """Pushes webhooks for order changes; its counters say what became of them."""

    # ---- lifecycle --------------------------------------------------------------
    async def start(self) -> Sandbox:
        if self._runner is not None:
            return self
        self.webhooks.open()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post(ROUTER_PATH, self._handle)
        app.router.add_get(FILES_PATH + "/{token}", self._file)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        context = None
        if self.config.tls:
            self._tls = self_signed(self.config.host)
            context = self._tls.server_context()
        site = web.SockSite(runner, sock, ssl_context=context)
        await site.start()
        self._port = sock.getsockname()[1]
        self._runner = runner
        self.world.labels.files_url = self.base_url + FILES_PATH
        return self

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        # After the server: no request can make a new change while the queue drains.
        await self.webhooks.close()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---- what callers read ------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("the sandbox is not running: use `async with` or await start()")
        return self._port

    @property
    def base_url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        return f"{scheme}://{self.config.host}:{self.port}"

    @property
    def cert_pem(self) -> bytes | None:
        """The TLS certificate a client must trust (``tls=True``), else None."""
        return None if self._tls is None else self._tls.cert_pem

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this sandbox's certificate, for a client session::

        connector = aiohttp.TCPConnector(ssl=sb.client_ssl_context())
        app = TemuApp(..., base_url=sb.url, session=aiohttp.ClientSession(connector=connector))
        """
        if self._tls is None:
            raise RuntimeError(
                "the sandbox serves plain HTTP: start it with SandboxConfig(tls=True)"
            )
        return self._tls.client_context()

    @property
    def url(self) -> str:
        """The router URL (what a region URL is in production)."""
        return self.base_url + ROUTER_PATH

    @property
    def credentials(self) -> SandboxCredentials:
        """A fresh snapshot: tokens change when a code is exchanged."""
        w = self.world
        apps = []
        for app in w.apps.values():
            shops = []
            for shop in w.shops.values():
                if shop.app_key != app.app_key:
                    continue
                token = w.shop_token(shop.mall_id)
                codes_left = tuple(
                    c.code
                    for c in w.codes.values()
                    if c.mall_id == shop.mall_id and not c.used and c.expires_at >= w.now
                )
                shops.append(
                    ShopCredentials(
                        mall_id=shop.mall_id,
                        access_token=token.access_token,
                        scopes=tuple(sorted(token.scopes)),
                        expires_at=token.expires_at,
                        region_id=shop.region_id,
                        auth_codes=codes_left,
                    )
                )
            apps.append(AppCredentials(app.app_key, app.app_secret, tuple(shops)))
        return SandboxCredentials(url=self.url if self._runner else "", apps=tuple(apps))

    def server_time(self) -> float:
        """The gateway's clock: business clock plus the fault offset."""
        return self.clock.now() + self.faults.clock_offset

    # ---- knobs ------------------------------------------------------------------------
    @property
    def rate_limit(self) -> int:
        return self._rate_limit

    def set_rate_limit(self, per_second: int) -> None:
        """Change the per-app_key limit (windows restart empty)."""
        if per_second < 1:
            raise ValueError("rate limit must be >= 1")
        self._rate_limit = per_second
        self._app_windows.clear()

    def set_type_rate_limit(self, type_name: str, per_second: int | None) -> None:
        """Set (or with None remove) one type's own limit."""
        if per_second is None:
            self._type_limits.pop(type_name, None)
        elif per_second < 1:
            raise ValueError("rate limit must be >= 1")
        else:
            self._type_limits[type_name] = per_second
        for key in [k for k in self._type_windows if k[1] == type_name]:
            del self._type_windows[key]

    def issue_code(self, mall_id: int) -> str:
        """A new single-use authorization code for a shop."""
        self.world.now = max(self.world.now, int(self.clock.now()))
        return self.world.issue_code(mall_id)

    def expire_token(self, access_token: str, in_seconds: float = 0) -> None:
        """Make a token expire ``in_seconds`` from now; by default at once (the next call
        answers 3000034)."""
        if in_seconds < 0:
            raise ValueError("expire_token: in_seconds must be >= 0")
        self.world.tokens[access_token].expires_at = int(self.clock.now() + in_seconds)

    def set_scopes(self, access_token: str, scopes: set[str] | list[str]) -> None:
        """Replace the types a token may call (others answer 3000032)."""
        self.world.tokens[access_token].scopes = set(scopes)

    def set_ip_whitelist(self, app_key: str, addresses: Iterable[str] | None) -> None:
        """Admit ``app_key``'s requests only from these client addresses (others answer
        5000003 NOT_IN_IP_WHITE_LIST, as an app with a console whitelist does); None lifts it.
        """
        if app_key not in self.world.apps:
            raise KeyError(f"set_ip_whitelist: no app {app_key!r} in this sandbox")
        if addresses is None:
            self._ip_whitelists.pop(app_key, None)
        else:
            self._ip_whitelists[app_key] = frozenset(addresses)

    def max_in_window(self, app_key: str | None = None, window: float = 1.0) -> int:
        """Largest number of admitted requests of one app_key in any window."""
        key = app_key or next(iter(self.world.apps))
        return max_in_window(self.counters.admitted.get(key, []), window)

    def set_webhook_url(self, url: str | None) -> None:
        """Push order changes to ``url`` from now on (None: stop pushing)."""
        self.webhooks.url = url

    async def push_event(
        self,
        app_key: str,
        event_code: str,
        payload: Mapping[str, Any],
        *,
        app_secret: str | None = None,
    ) -> PushOutcome:
        """Push any event to the webhook URL now, as Temu would for ``app_key``, and wait
        for its outcome (acknowledged, or given up after the retries).

        ``payload`` is the event's camelCase fields. ``app_secret`` overrides the app's own
        secret, to see a receiver refuse a delivery signed with the wrong one.
        """
        return await self.webhooks.push(app_key, event_code, payload, app_secret=app_secret)

    def _app_secret(self, app_key: str) -> str | None:
        app = self.world.apps.get(app_key)
        return None if app is None else app.app_secret

    async def advance(self) -> list[OrderStatusChange]:
        """Play order events due by the clock's now and run the status-change hook."""
        changes = self.world.advance(self.clock.now())
        await self._fire(changes)
        return changes

    async def _fire(self, changes: list[OrderStatusChange]) -> None:
        if changes and self.webhooks.url is not None:
            # Queued at once (no await before it), so each payload shows the order as this
            # change left it; the sending happens in the pusher's own task.
            for change in changes:
                order = self.world.orders.get(change.mall_id, change.parent_order_sn)
                self.webhooks.notify(change, order)
        hook = self.config.on_order_status_change
        if hook is None or not changes:
            return
        async with self._hook_lock:  # changes reach the hook in the order they happened
            for change in changes:
                try:
                    await hook(change)
                except Exception:
                    log.exception(
                        "on_order_status_change hook failed for %s", change.parent_order_sn
                    )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        await self.advance()
        return await self.files.handle(request)

    # ---- the request path ----------------------------------------------------------------
    def _respond(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            body=msgspec.json.encode(payload),
            content_type="application/json",
            headers={"Date": formatdate(self.server_time(), usegmt=True)},
        )

    def _request_id(self) -> str:
        return f"us-{uuid.UUID(int=self._ids.getrandbits(128), version=4)}"

    def _error(self, reject: GatewayReject) -> web.Response:
        self.counters.rejections[reject.code] += 1
        return self._respond(
            {
                "success": False,
                "errorCode": reject.code,
                "errorMsg": reject.message,
                "requestId": self._request_id(),
            }
        )

    async def _inject(self, request: web.Request, fault: FaultDecision) -> web.StreamResponse:
        self.counters.faults[fault.kind] += 1
        if fault.kind == "error":
            return self._error(GatewayReject(fault.code))
        if fault.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            # Nothing can be written any more; aiohttp drops the handler's result.
            raise asyncio.CancelledError
        if fault.kind == "malformed":
            return web.Response(
                body=_TRUNCATED,
                content_type="application/json",
                headers={"Date": formatdate(self.server_time(), usegmt=True)},
            )
        status = fault.code or 200
        return web.Response(
            status=status,
            text=_HTML.format(status=status),
            content_type="text/html",
            headers={"Date": formatdate(self.server_time(), usegmt=True)},
        )

    def _admit(self, app_key: str, type_name: str, now: float) -> bool:
        self.counters.arrivals[app_key].append(now)
        windows = [
            self._app_windows.get(app_key)
            or self._app_windows.setdefault(app_key, SlidingWindow(self._rate_limit))
        ]
        per_type = self._type_limits.get(type_name)
        if per_type is not None:
            key = (app_key, type_name)
            windows.append(
                self._type_windows.get(key)
                or self._type_windows.setdefault(key, SlidingWindow(per_type))
            )
        if try_admit(windows, now):
            self.counters.admitted[app_key].append(now)
            return True
        return False

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # The gateway counts a request when it arrives; the simulated network latency is
        # spent on the way back, so it cannot reorder arrivals or blur the window.
        arrived = self.config.limiter_clock()
        self.counters.received += 1
        raw = await request.read()
        body = _parse(raw)
        type_name = body.get("type") if body is not None else None
        fault = self.faults.decide(type_name if isinstance(type_name, str) else "")
        if fault.kind != "none":
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return await self._inject(request, fault)
        response = await self._answer(body, arrived, request.remote)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return response

    async def _answer(
        self, body: dict[str, Any] | None, arrived: float, remote: str | None = None
    ) -> web.Response:
        if body is None:
            return self._error(
                GatewayReject(codes.BAD_PARAMS, "BAD_PARAMS: the body is not a JSON object")
            )
        allowed = self._ip_whitelists.get(str(body.get("app_key")))
        if allowed is not None and remote not in allowed:
            # A network-level filter of the app: refused before the token or sign is read.
            return self._error(GatewayReject(codes.NOT_IN_IP_WHITE_LIST))

        await self.advance()
        now = self.clock.now()
        try:
            admitted = check_request(
                body,
                types=self.types,
                world=self.world,
                business_now=now,
                server_now=now + self.faults.clock_offset,
                tolerance=self.config.timestamp_tolerance,
                require_data_type=self.config.require_data_type,
            )
            if not self._admit(admitted.app.app_key, admitted.spec.type, arrived):
                raise GatewayReject(codes.RATE_LIMITED)
            check_params(admitted.spec, body)
        except GatewayReject as reject:
            return self._error(reject)

        spec = admitted.spec
        call = Call(
            world=self.world,
            spec=spec,
            body=body,
            app_key=admitted.app.app_key,
            token=admitted.token,
            now=int(now),
        )
        self.counters.requests_by_type[spec.type] += 1
        handler = HANDLERS.get(spec.type)
        try:
            result = handler(call) if handler is not None else synthetic_result(spec)
        except BusinessError as refused:
            response = self._error(refused)
        else:
            response = self._respond(
                {
                    "success": True,
                    "errorCode": codes.SUCCESS,
                    "errorMsg": "",
                    "requestId": self._request_id(),
                    "result": result,
                }
            )
        await self._fire(call.changes)
        return response
