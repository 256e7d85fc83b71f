"""The app and the shop: who signs, who throttles, who sends.

``TemuApp`` owns everything one app_key has once: the HTTP session, the rate
budget (shared by all of its shops), the retry budget, the clock offset to the
gateway. ``app.shop(token)`` is a light handle for one seller; its calls queue
fairly against the other shops of the same app.

One request is a pipeline of named steps (:mod:`temu_async.pipeline`): prepare
(check and encode the params in one walk), admit (a rate slot), send (stamp, sign,
POST), decode (envelope into the result model or a typed error), decide (return,
raise, retry, resync the clock, or OutcomeUnknown). ``TemuApp`` configures those steps
and composes them; it holds no request logic of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import aiohttp

from temu_async import catalogue as model
from temu_async._generated.groups import Groups
from temu_async.events import Hook, Hooks
from temu_async.options import DEFAULT_OPTIONS, CallOptions, check_seconds
from temu_async.pipeline import Pipeline
from temu_async.prepare import MAX_BODY_BYTES
from temu_async.retry import RetryPolicy
from temu_async.secret import Secret
from temu_async.throttle import Limit, RateBackend, Throttle
from temu_async.transport import REGION_URLS, Transport

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from temu_async.download import Downloaded, DownloadStream, SignedFiles
    from temu_async.oauth import TokenInfo

__all__ = ["CallOptions", "ShopClient", "TemuApp"]

T = TypeVar("T")
Region = Literal["us", "eu", "global"]
_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(CallOptions))


def _require_credential(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValueError(f"{name} must not contain whitespace (copied with a stray space?)")
    if not value.isprintable() or not value.isascii():
        raise ValueError(f"{name} must be printable ASCII")
    return value


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


class TemuApp:
    """One Temu app (app_key + app_secret) in one region.

    Use it as an async context manager, or call :meth:`close` when done::

        async with TemuApp(app_key, app_secret, region="eu") as app:
            shop = app.shop(access_token)
            orders = await shop.order.list_v2(page_size=100)
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        region: Region = "us",
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        rate_limit: int | None = None,
        throttle_backend: RateBackend | None = None,
        max_wait: float = 300.0,
        retry: RetryPolicy | None = None,
        connection_limit: int = 100,
        check_region: bool = True,
        session: aiohttp.ClientSession | None = None,
        catalogue: model.Catalogue | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app_key = _require_credential("app_key", app_key)
        self._secret = Secret(_require_credential("app_secret", app_secret))
        if region not in REGION_URLS:
            raise ValueError(f"region must be one of {sorted(REGION_URLS)}, got {region!r}")
        timeout = check_seconds("timeout", timeout)
        connect_timeout = check_seconds("connect_timeout", connect_timeout)
        max_wait = check_seconds("max_wait", max_wait, zero_ok=True)
        if rate_limit is not None:
            _positive_int("rate_limit", rate_limit)
        _positive_int("connection_limit", connection_limit)
        _positive_int("max_body_bytes", max_body_bytes)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValueError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        self.region: Region = region
        self.url = base_url or REGION_URLS[region]
        if "?" in self.url:
            raise ValueError("base_url must not carry a query string (nothing goes in the URL)")
        self.check_region = check_region
        # A caller may bring its own catalogue (tests, or types added ahead of a release).
        self._types = catalogue.by_type() if catalogue is not None else _known_types()
        self._codes = (
            {e.code: e for e in catalogue.errors}
            if catalogue is not None
            else model.gateway_codes()
        )
        default_rate = catalogue.default_rate_limit if catalogue is not None else None
        self.rate_limit = rate_limit or default_rate or _default_rate_limit()
        self.throttle = Throttle(throttle_backend, max_wait=max_wait)
        self.retry = retry or RetryPolicy()
        self.transport = Transport(
            self.url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            connection_limit=connection_limit,
            session=session,
        )
        self._app_limit = Limit(self.app_key, self.rate_limit)
        self._limits_cache: dict[str, tuple[Limit, ...]] = {}
        self._pipeline = Pipeline(
            app_key=self.app_key,
            secret=self._secret,
            region=region,
            check_region=check_region,
            types=self._types,
            codes=self._codes,
            throttle=self.throttle,
            transport=self.transport,
            policy=self.retry,
            limits_for=self.limits_for,
            max_body_bytes=max_body_bytes,
        )

    @property
    def clock_offset(self) -> float:
        """Seconds to add to the local clock to match the gateway's (set on 3000011/12)."""
        return self._pipeline.clock_offset

    @clock_offset.setter
    def clock_offset(self, value: float) -> None:
        self._pipeline.clock_offset = value

    def server_time(self) -> float:
        """The gateway's clock as this app knows it: unix seconds, offset included."""
        return time.time() + self._pipeline.clock_offset

    @property
    def pipeline(self) -> Pipeline:
        """The request steps this app composed (prepare, admit, send, decode, decide)."""
        return self._pipeline

    def add_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(event)`` for every event of every call (see :mod:`temu_async.events`).

        Returns a function that removes it again. With no hook, no event is built.
        """
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        current = self._pipeline.hooks
        callbacks = (*(current.callbacks if current else ()), hook)
        self._pipeline.hooks = Hooks(callbacks)
        return lambda: self.remove_hook(hook)

    def remove_hook(self, hook: Hook) -> None:
        """Stop calling ``hook`` (a hook never added is ignored)."""
        current = self._pipeline.hooks
        if current is None:
            return
        # Equality, not identity: ``obj.method`` is a new bound method at each access.
        callbacks = tuple(h for h in current.callbacks if h != hook)
        self._pipeline.hooks = Hooks(callbacks) if callbacks else None

    @property
    def _conformed(self) -> set[str]:
        return self._pipeline.decoder.conformed

    def __repr__(self) -> str:
        return f"TemuApp(app_key={self.app_key!r}, region={self.region!r}, url={self.url!r})"

    async def __aenter__(self) -> TemuApp:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.throttle.close()
        await self.transport.close()

    def shop(
        self,
        access_token: str,
        *,
        name: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> ShopClient:
        """A client for one seller's shop, sharing this app's session and rate budget.

        With ``scopes`` (a token's ``apiScopeList``), a type outside them is refused
        locally with a ScopeError instead of a round trip to a 3000032.
        """
        return ShopClient(self, access_token, name=name, scopes=scopes)

    async def exchange_code(self, code: str) -> TokenInfo:
        """Exchange a seller's one-time ``?code=`` for a token (``bg.open.accesstoken.create``)."""
        from temu_async.oauth import exchange_code

        return await exchange_code(self, code)

    # --- the request pipeline -------------------------------------------------------

    def limits_for(self, type_name: str, spec: model.TypeSpec | None) -> tuple[Limit, ...]:
        """The app-wide limit, plus the type's own when the catalogue documents one."""
        cached = self._limits_cache.get(type_name)
        if cached is None:
            cached = (self._app_limit,)
            if spec is not None and spec.rate_limit is not None:
                own = Limit(self.app_key, spec.rate_limit.per_second, api_type=type_name)
                cached = (self._app_limit, own)
            self._limits_cache[type_name] = cached
        return cached

    def execute(
        self,
        type_name: str,
        params: Mapping[str, Any],
        *,
        token: str,
        tenant: str,
        result_type: Any = Any,
        options: CallOptions | None = None,
        scopes: frozenset[str] | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Run one API call through the pipeline: prepare, admit, send, decode, decide.

        Returns the pipeline's coroutine rather than wrapping it in another: every
        layer of ``async def`` is one more object per queued call for the collector
        to walk, and a process with hundreds of apps queues thousands of calls.
        """
        return self._pipeline.run(
            type_name,
            params,
            token=token,
            tenant=tenant,
            result_type=result_type,
            options=options,
            scopes=scopes,
        )


def _known_types() -> dict[str, model.TypeSpec]:
    try:
        return model.types_by_name()
    except RuntimeError:
        return {}


def _default_rate_limit() -> int:
    try:
        return model.load().default_rate_limit
    except RuntimeError:
        return 20


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:10]


class ShopClient(Groups):
    """One seller's shop under an app: ``await shop.call(type, params)``, or typed groups."""

    def __init__(
        self,
        app: TemuApp,
        access_token: str,
        *,
        name: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> None:
        self.app = app
        self._token = Secret(_require_credential("access_token", access_token))
        self.name = name or f"shop-{_fingerprint(access_token)}"
        self.scopes: frozenset[str] | None = frozenset(scopes) if scopes is not None else None

    async def token_info(self, *, check_scopes: bool = False) -> TokenInfo:
        """What this shop's token allows and when it expires (``bg.open.accesstoken.info.get``).

        Warns (``TokenExpiryWarning``) when it expires within a week. With
        ``check_scopes=True`` later calls outside the token's scope are refused locally.
        """
        from temu_async.oauth import fetch_token_info

        info = await fetch_token_info(self)
        if check_scopes:
            self.scopes = info.scopes
        return info

    def __repr__(self) -> str:
        return f"ShopClient(name={self.name!r}, app_key={self.app.app_key!r})"

    @overload
    def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = ...,
        *,
        result_type: type[T],
        options: CallOptions | None = ...,
        **overrides: Any,
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = ...,
        *,
        options: CallOptions | None = ...,
        **overrides: Any,
    ) -> Coroutine[Any, Any, Any]: ...

    def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = None,
        *,
        result_type: Any = Any,
        options: CallOptions | None = None,
        **overrides: Any,
    ) -> Coroutine[Any, Any, Any]:
        """Call any API type with wire-named params; returns ``result`` as plain data.

        Works for every type, including ones the catalogue does not know yet. Known
        types have their params checked first. ``overrides`` are CallOptions fields
        (``timeout=``, ``max_retries=``, ``max_wait=``, ``allow_unknown=``, ``patient=``).

        Use it as ``await shop.call(...)``: it hands back the pipeline's coroutine (one
        coroutine per call, not one per layer), so nothing is checked or sent until it
        is awaited; only a misspelt option name raises at once (a TypeError, as for
        any wrong keyword).
        """
        if overrides:
            unknown = overrides.keys() - _OPTION_NAMES
            if unknown:
                raise TypeError(f"unknown call option(s): {', '.join(sorted(unknown))}")
            options = dataclasses.replace(options or DEFAULT_OPTIONS, **overrides)
        return self.app.execute(
            type_name,
            params or {},
            token=self._token.reveal(),
            tenant=self.name,
            result_type=result_type,
            options=options,
            scopes=self.scopes,
        )

    def signed_files(self) -> SignedFiles:
        """Signed (``toa-*``) GETs of file URLs such as label documents, as this shop."""
        from temu_async.download import SignedFiles

        app = self.app
        return SignedFiles(
            app.transport.session, app.app_key, app._secret, self._token, lambda: app.clock_offset
        )

    async def download(self, url: str, dest: Any = None, **kwargs: Any) -> Downloaded:
        """Fetch a signed file URL into ``dest`` (file or directory), or bytes if None."""
        return await self.signed_files().download(url, dest, **kwargs)

    def stream_download(
        self, url: str, **kwargs: Any
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """``async with shop.stream_download(url) as s: async for chunk in s: ...``"""
        return self.signed_files().stream(url, **kwargs)
