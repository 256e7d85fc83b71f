"""Decode: the gateway's answer (status + bytes) into the result, or the typed error.

Nothing here sends or waits; give it bytes and it answers, which is how its tests and
fuzzers drive it. The envelope is decoded straight into the caller's result model
(a generated Struct, or plain data). When the gateway's result differs from the
documented types in a way no information is lost (a number documented as text), the
plain data is conformed to the catalogue and decoded again, logged once per type.

Every error is built once, complete: its class from the code's category, its
``retryable`` flag from the same data the retry decision reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from temu_async.conform import conform
from temu_async.decide import SUCCESS
from temu_async.errors import (
    ApiError,
    HTTPStatusError,
    MalformedResponse,
    ResponseDecodeError,
    error_from_response,
)
from temu_async.wire import Envelope

if TYPE_CHECKING:
    from temu_async.catalogue import ErrorCode, TypeSpec

__all__ = ["EnvelopeDecoder"]

log = logging.getLogger("temu_async")


class EnvelopeDecoder:
    """Decodes answers for one app's catalogue (its codes and types)."""

    __slots__ = ("_codes", "_decoders", "_types", "conformed")

    def __init__(self, codes: Mapping[int, ErrorCode], types: Mapping[str, TypeSpec]) -> None:
        self._codes = codes
        self._types = types
        self._decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
        self.conformed: set[str] = set()
        """Types whose answers needed the lossless fallback (each is logged once)."""

    def decode(
        self,
        api_type: str,
        result_type: Any,
        status: int,
        body: bytes,
        content_type: str = "",
    ) -> Any:
        """The ``result`` of a successful answer, or raise the error it stands for."""
        if status != 200:
            raise HTTPStatusError(status, api_type=api_type)
        decoder = self._decoders.get(result_type)
        if decoder is None:
            decoder = msgspec.json.Decoder(Envelope[result_type])  # type: ignore[valid-type]
            self._decoders[result_type] = decoder
        try:
            env = decoder.decode(body)
        except msgspec.ValidationError as exc:
            return self._mismatch(api_type, result_type, body, content_type, exc)
        except msgspec.DecodeError:
            raise _not_json(body, content_type, api_type) from None
        except RecursionError:
            raise _too_deep(api_type) from None
        if env.success is None:
            raise _not_envelope(api_type)
        if env.success and env.errorCode in (None, SUCCESS):
            return env.result
        raise self.api_error(env.errorCode, env.errorMsg, api_type, env.requestId)

    def api_error(
        self, code: int | None, message: str | None, api_type: str, request_id: str | None
    ) -> ApiError:
        spec = self._types.get(api_type)
        return error_from_response(
            code,
            message,
            api_type=api_type,
            request_id=request_id,
            codes=self._codes,
            retryable_errors=spec.retryable_errors if spec is not None else (),
        )

    def _mismatch(
        self, api_type: str, result_type: Any, body: bytes, content_type: str, exc: Exception
    ) -> Any:
        try:
            # The typed decoder can fail on the shape before it meets broken JSON later on
            # (``[`` is "not an object" before it is "truncated").
            raw = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise _not_json(body, content_type, api_type) from None
        except RecursionError:
            raise _too_deep(api_type) from None
        if not isinstance(raw, dict) or "success" not in raw:
            raise _not_envelope(api_type)
        code = raw.get("errorCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        request_id = raw.get("requestId") if isinstance(raw.get("requestId"), str) else None
        # The same rule as the typed path: success only when it says so and no code
        # other than SUCCESS contradicts it.
        if raw.get("success") is not True or code not in (None, SUCCESS):
            raise self.api_error(code, str(raw.get("errorMsg") or ""), api_type, request_id)
        spec = self._types.get(api_type)
        if spec is not None and spec.response is not None:
            try:
                value = msgspec.convert(
                    conform(spec.response, raw.get("result")), result_type, strict=False
                )
            except msgspec.ValidationError:
                pass
            else:
                if api_type not in self.conformed:
                    self.conformed.add(api_type)
                    log.warning(
                        "%s: the gateway's result differs from the documented types (%s); "
                        "converted losslessly. Please report it so the catalogue is fixed.",
                        api_type,
                        exc,
                    )
                return value
        raise ResponseDecodeError(
            f"the result does not match the catalogue's model ({exc}); the plain data is in .raw",
            raw=raw.get("result"),
            api_type=api_type,
            request_id=request_id,
        ) from None


def _not_json(body: bytes, content_type: str, api_type: str) -> MalformedResponse:
    head = body[:40].decode("utf-8", "replace")
    return MalformedResponse(
        f"the answer is not JSON (Content-Type {content_type or 'none'}, starts with {head!r})",
        api_type=api_type,
    )


def _too_deep(api_type: str) -> MalformedResponse:
    # msgspec refuses nesting deeper than the interpreter's recursion limit.
    return MalformedResponse("the answer is nested too deeply to decode", api_type=api_type)


def _not_envelope(api_type: str) -> MalformedResponse:
    return MalformedResponse("the answer is JSON but not Temu's envelope", api_type=api_type)
