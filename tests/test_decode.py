"""The decode step from bytes alone: no server, no app, no event loop."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from temu_async import catalogue as model
from temu_async.catalogue import TypeSpec
from temu_async.decode import EnvelopeDecoder
from temu_async.errors import (
    BusinessError,
    HTTPStatusError,
    MalformedResponse,
    RateLimited,
    ServerError,
    TemuError,
    TokenError,
)

READ = TypeSpec(
    type="bg.test.read",
    method="read",
    group="test",
    summary="A read.",
    idempotent=True,
    errors={150010005: "Try again later", 150010003: "Invalid"},
    retryable_errors=[150010005],
)
DECODER = EnvelopeDecoder(model.gateway_codes(), {READ.type: READ})


class Result(msgspec.Struct):
    total: int


def decode(body: bytes, status: int = 200, result_type: Any = Any) -> Any:
    return DECODER.decode("bg.test.read", result_type, status, body, "application/json")


def error(body: bytes, status: int = 200) -> TemuError:
    with pytest.raises(TemuError) as info:
        decode(body, status)
    assert info.value.api_type == "bg.test.read"
    return info.value


def test_success_decodes_into_the_result_model() -> None:
    body = b'{"success":true,"errorCode":1000000,"result":{"total":3,"x":1}}'
    assert decode(body, result_type=Result) == Result(total=3)


@pytest.mark.parametrize(
    ("body", "cls", "retryable"),
    [
        (b'{"success":false,"errorCode":4000004,"errorMsg":"r"}', RateLimited, True),
        (b'{"success":false,"errorCode":4000000,"errorMsg":"s"}', ServerError, True),
        (b'{"success":false,"errorCode":6000001,"errorMsg":"s"}', ServerError, False),
        (b'{"success":false,"errorCode":3000034,"errorMsg":"t"}', TokenError, False),
        (b'{"success":false,"errorCode":150010005,"errorMsg":"later"}', BusinessError, True),
        (b'{"success":false,"errorCode":150010003,"errorMsg":"bad"}', BusinessError, False),
        (b"<html>proxy error</html>", MalformedResponse, True),
        (b'{"success":true,"errorCode":1000000,"res', MalformedResponse, True),
        (b'{"not":"an envelope"}', MalformedResponse, True),
    ],
)
def test_errors_are_built_complete_from_the_bytes(
    body: bytes, cls: type[TemuError], retryable: bool
) -> None:
    err = error(body)
    assert type(err) is cls
    assert err.retryable is retryable


@pytest.mark.parametrize(("status", "retryable"), [(413, False), (429, True), (502, True)])
def test_http_statuses(status: int, retryable: bool) -> None:
    err = error(b"", status)
    assert isinstance(err, HTTPStatusError) and err.status == status
    assert err.retryable is retryable
