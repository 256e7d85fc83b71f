"""The app and the shop: who signs, who throttles, who sends.

``TemuApp`` owns everything one app_key has once: the HTTP session, the rate
budget (shared by all of its shops), the retry budget, the clock offset to the
gateway. ``app.shop(token)`` is a light handle for one seller; its calls queue
fairly against the other shops of the same app.

One request, in order: look the type up in the catalogue; check the params (nothing
is sent when they break a rule); serialise each business value once; wait for a
rate slot; stamp, sign and send; decode the envelope straight into the result
model; on failure, decide by the error's class whether to resync the clock, retry,
or raise.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

import aiohttp
import msgspec

from temu_async import catalogue as model
from temu_async._generated.groups import Groups
from temu_async.conform import conform
from temu_async.errors import (
    HTTPStatusError,
    MalformedResponse,
    OutcomeUnknown,
    ParamError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    TemuError,
    TimestampError,
    TransportError,
    error_from_response,
)
from temu_async.options import CallOptions
from temu_async.retry import RetryPolicy, provably_not_run
from temu_async.secret import Secret
from temu_async.signing import sign_encoded
from temu_async.throttle import Limit, RateBackend, Throttle
from temu_async.transport import REGION_URLS, Answer, Transport
from temu_async.validation import COMMON_PARAMS, check_params, check_type_name
from temu_async.wire import Envelope, build_body, encode_params

if TYPE_CHECKING:
    from temu_async.oauth import TokenInfo

__all__ = ["CallOptions", "ShopClient", "TemuApp"]

log = logging.getLogger("temu_async")

T = TypeVar("T")
Region = Literal["us", "eu", "global"]
SUCCESS = 1000000
_RATE_LIMIT_CODES = (4000004, 4000000)


def _require_credential(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValueError(f"{name} must not contain whitespace (copied with a stray space?)")
    if not value.isprintable() or not value.isascii():
        raise ValueError(f"{name} must be printable ASCII")
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
    ) -> None:
        self.app_key = _require_credential("app_key", app_key)
        self._secret = Secret(_require_credential("app_secret", app_secret))
        if region not in REGION_URLS:
            raise ValueError(f"region must be one of {sorted(REGION_URLS)}, got {region!r}")
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
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
        self.clock_offset = 0.0
        """Seconds to add to the local clock to match the gateway's (set on 3000011/12)."""
        self._decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
        self._warned: set[str] = set()
        self._conformed: set[str] = set()
        self._app_limit = Limit(self.app_key, self.rate_limit)
        self._limits_cache: dict[str, tuple[Limit, ...]] = {}

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

    def _prepare(
        self, type_name: str, params: Mapping[str, Any], options: CallOptions
    ) -> tuple[model.TypeSpec | None, dict[str, bytes]]:
        check_type_name(type_name)
        if not isinstance(params, Mapping):
            raise ParamError(None, f"params must be a mapping, got {type(params).__name__}")
        for key in params:
            if key in COMMON_PARAMS:
                raise ParamError(
                    key,
                    "is a common param the client sets itself; do not pass it",
                    api_type=type_name,
                )
        spec = self._types.get(type_name)
        if spec is not None:
            self._check_spec(spec)
            if spec.documented:
                check_params(spec, params, allow_unknown=options.allow_unknown)
        return spec, encode_params(params)

    def _check_spec(self, spec: model.TypeSpec) -> None:
        if self.check_region and self.region not in spec.regions:
            raise ParamError(
                None,
                f"{spec.type} is not offered in region {self.region!r} "
                f"(the catalogue lists: {', '.join(spec.regions)})",
                api_type=spec.type,
                hint="use a TemuApp for the right region, or check_region=False "
                "if Temu has opened it there since",
            )
        if spec.deprecated and spec.type not in self._warned:
            self._warned.add(spec.type)
            instead = f"; use {spec.replaced_by}" if spec.replaced_by else ""
            warnings.warn(
                f"{spec.type} is deprecated{instead}",
                DeprecationWarning,
                stacklevel=_caller_stacklevel(),
            )

    def _body(self, type_name: str, token: str, business: Mapping[str, bytes]) -> bytes:
        timestamp = int(time.time() + self.clock_offset)
        fields: dict[str, bytes] = {
            "type": msgspec.json.encode(type_name),
            "app_key": msgspec.json.encode(self.app_key),
            "access_token": msgspec.json.encode(token),
            "timestamp": str(timestamp).encode(),
            "data_type": b'"JSON"',
        }
        fields.update(business)
        fields["sign"] = b'"' + sign_encoded(fields.items(), self._secret.reveal()).encode() + b'"'
        return build_body(fields)

    def _decoder(self, result_type: Any) -> msgspec.json.Decoder[Any]:
        decoder = self._decoders.get(result_type)
        if decoder is None:
            decoder = msgspec.json.Decoder(Envelope[result_type])  # type: ignore[valid-type]
            self._decoders[result_type] = decoder
        return decoder

    def _decode(self, answer: Answer, type_name: str, result_type: Any) -> Any:
        if answer.status != 200:
            raise HTTPStatusError(answer.status, api_type=type_name)
        try:
            env = self._decoder(result_type).decode(answer.body)
        except msgspec.ValidationError as exc:
            return self._decode_mismatch(answer, type_name, result_type, exc)
        except msgspec.DecodeError:
            raise _not_json(answer, type_name) from None
        except RecursionError:
            raise _too_deep(type_name) from None
        if env.success is None:
            raise _not_envelope(type_name)
        if env.success and env.errorCode in (None, SUCCESS):
            return env.result
        raise self._api_error(env.errorCode, env.errorMsg, type_name, env.requestId)

    def _api_error(
        self, code: int | None, message: str | None, type_name: str, request_id: str | None
    ) -> TemuError:
        err = error_from_response(
            code, message, api_type=type_name, request_id=request_id, codes=self._codes
        )
        # The type's own "try again later" codes (catalogue ``retryable_errors``) are
        # transient too; the gateway-wide codes carry their flag in gateway.yaml.
        spec = self._types.get(type_name)
        if spec is not None and code is not None and code in spec.retryable_errors:
            err.retryable = True
        return err

    def _decode_mismatch(
        self, answer: Answer, type_name: str, result_type: Any, exc: Exception
    ) -> Any:
        body = answer.body
        try:
            # The typed decoder can fail on the shape before it meets broken JSON later on
            # (``[`` is "not an object" before it is "truncated").
            raw = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise _not_json(answer, type_name) from None
        except RecursionError:
            raise _too_deep(type_name) from None
        if not isinstance(raw, dict) or "success" not in raw:
            raise _not_envelope(type_name)
        code = raw.get("errorCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        # The same rule as the typed path: success only when it says so and no code
        # other than SUCCESS contradicts it.
        if raw.get("success") is not True or code not in (None, SUCCESS):
            raise self._api_error(
                code,
                str(raw.get("errorMsg") or ""),
                type_name,
                raw.get("requestId") if isinstance(raw.get("requestId"), str) else None,
            )
        spec = self._types.get(type_name)
        if spec is not None and spec.response is not None:
            try:
                value = msgspec.convert(
                    conform(spec.response, raw.get("result")), result_type, strict=False
                )
            except msgspec.ValidationError:
                pass
            else:
                if type_name not in self._conformed:
                    self._conformed.add(type_name)
                    log.warning(
                        "%s: the gateway's result differs from the documented types (%s); "
                        "converted losslessly. Please report it so the catalogue is fixed.",
                        type_name,
                        exc,
                    )
                return value
        raise ResponseDecodeError(
            f"the result does not match the catalogue's model ({exc}); the plain data is in .raw",
            raw=raw.get("result"),
            api_type=type_name,
            request_id=raw.get("requestId") if isinstance(raw.get("requestId"), str) else None,
        ) from None

    async def execute(
        self,
        type_name: str,
        params: Mapping[str, Any],
        *,
        token: str,
        tenant: str,
        result_type: Any = Any,
        options: CallOptions | None = None,
    ) -> Any:
        """Run one API call through checks, throttle, signing, transport and retries."""
        opts = options or CallOptions()
        spec, business = self._prepare(type_name, params, opts)
        limits = self.limits_for(type_name, spec)
        # An unknown type's effects are unknown: treat it as a write that must not repeat.
        idempotent = spec is not None and (
            spec.idempotent or (spec.idempotent_with is not None and spec.idempotent_with in params)
        )
        policy = self.retry
        max_retries = policy.max_retries if opts.max_retries is None else opts.max_retries
        if policy.budget is not None:
            policy.budget.record_first()
        started = time.monotonic()
        retries = 0
        resynced = False
        while True:
            slot = await self.throttle.admit(limits, tenant, max_wait=opts.max_wait)
            body = self._body(type_name, token, business)
            sent_at = time.monotonic()
            answer: Answer | None = None
            try:
                answer = await self.transport.post(body, timeout=opts.timeout, slot=slot)
                result = self._decode(answer, type_name, result_type)
                log.debug(
                    "%s ok in %.0f ms (attempt %d)",
                    type_name,
                    (time.monotonic() - sent_at) * 1000,
                    retries + 1,
                )
                return result
            except TimestampError as exc:
                if resynced or answer is None or answer.server_time is None:
                    raise
                self.clock_offset = answer.server_time - time.time()
                resynced = True
                log.warning(
                    "%s: gateway refused the timestamp (%s); clock offset now %+.1f s, re-signing",
                    type_name,
                    exc.code,
                    self.clock_offset,
                )
                continue
            except TemuError as exc:
                if exc.api_type is None:
                    # Transport failures are raised below the type's level: name it here,
                    # so a sync's "stopped: ..." line says which call failed.
                    exc.api_type = type_name
                if isinstance(exc, RateLimited) or (
                    isinstance(exc, ServerError) and exc.code in _RATE_LIMIT_CODES
                ):
                    await self.throttle.penalize(limits, policy.rate_limit_penalty)
                elapsed = time.monotonic() - started
                delay = policy.backoff(retries)
                if (
                    retries < max_retries
                    and elapsed + delay <= policy.max_total_wait
                    and policy.should_retry(exc, attempt=retries, idempotent=idempotent)
                ):
                    log.info(
                        "%s: %s; retry %d in %.2f s",
                        type_name,
                        type(exc).__name__,
                        retries + 1,
                        delay,
                    )
                    retries += 1
                    await asyncio.sleep(delay)
                    continue
                if not idempotent and _ambiguous(exc):
                    raise OutcomeUnknown(
                        f"{type_name} may or may not have run ({type(exc).__name__}: "
                        f"{exc.message}); it was not sent again because it is not safe to repeat",
                        api_type=type_name,
                        request_id=exc.request_id,
                        hint="check the effect (query the object) before sending it again",
                    ) from exc
                raise


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_stacklevel() -> int:
    """The stacklevel that points a warning at the first frame outside this package.

    A call reaches the checks through a varying number of our own frames (generated
    method, group, shop, app), so a fixed stacklevel would blame our code.
    """
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _not_json(answer: Answer, type_name: str) -> MalformedResponse:
    head = answer.body[:40].decode("utf-8", "replace")
    return MalformedResponse(
        f"the answer is not JSON (Content-Type {answer.content_type or 'none'}, "
        f"starts with {head!r})",
        api_type=type_name,
    )


def _too_deep(type_name: str) -> MalformedResponse:
    # msgspec refuses nesting deeper than the interpreter's recursion limit.
    return MalformedResponse("the answer is nested too deeply to decode", api_type=type_name)


def _not_envelope(type_name: str) -> MalformedResponse:
    return MalformedResponse("the answer is JSON but not Temu's envelope", api_type=type_name)


def _ambiguous(exc: TemuError) -> bool:
    """The request may have run on the gateway, and nothing says whether it did."""
    if provably_not_run(exc):
        return False
    return isinstance(exc, (TransportError, ServerError))


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
        self._groups: dict[str, Any] = {}

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
    async def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = ...,
        *,
        result_type: type[T],
        options: CallOptions | None = ...,
        **overrides: Any,
    ) -> T: ...

    @overload
    async def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = ...,
        *,
        options: CallOptions | None = ...,
        **overrides: Any,
    ) -> Any: ...

    async def call(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = None,
        *,
        result_type: Any = Any,
        options: CallOptions | None = None,
        **overrides: Any,
    ) -> Any:
        """Call any API type with wire-named params; returns ``result`` as plain data.

        Works for every type, including ones the catalogue does not know yet. Known
        types have their params checked first. ``overrides`` are CallOptions fields
        (``timeout=``, ``max_retries=``, ``max_wait=``, ``allow_unknown=``).
        """
        if overrides:
            unknown = set(overrides) - set(CallOptions.__dataclass_fields__)
            if unknown:
                raise TypeError(f"unknown call option(s): {', '.join(sorted(unknown))}")
            base = options or CallOptions()
            options = CallOptions(**{**base.__dict__, **overrides})
        if self.scopes is not None:
            from temu_async.oauth import check_scope

            check_scope(self.scopes, type_name, self.name)
        return await self.app.execute(
            type_name,
            params or {},
            token=self._token.reveal(),
            tenant=self.name,
            result_type=result_type,
            options=options,
        )

    def _group(self, name: str, cls: type[T]) -> T:
        group = self._groups.get(name)
        if group is None:
            group = self._groups[name] = cls(self)  # type: ignore[call-arg]
        return cast(T, group)
