"""One request, as named steps: prepare -> admit -> send -> decode -> decide.

* prepare (:mod:`temu_async.prepare`): check and encode the params in one walk, with
  the type's rules compiled once;
* admit: wait for a rate slot (:class:`~temu_async.throttle.Throttle`);
* send: stamp the time, sign, POST (:class:`~temu_async.transport.Transport`);
* decode (:mod:`temu_async.decode`): the answer's bytes into the result or a typed error;
* decide (:func:`temu_async.decide.decide`): return, raise, retry after a delay (pushing
  the app's budget back when the code says so), resync the clock and re-sign, or raise
  OutcomeUnknown.

:class:`Pipeline` holds what the steps share for one app; ``TemuApp`` builds it and
hands every call to :meth:`Pipeline.run`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from temu_async.decide import Action, History, Outcome, TypeRules, decide
from temu_async.decode import EnvelopeDecoder
from temu_async.errors import (
    ApiError,
    ConnectError,
    HTTPStatusError,
    MalformedResponse,
    OutcomeUnknown,
    ParamError,
    RequestTimeout,
    ResponseDecodeError,
    TemuError,
    TimestampError,
    TransportError,
)
from temu_async.oauth import check_scope
from temu_async.options import DEFAULT_OPTIONS, CallOptions
from temu_async.prepare import MAX_BODY_BYTES, Plan, check_type_name, prepare_params
from temu_async.signing import sign_encoded
from temu_async.throttle import Slot
from temu_async.wire import build_body

if TYPE_CHECKING:
    from temu_async.catalogue import ErrorCode, TypeSpec
    from temu_async.events import CallWatch, Hooks
    from temu_async.retry import RetryPolicy
    from temu_async.secret import Secret
    from temu_async.throttle import Limit, Throttle
    from temu_async.transport import Answer, Transport

__all__ = ["Pipeline", "TypeEntry"]

log = logging.getLogger("temu_async")

_JSON = b'"JSON"'


class TypeEntry:
    """What the pipeline knows about one type, worked out on its first call."""

    __slots__ = ("idempotent", "idempotent_with", "limits", "plan", "retryable_errors", "spec")

    def __init__(self, spec: TypeSpec | None, limits: tuple[Limit, ...]) -> None:
        self.spec = spec
        self.plan = Plan(spec) if spec is not None else None
        self.limits = limits
        # An unknown type's effects are unknown: it is treated as a write that must not repeat.
        self.idempotent = spec is not None and spec.idempotent
        self.idempotent_with = spec.idempotent_with if spec is not None else None
        self.retryable_errors = (
            frozenset(spec.retryable_errors) if spec is not None else frozenset()
        )

    def rules(self, params: Mapping[str, Any]) -> TypeRules:
        idempotent = self.idempotent or (
            self.idempotent_with is not None and params.get(self.idempotent_with) is not None
        )
        return TypeRules(idempotent=idempotent, retryable_errors=self.retryable_errors)


class Pipeline:
    """The steps of one request for one app, and the state they share."""

    __slots__ = (
        "_app_key_json",
        "_entries",
        "_limits_for",
        "_secret",
        "_warned",
        "app_key",
        "check_region",
        "clock_offset",
        "codes",
        "decoder",
        "hooks",
        "max_body_bytes",
        "policy",
        "region",
        "throttle",
        "transport",
        "types",
    )

    def __init__(
        self,
        *,
        app_key: str,
        secret: Secret,
        region: str,
        check_region: bool,
        types: Mapping[str, TypeSpec],
        codes: Mapping[int, ErrorCode],
        throttle: Throttle,
        transport: Transport,
        policy: RetryPolicy,
        limits_for: Callable[[str, TypeSpec | None], tuple[Limit, ...]],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app_key = app_key
        self._app_key_json = msgspec.json.encode(app_key)
        self._secret = secret
        self.region = region
        self.check_region = check_region
        self.types = types
        self.codes = codes
        self.throttle = throttle
        self.transport = transport
        self.policy = policy
        self._limits_for = limits_for
        self.max_body_bytes = max_body_bytes
        self.decoder = EnvelopeDecoder(codes, types)
        self.clock_offset = 0.0
        """Seconds to add to the local clock to match the gateway's (set on 3000011/12)."""
        self._entries: dict[str, TypeEntry] = {}
        self._warned: set[str] = set()
        self.hooks: Hooks | None = None
        """The app's event hooks (events.py); None when nobody listens."""

    # --- prepare ---------------------------------------------------------------------------

    def entry(self, type_name: str) -> TypeEntry:
        found = self._entries.get(type_name) if type(type_name) is str else None
        if found is not None:
            return found
        check_type_name(type_name)
        spec = self.types.get(type_name)
        if spec is not None:
            self._check_spec(spec)
        entry = TypeEntry(spec, self._limits_for(type_name, spec))
        self._entries[type_name] = entry
        return entry

    def _check_spec(self, spec: TypeSpec) -> None:
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

    def prepare(
        self, type_name: str, params: Mapping[str, Any], options: CallOptions
    ) -> tuple[TypeEntry, dict[str, bytes]]:
        entry = self.entry(type_name)
        business = prepare_params(
            entry.plan,
            params,
            api_type=type_name,
            allow_unknown=options.allow_unknown,
            max_body_bytes=self.max_body_bytes,
        )
        return entry, business

    # --- send ------------------------------------------------------------------------------

    def sign_body(self, type_name: str, token: str, business: Mapping[str, bytes]) -> bytes:
        """Stamp the time, sign, and lay out the body (right before it is sent)."""
        timestamp = int(time.time() + self.clock_offset)
        fields: dict[str, bytes] = {
            "type": msgspec.json.encode(type_name),
            "app_key": self._app_key_json,
            "access_token": msgspec.json.encode(token),
            "timestamp": str(timestamp).encode(),
            "data_type": _JSON,
        }
        fields.update(business)
        fields["sign"] = b'"' + sign_encoded(fields.items(), self._secret.reveal()).encode() + b'"'
        return build_body(fields)

    # --- the whole request -----------------------------------------------------------------

    def run(
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
        """The call's one coroutine (a queued call holds this frame and its caller's,
        not one per layer). ``scopes``: the token's granted types, when known."""
        opts = DEFAULT_OPTIONS if options is None else options
        # Events are built only when someone listens (events.py); otherwise the call
        # pays this one ``is None`` test.
        hooks = self.hooks
        if hooks is None:
            return self._run(type_name, params, token, tenant, result_type, opts, scopes, None)
        return self._run_watched(hooks, type_name, params, token, tenant, result_type, opts, scopes)

    async def _run_watched(
        self,
        hooks: Hooks,
        type_name: str,
        params: Mapping[str, Any],
        token: str,
        tenant: str,
        result_type: Any,
        opts: CallOptions,
        scopes: frozenset[str] | None,
    ) -> Any:
        watch = hooks.watch(type_name, tenant)
        try:
            result = await self._run(
                type_name, params, token, tenant, result_type, opts, scopes, watch
            )
        except BaseException as exc:
            watch.finished(exc)
            raise
        watch.finished(None)
        return result

    async def _run(
        self,
        type_name: str,
        params: Mapping[str, Any],
        token: str,
        tenant: str,
        result_type: Any,
        opts: CallOptions,
        scopes: frozenset[str] | None,
        watch: CallWatch | None,
    ) -> Any:
        if scopes is not None:
            check_scope(scopes, type_name, tenant)  # refused here, so hooks see it too
        entry, business = self.prepare(type_name, params, opts)
        limits = entry.limits
        policy = self.policy
        budget = policy.budget
        if budget is not None:
            budget.record_first()
        started = time.monotonic()
        retries = 0
        resynced = False
        while True:
            # Throttle.admit, inlined: a queued call is then this one frame.
            ticket = self.throttle.take(limits, tenant, max_wait=opts.max_wait)
            if isinstance(ticket, Slot):
                slot = ticket
            else:
                try:
                    slot = await ticket
                except asyncio.CancelledError:
                    ticket.abandon()
                    raise
            waited = slot.waited
            body = self.sign_body(type_name, token, business)
            if watch is not None:
                watch.sending(waited, len(body))
            answer: Answer | None = None
            try:
                answer = await self.transport.post(body, timeout=opts.timeout, slot=slot)
                result = self.decoder.decode(
                    type_name, result_type, answer.status, answer.body, answer.content_type
                )
            except TemuError as exc:
                error = exc
            else:
                if watch is not None:
                    watch.answered(answer)
                return result
            if watch is not None:
                watch.failed_attempt(error, answer)
            # decide
            history = History(
                retries=retries,
                resynced=resynced,
                elapsed=time.monotonic() - started,
                budget_left=budget is None or budget.can_spend(),
            )
            decision = decide(
                outcome_of(error, answer),
                entry.rules(params),
                history,
                policy.limits(patient=opts.patient, max_retries=opts.max_retries),
                self.codes,
            )
            action = decision.action
            if action is Action.RETRY and budget is not None:
                budget.spend()  # before any await: the check above must still hold
            if decision.push_back:
                await self.throttle.penalize(limits, policy.rate_limit_penalty)
            if action is Action.RESYNC:
                assert answer is not None and answer.server_time is not None
                self.clock_offset = answer.server_time - time.time()
                resynced = True
                log.warning(
                    "%s: gateway refused the timestamp (%s); clock offset now %+.1f s, re-signing",
                    type_name,
                    error.code,
                    self.clock_offset,
                )
                if watch is not None:
                    watch.retrying(error, 0.0, "clock")
                continue
            if action is Action.RETRY:
                delay = policy.jitter(decision.delay_cap)
                log.info(
                    "%s: %s; retry %d in %.2f s",
                    type_name,
                    type(error).__name__,
                    retries + 1,
                    delay,
                )
                if watch is not None:
                    watch.retrying(error, delay, "retry")
                retries += 1
                await asyncio.sleep(delay)
                continue
            final = error.named(type_name)
            if action is Action.UNKNOWN:
                raise OutcomeUnknown(
                    f"{type_name} may or may not have run ({type(error).__name__}: "
                    f"{error.message}); it was not sent again because it is not safe to repeat",
                    api_type=type_name,
                    request_id=error.request_id,
                    hint="check the effect (query the object) before sending it again",
                ) from final
            raise final


def outcome_of(error: TemuError, answer: Answer | None) -> Outcome:
    """The facts of a failed attempt, for :func:`~temu_async.decide.decide`."""
    if isinstance(error, ApiError):
        clock_known = (
            isinstance(error, TimestampError)
            and answer is not None
            and answer.server_time is not None
        )
        # An envelope that refuses without a code is an answer from the service.
        code = error.code if error.code is not None else 0
        return Outcome(code=code, clock_known=clock_known)
    if isinstance(error, HTTPStatusError):
        return Outcome(status=error.status)
    if isinstance(error, MalformedResponse):
        return Outcome(failure="malformed")
    if isinstance(error, ConnectError):
        return Outcome(status=0, failure="connect", reached=False)
    if isinstance(error, RequestTimeout):
        return Outcome(status=0, failure="timeout", reached=error.sent)
    if isinstance(error, TransportError):
        return Outcome(status=0, failure="dropped", reached=error.sent)
    if isinstance(error, ResponseDecodeError):
        return Outcome(failure="result")
    # Nothing else comes out of send and decode; if it did, it ran as far as anyone knows.
    return Outcome(status=0, failure="dropped")


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
