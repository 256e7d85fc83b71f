"""Token types: exchange an authorization code, describe the current token."""

from __future__ import annotations

from typing import Any

from ..codes import BusinessError
from ..models import Token
from .base import Call

__all__ = ["HANDLERS"]

EVENTS = [
    "bg_open_event_test",
    "bg_order_status_change_event",
    "bg_trade_logistics_address_changed",
    "bg_aftersales_status_change",
    "bg_cancel_order_status_change",
]


def _info(call: Call, token: Token) -> dict[str, Any]:
    return {
        "regionId": call.world.shops[token.mall_id].region_id,
        "mallId": token.mall_id,
        "mallType": 1,
        "appSubscribeEventCodeList": list(EVENTS),
        "appSubscribeStatus": 0,
        "authEventCodeList": [],
        "expiredTime": token.expires_at,
        "apiScopeList": sorted(token.scopes),
    }


def token_create(call: Call) -> dict[str, Any]:
    code = call.body.get("code")
    if not isinstance(code, str) or not code:
        raise BusinessError(110020002, "Invalid code, please check and try again.")
    token = call.world.exchange_code(call.app_key, code, call.now)
    result = _info(call, token)
    result["accessToken"] = token.access_token
    result["associatedMallTokenList"] = []
    return result


def token_info(call: Call) -> dict[str, Any]:
    assert call.token is not None
    return _info(call, call.token)


HANDLERS = {
    "bg.open.accesstoken.create": token_create,
    "bg.open.accesstoken.info.get": token_info,
}
