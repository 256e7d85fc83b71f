"""Seller authorisation: turn a callback ``code`` into a token, and know what a token allows.

The flow (PROTOCOL.md, OAuth): the seller authorises the app in Seller Center and is
redirected to the app's ``redirect_url`` with ``?code=...``. The code is single-use
and expires in ten minutes; ``bg.open.accesstoken.create`` exchanges it for an
access token, the shop's ``mallId``, the list of API types the token may call
(``apiScopeList``) and its expiry. On that first call the code also stands in for
the access token.

A :class:`TokenInfo` lets a client refuse, before sending, a type the seller has not
granted (``app.shop(token, scopes=info.scopes)``) and warns as the token nears expiry.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import msgspec

from temu_async.errors import ScopeError

if TYPE_CHECKING:
    from temu_async._generated.auth import AuthCreateTokenResult, AuthTokenInfoResult
    from temu_async.client import ShopClient, TemuApp

__all__ = ["TokenExpiryWarning", "TokenInfo", "exchange_code", "fetch_token_info"]

log = logging.getLogger("temu_async")

CREATE_TYPE = "bg.open.accesstoken.create"
INFO_TYPE = "bg.open.accesstoken.info.get"
DEFAULT_WARN_BEFORE = 7 * 24 * 3600.0


class TokenExpiryWarning(UserWarning):
    """A shop's access token expires soon: the seller must re-authorise before then."""


@dataclass(frozen=True)
class TokenInfo:
    """What Temu says about one access token (from token create or token info)."""

    mall_id: int | None
    scopes: frozenset[str]
    """The API types this token may call (``apiScopeList``)."""
    expires_at: float | None
    """Unix seconds (``expiredTime``); None when Temu did not say."""
    subscribed_events: tuple[str, ...] = ()
    region_id: int | None = None
    mall_type: int | None = None
    access_token: str | None = field(default=None, repr=False)
    """Only set by :func:`exchange_code`: the new token. Never shown in reprs."""

    @classmethod
    def from_result(cls, result: AuthCreateTokenResult | AuthTokenInfoResult) -> TokenInfo:
        """Build from the result Struct of token create or token info.

        Plain data (the wire names, as ``shop.call`` returns them) is still read, through
        the token-create Struct, with a DeprecationWarning: pass the typed result.
        """
        from temu_async._generated.auth import AuthCreateTokenResult

        if isinstance(result, Mapping):
            warnings.warn(
                "TokenInfo.from_result with plain data is deprecated: pass the result of "
                "shop.auth.token_info() or shop.auth.create_token()",
                DeprecationWarning,
                stacklevel=2,
            )
            # The create result is the info result plus the new token: read it as that.
            result = msgspec.convert(result, AuthCreateTokenResult, strict=False)
        access_token = result.access_token if isinstance(result, AuthCreateTokenResult) else None
        expires = result.expired_time
        return cls(
            mall_id=result.mall_id,
            scopes=frozenset(result.api_scope_list or ()),
            expires_at=float(expires) if expires else None,
            subscribed_events=tuple(result.app_subscribe_event_code_list or ()),
            region_id=result.region_id,
            mall_type=result.mall_type,
            access_token=access_token,
        )

    def allows(self, type_name: str) -> bool:
        return type_name in self.scopes

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds until expiry (negative once expired), or None if unknown."""
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    @property
    def expires_at_datetime(self) -> datetime | None:
        if self.expires_at is None:
            return None
        return datetime.fromtimestamp(self.expires_at, tz=timezone.utc)


async def exchange_code(app: TemuApp, code: str) -> TokenInfo:
    """Exchange a seller's one-time authorisation code for a token (``bg.open.accesstoken.create``).

    Raises the usual errors; a used or stale code is a ``BusinessError`` with Temu's
    code 110020002 ("Invalid code"): ask the seller to authorise again.
    """
    if not isinstance(code, str) or not code.strip():
        raise ValueError("code must be the non-empty value of the callback's ?code= parameter")
    # On this first call the code stands in for the access token (Temu's docs).
    shop = app.shop(code.strip(), name="authorisation-code")
    info = TokenInfo.from_result(await shop.auth.create_token(code=code.strip()))
    warn_if_expiring(info, name=f"mall {info.mall_id}")
    return info


async def fetch_token_info(shop: ShopClient) -> TokenInfo:
    """What the shop's own token allows (``bg.open.accesstoken.info.get``)."""
    info = TokenInfo.from_result(await shop.auth.token_info())
    warn_if_expiring(info, name=shop.name)
    return info


def warn_if_expiring(
    info: TokenInfo, *, name: str, warn_before: float = DEFAULT_WARN_BEFORE
) -> bool:
    """Warn (once per call) when the token expires within ``warn_before`` seconds."""
    left = info.expires_in()
    if left is None or left > warn_before:
        return False
    when = info.expires_at_datetime
    text = (
        f"the access token of {name} expired at {when:%Y-%m-%d %H:%M} UTC"
        if left <= 0
        else f"the access token of {name} expires in {left / 86400:.1f} days ({when:%Y-%m-%d} UTC)"
    )
    text += "; the seller must re-authorise the app to issue a new one"
    log.warning(text)
    warnings.warn(text, TokenExpiryWarning, stacklevel=3)
    return True


def check_scope(scopes: Iterable[str] | None, type_name: str, shop_name: str) -> None:
    """Refuse locally a type the token was not granted (only when scopes are known)."""
    if scopes is None or type_name in scopes:
        return
    raise ScopeError(
        f"{type_name} is not in the apiScopeList of {shop_name}'s token",
        api_type=type_name,
        hint="the seller must grant the permission package that includes it "
        "(re-authorise the app in Seller Center) and share the new token",
    )
