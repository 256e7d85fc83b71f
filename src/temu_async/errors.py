"""Every failure the SDK reports, as one exception family.

Temu answers errors inside HTTP 200 with ``errorCode``/``errorMsg``; which class a
code becomes is data (the ``category`` of each gateway code in ``spec/gateway.yaml``),
so a new code needs a catalogue line, not a code change. Codes the catalogue does
not list (most type-specific ones) are :class:`BusinessError`.

Exceptions carry the code, the server's message, the API type and the request id,
and never a secret: nothing here ever sees the app secret, token or signature.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from temu_async.decide import TypeRules, code_meaning, status_meaning

if TYPE_CHECKING:
    from temu_async.catalogue import ErrorCode

__all__ = [
    "ApiError",
    "AppKeyError",
    "AuthError",
    "BusinessError",
    "ConnectError",
    "EnvironmentRestricted",
    "HTTPStatusError",
    "MalformedResponse",
    "OutcomeUnknown",
    "ParamError",
    "RateLimited",
    "RequestTimeout",
    "ResponseDecodeError",
    "ScopeError",
    "ServerError",
    "SignatureError",
    "TemuError",
    "ThrottleTimeout",
    "TimestampError",
    "TokenError",
    "TransportError",
    "UnknownTypeError",
    "error_from_response",
]


_E = TypeVar("_E", bound="TemuError")


class TemuError(Exception):
    """Base of every error temu-async raises.

    ``retryable`` says whether sending the same request again later may succeed (the
    same data the client's retry decision reads); it is set when the error is built.
    """

    code: int | None = None
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        api_type: str | None = None,
        request_id: str | None = None,
        hint: str = "",
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.api_type = api_type
        self.request_id = request_id
        self.hint = hint

    def named(self: _E, api_type: str) -> _E:
        """This error as raised by a call of ``api_type``: a new, complete copy.

        Transport failures are raised below the level that knows the type; the copy
        carries it, so a sync's "stopped: ..." line says which call failed, and the
        original is never changed after it was raised.
        """
        if self.api_type == api_type:
            return self
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.args = self.args
        twin.api_type = api_type
        return twin

    def __str__(self) -> str:
        head = f"{self.code} {self.message}" if self.code is not None else self.message
        where = ", ".join(
            part
            for part in (self.api_type, self.request_id and f"request {self.request_id}")
            if part
        )
        text = f"{head} [{where}]" if where else head
        return f"{text}: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


# --- raised before anything is sent ------------------------------------------------------


class ThrottleTimeout(TemuError):
    """The rate limiter could not grant a slot within the allowed wait."""


# --- the gateway answered with an error code ---------------------------------------------


class ApiError(TemuError):
    """The gateway refused the request (``success: false``)."""


class ParamError(ApiError, ValueError):
    """A param breaks a rule: found locally before sending, or reported as 3000000.

    ``param`` is the dotted wire path (``sendRequestList[0].carrierId``) when known.
    """

    def __init__(
        self,
        param: str | None,
        rule: str,
        *,
        code: int | None = None,
        api_type: str | None = None,
        request_id: str | None = None,
        hint: str = "",
        retryable: bool | None = None,
    ) -> None:
        self.param = param
        self.rule = rule
        self.local = code is None
        message = f"param {param}: {rule}" if param else rule
        super().__init__(
            message,
            code=code,
            api_type=api_type,
            request_id=request_id,
            hint=hint,
            retryable=retryable,
        )


class SignatureError(ApiError):
    """The gateway could not verify the signature (wrong app_secret, or altered bytes)."""


class UnknownTypeError(ApiError):
    """The API type is missing, unknown to the gateway, or retired."""


class TimestampError(ApiError):
    """The timestamp is missing, malformed, or outside the gateway's ±300 s window."""


class AuthError(ApiError):
    """Credentials are wrong, missing, expired or lack permission."""


class AppKeyError(AuthError):
    """The app_key is missing, unknown, suspended or not allowed to call this type."""


class TokenError(AuthError):
    """The access_token is missing, unknown, not for this app_key, or expired."""


class ScopeError(AuthError):
    """The token's authorisation does not include this API type."""


class RateLimited(ApiError):
    """The gateway rejected the call for exceeding a rate limit; it was not executed."""

    retryable = True


class ServerError(ApiError):
    """Temu's side failed (system exception, RPC not found); often transient."""

    retryable = True


class EnvironmentRestricted(ApiError):
    """The call is refused for where it comes from (IP whitelist, staging, upload route)."""


class BusinessError(ApiError):
    """The business service refused the request; the message says why."""


# --- the exchange itself failed ----------------------------------------------------------


class TransportError(TemuError):
    """No usable answer came back. ``sent`` says whether the gateway may have run it."""

    retryable = True

    def __init__(self, message: str, *, sent: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent


class ConnectError(TransportError):
    """The connection could not be made; the request never left this process."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, sent=False, **kwargs)


class RequestTimeout(TransportError):
    """No complete answer in time; the gateway may or may not have run the request."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, sent=True, **kwargs)


class HTTPStatusError(TransportError):
    """The gateway answered with an HTTP error status instead of the JSON envelope."""

    def __init__(self, status: int, **kwargs: Any) -> None:
        # ``sent`` stays True (the gateway got the bytes); whether it ran is the
        # status's meaning: a 413 or 429 is a refusal before anything ran.
        kwargs.setdefault("retryable", status_meaning(status).retryable)
        super().__init__(f"HTTP {status} from the gateway", sent=True, **kwargs)
        self.status = status


class MalformedResponse(TransportError):
    """The body was not the JSON envelope (an HTML error page, truncated JSON, ...)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, sent=True, **kwargs)


class ResponseDecodeError(TemuError):
    """The call succeeded but its result does not fit the catalogue's model.

    ``raw`` holds the result as plain data so the caller can carry on; please report
    the mismatch so the catalogue can be fixed.
    """

    def __init__(self, message: str, *, raw: Any, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.raw = raw


class OutcomeUnknown(TemuError):
    """A write that is not safe to repeat failed in a way that hides whether it ran.

    It was not retried. Check the effect (e.g. query the order or price) before
    sending it again. ``__cause__`` is the underlying failure.
    """


_CATEGORY_CLASSES: dict[str, type[ApiError]] = {
    "business": BusinessError,
    "params": ParamError,
    "signature": SignatureError,
    "type": UnknownTypeError,
    "timestamp": TimestampError,
    "app": AppKeyError,
    "token": TokenError,
    "scope": ScopeError,
    "system": ServerError,
    "rate_limited": RateLimited,
    "environment": EnvironmentRestricted,
}


def error_from_response(
    code: int | None,
    server_message: str | None,
    *,
    api_type: str,
    request_id: str | None,
    codes: Mapping[int, ErrorCode],
    retryable_errors: Collection[int] = (),
) -> ApiError:
    """Build the exception for a ``success: false`` envelope, by the code's category.

    ``retryable_errors`` are the called type's own "try again later" codes.
    """
    known = codes.get(code) if code is not None else None
    message = server_message or (known.message if known else "") or "no message"
    hint = known.hint if known else ""
    cls = _CATEGORY_CLASSES.get(known.category, BusinessError) if known else BusinessError
    retryable = (
        code_meaning(code, TypeRules(False, frozenset(retryable_errors)), codes).retryable
        if code is not None
        else False
    )
    if cls is ParamError:
        return ParamError(
            None,
            message,
            code=code,
            api_type=api_type,
            request_id=request_id,
            hint=hint,
            retryable=retryable,
        )
    return cls(
        message,
        code=code,
        api_type=api_type,
        request_id=request_id,
        hint=hint,
        retryable=retryable,
    )
