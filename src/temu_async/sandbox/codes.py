"""Gateway error codes and the exact messages the real gateway answers with.

Facts from the partner docs (通用错误码); the sandbox uses these strings so that
a client's error mapping is exercised against what Temu really sends.
"""

from __future__ import annotations

__all__ = ["GATEWAY_MESSAGES", "SUCCESS", "GatewayReject"]

SUCCESS = 1000000
BUSINESS_EXCEPTION = 2000000
BAD_PARAMS = 3000000
SIGN_INVALID = 3000001
NO_TYPE = 3000002
TYPE_UNKNOWN = 3000003
NO_TIMESTAMP = 3000010
TIMESTAMP_INVALID = 3000011
TIMESTAMP_EXPIRED = 3000012
NO_DATA_TYPE = 3000013
DATA_TYPE_INVALID = 3000014
NO_APP_KEY = 3000025
APP_KEY_UNKNOWN = 3000026
NO_ACCESS_TOKEN = 3000030
ACCESS_TOKEN_UNKNOWN = 3000031
TOKEN_NO_SCOPE = 3000032
TOKEN_APP_MISMATCH = 3000033
TOKEN_EXPIRED = 3000034
NO_SIGN = 3000040
SYSTEM_EXCEPTION = 4000000
RATE_LIMITED = 4000004
NOT_IN_IP_WHITE_LIST = 5000003

GATEWAY_MESSAGES: dict[int, str] = {
    SUCCESS: "SUCCESS",
    BUSINESS_EXCEPTION: "BUSINESS_EXCEPTION",
    BAD_PARAMS: "BAD_PARAMS",
    SIGN_INVALID: "SIGN_UNVALID",
    NO_TYPE: "there is no type in body.",
    TYPE_UNKNOWN: "type not exists",
    NO_TIMESTAMP: "there is no timestamp in body.",
    TIMESTAMP_INVALID: "timestamp is invalid.",
    TIMESTAMP_EXPIRED: "timestamp is expired.",
    NO_DATA_TYPE: "there is no data_type in body.",
    DATA_TYPE_INVALID: "data_type is invalid",
    NO_APP_KEY: "there is no app_key in body.",
    APP_KEY_UNKNOWN: "app_key not exists.",
    NO_ACCESS_TOKEN: "there is no access_token in body.",
    ACCESS_TOKEN_UNKNOWN: "access_token not exists.",
    TOKEN_NO_SCOPE: (
        "access_token don't have this api access, please ask for seller to authorize this api "
        "in seller center first，and share the new access_token with you."
    ),
    TOKEN_APP_MISMATCH: "access_token and app_key are not mapping.",
    TOKEN_EXPIRED: (
        "access_token is expired or have been refreshed, please contact seller to share the "
        "new access_token with you."
    ),
    NO_SIGN: "there is no sign in body.",
    SYSTEM_EXCEPTION: "SYSTEM_EXCEPTION",
    RATE_LIMITED: "RATE_LIMIT_EXCEED_EXCEPTION",
    NOT_IN_IP_WHITE_LIST: "NOT_IN_IP_WHITE_LIST",
}


class GatewayReject(Exception):
    """A request refused with an error envelope (HTTP 200, ``success: false``)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else GATEWAY_MESSAGES.get(code, "ERROR")
        super().__init__(f"{code}: {self.message}")


class BusinessError(GatewayReject):
    """A type-specific refusal: the request was executed and the business said no."""
