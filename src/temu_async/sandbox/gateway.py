"""The gateway's checks, in the order the real gateway makes them.

type -> app_key -> access_token (present, known, this app's, alive, in scope) ->
timestamp -> data_type -> sign. Each failure is a :class:`GatewayReject` with the
documented code and message. Rate limits and business params come after this
(see ``server.py``), because only an authenticated app_key can be counted.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..catalogue import TypeSpec
from . import codes
from .codes import GatewayReject
from .models import App, Token
from .signature import expected_sign
from .world import World

__all__ = ["TOKENLESS_TYPES", "Admitted", "check_request"]

TOKENLESS_TYPES = frozenset({"bg.open.accesstoken.create"})
"""Types called before the seller's token exists: the docs send the code as access_token,
so it must be present but is not looked up."""


@dataclass
class Admitted:
    spec: TypeSpec
    app: App
    token: Token | None


def _timestamp(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) == 10:
        return int(value)
    return None


def check_request(
    body: Mapping[str, Any],
    *,
    types: Mapping[str, TypeSpec],
    world: World,
    business_now: float,
    server_now: float,
    tolerance: int,
    require_data_type: bool,
) -> Admitted:
    type_name = body.get("type")
    if not isinstance(type_name, str) or not type_name:
        raise GatewayReject(codes.NO_TYPE)
    spec = types.get(type_name)
    if spec is None:
        raise GatewayReject(codes.TYPE_UNKNOWN)

    app_key = body.get("app_key")
    if not isinstance(app_key, str) or not app_key:
        raise GatewayReject(codes.NO_APP_KEY)
    app = world.apps.get(app_key)
    if app is None:
        raise GatewayReject(codes.APP_KEY_UNKNOWN)

    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise GatewayReject(codes.NO_ACCESS_TOKEN)
    token: Token | None = None
    if type_name not in TOKENLESS_TYPES:
        token = world.tokens.get(access_token)
        if token is None:
            raise GatewayReject(codes.ACCESS_TOKEN_UNKNOWN)
        if token.app_key != app_key:
            raise GatewayReject(codes.TOKEN_APP_MISMATCH)
        if token.revoked or business_now >= token.expires_at:
            raise GatewayReject(codes.TOKEN_EXPIRED)
        if type_name not in token.scopes:
            raise GatewayReject(codes.TOKEN_NO_SCOPE)

    if body.get("timestamp") is None:
        raise GatewayReject(codes.NO_TIMESTAMP)
    ts = _timestamp(body["timestamp"])
    if ts is None or ts > server_now + tolerance:
        raise GatewayReject(codes.TIMESTAMP_INVALID)
    if ts < server_now - tolerance:
        raise GatewayReject(codes.TIMESTAMP_EXPIRED)

    data_type = body.get("data_type")
    if data_type is None:
        if require_data_type:
            raise GatewayReject(codes.NO_DATA_TYPE)
    elif not isinstance(data_type, str) or data_type.lower() != "json":
        raise GatewayReject(codes.DATA_TYPE_INVALID)

    sign = body.get("sign")
    if not isinstance(sign, str) or not sign:
        raise GatewayReject(codes.NO_SIGN)
    if not hmac.compare_digest(sign.encode(), expected_sign(app.app_secret, body).encode()):
        raise GatewayReject(codes.SIGN_INVALID)
    return Admitted(spec=spec, app=app, token=token)
