"""The checks behind ``temu-async doctor``: each one a :class:`Finding` with the fix.

The problems every Temu client meets in its first week: an app key registered in
another region, a secret that is not the app's, a token issued to another app or
expired, a token without the permission package a type needs, a clock far from the
gateway's, a machine outside the app's IP whitelist, an unreachable Redis. Each is
told apart by the code the gateway answers ``bg.open.accesstoken.info.get`` with
(spec/gateway.yaml), or by the gateway's ``Date`` header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from temu_async import catalogue
from temu_async.cli.settings import Settings
from temu_async.cli.suggest import unknown_type_message
from temu_async.client import ShopClient
from temu_async.errors import (
    ConnectError,
    EnvironmentRestricted,
    RequestTimeout,
    ScopeError,
    SignatureError,
    TemuError,
    TimestampError,
    TransportError,
)
from temu_async.oauth import INFO_TYPE, TokenInfo
from temu_async.transport import REGION_URLS

__all__ = [
    "EXPIRY_WARN_DAYS",
    "SKEW_FAIL",
    "SKEW_WARN",
    "Finding",
    "check_clock",
    "check_gateway",
    "check_redis",
    "check_shop",
    "wanted_types",
]

Status = Literal["ok", "warn", "fail", "skip"]

EXPIRY_WARN_DAYS = 14
SKEW_WARN = 30.0
"""Seconds of clock difference worth a warning (webhook timestamps get tight)."""
SKEW_FAIL = 300.0
"""The gateway's tolerance: beyond it every signed request is refused (3000011/12)."""

# What each credential code says about the configuration, and what to change.
_CREDENTIAL_CODES: dict[int, tuple[str, str]] = {
    3000020: (
        "the gateway does not know this app key",
        "the app is registered in another region: try --region (us, eu, global), "
        "or check TEMU_APP_KEY",
    ),
    3000026: (
        "the gateway does not know this app key",
        "the app is registered in another region: try --region (us, eu, global), "
        "or check TEMU_APP_KEY",
    ),
    3000022: ("the app is suspended", "only Temu support can restore it"),
    3000028: ("the app is suspended", "only Temu support can restore it"),
    3000031: (
        "the gateway does not know this access token",
        "the shop is in another region (try --region), or the token was mistyped: "
        "copy it again from the authorisation",
    ),
    3000033: (
        "the access token was issued to another app",
        "use the token the seller authorised for this app key (or that app's key and secret)",
    ),
    5000000: (
        "the seller has not authorised this app",
        "ask the seller to authorise the app in Seller Center and share the new token",
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor's report."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def check_gateway(s: Settings) -> Finding:
    """The region and the gateway URL name the same place."""
    url = s.base_url or REGION_URLS[s.region]
    other = next(
        (r for r, u in REGION_URLS.items() if u.rstrip("/") == url.rstrip("/") and r != s.region),
        None,
    )
    if other is not None:
        return Finding(
            "gateway",
            "fail",
            f"region is {s.region} but the gateway URL is the {other} region's ({url})",
            f"set TEMU_REGION={other}, or unset TEMU_BASE_URL to use the {s.region} gateway",
        )
    where = "the region's gateway" if s.base_url is None else "a custom gateway (TEMU_BASE_URL)"
    return Finding("gateway", "ok", f"region {s.region}, {where} {url}")


async def check_clock(session: aiohttp.ClientSession, url: str) -> tuple[Finding, float | None]:
    """Compare the local clock with the gateway's ``Date`` header.

    Any answer carries the header, so an unsigned empty body is enough (the gateway
    refuses it before looking at credentials). Returns the finding and the offset
    (gateway minus local, seconds), None when the gateway could not be asked.
    """
    sent = time.time()
    try:
        async with session.post(url, data=b"{}", headers={"Content-Type": "application/json"}) as r:
            await r.read()
            date = r.headers.get("Date")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return (
            Finding(
                "clock",
                "fail",
                f"the gateway at {url} did not answer ({type(exc).__name__}: {exc})",
                "check the network, a proxy, and TEMU_BASE_URL/--base-url",
            ),
            None,
        )
    received = time.time()
    if date is None:
        return Finding("clock", "skip", "the gateway sent no Date header"), None
    try:
        gateway_now = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Finding("clock", "skip", f"the gateway's Date header is unreadable ({date!r})"), None
    # The header has whole seconds and was written somewhere inside the round trip.
    offset = gateway_now + 0.5 - (sent + received) / 2
    if abs(offset) < 1.5:  # the header's whole seconds cannot say more
        text = "local clock agrees with the gateway's (within 2 s)"
    else:
        side = "behind" if offset > 0 else "ahead of"
        text = f"local clock is {abs(offset):.0f} s {side} the gateway's"
    fix = "synchronise the clock (NTP: timedatectl set-ntp true, or chronyd)"
    if abs(offset) > SKEW_FAIL:
        return (
            Finding(
                "clock",
                "fail",
                f"{text}: beyond its {SKEW_FAIL:.0f} s tolerance, every signed request is "
                "refused once (3000011/3000012) before the client resyncs",
                fix,
            ),
            offset,
        )
    if abs(offset) > SKEW_WARN:
        return Finding("clock", "warn", text, fix), offset
    return Finding("clock", "ok", text), offset


def wanted_types(types: Sequence[str], groups: Sequence[str]) -> dict[str, str]:
    """Type name -> where it came from (``--types`` or ``group X``), checked against the
    catalogue; an unknown name is a ValueError saying the near names."""
    known = catalogue.types_by_name()
    out: dict[str, str] = {}
    for name in types:
        if name not in known:
            raise ValueError(f"--types: {unknown_type_message(name)}")
        out[name] = "--types"
    by_group: dict[str, list[str]] = {}
    for spec in known.values():
        by_group.setdefault(spec.group, []).append(spec.type)
    for group in groups:
        if group not in by_group:
            raise ValueError(
                f"--groups: no group {group!r} (known: {', '.join(sorted(g for g in by_group if g))})"
            )
        for name in sorted(by_group[group]):
            out.setdefault(name, f"group {group}")
    return out


async def check_shop(
    shop: ShopClient,
    *,
    url: str,
    region: str,
    wanted: dict[str, str],
    now: float,
) -> list[Finding]:
    """Credentials, token expiry and scopes of one shop, from one token-info call."""
    label = shop.name
    from temu_async._generated.auth import AuthTokenInfoResult

    try:
        # Not oauth.fetch_token_info: its expiry warning would repeat the line below.
        result = await shop.call(INFO_TYPE, {}, result_type=AuthTokenInfoResult, max_retries=1)
    except TemuError as exc:
        failed = _credential_failure(label, exc, url, region)
        return [failed, *(f for f in _skipped(label, wanted) if f.check != failed.check)]
    info = TokenInfo.from_result(result)
    findings = [
        Finding(
            f"credentials ({label})",
            "ok",
            f"app key, secret, token and region agree (mall {info.mall_id})",
        ),
        _expiry(label, info, now),
    ]
    if wanted:
        findings.append(_scopes(label, info, wanted))
    return findings


def _skipped(label: str, wanted: dict[str, str]) -> list[Finding]:
    out = [Finding(f"expiry ({label})", "skip", "unknown until the credentials pass")]
    if wanted:
        out.append(Finding(f"scopes ({label})", "skip", "unknown until the credentials pass"))
    return out


def _credential_failure(label: str, exc: TemuError, url: str, region: str) -> Finding:
    check = f"credentials ({label})"
    code = exc.code
    if isinstance(exc, SignatureError):
        return Finding(
            check,
            "fail",
            f"the gateway refused the signature ({code}): the app secret is not this app key's",
            "set TEMU_APP_SECRET to the secret shown with this app key in the partner console",
        )
    if code == 3000034:
        return Finding(
            f"expiry ({label})",
            "fail",
            "the access token has expired or was replaced (3000034)",
            "the seller must re-authorise the app in Seller Center and share the new token",
        )
    if code in _CREDENTIAL_CODES:
        what, fix = _CREDENTIAL_CODES[code]
        return Finding(check, "fail", f"{what} ({code}, region {region}, {url})", fix)
    if isinstance(exc, EnvironmentRestricted):
        fix = exc.hint or "see the code in spec/gateway.yaml"
        if code == 5000003:
            fix = (
                "add this machine's public IP address to the app's IP whitelist in the "
                "partner console (or call from a whitelisted host)"
            )
        return Finding(
            "ip whitelist" if code == 5000003 else f"environment ({label})",
            "fail",
            f"the gateway refused this caller ({code} {exc.message})",
            fix,
        )
    if isinstance(exc, TimestampError):
        return Finding(
            check,
            "fail",
            f"the gateway refused the timestamp even after a resync ({code})",
            "synchronise the clock (NTP)",
        )
    if isinstance(exc, (ConnectError, RequestTimeout, TransportError)):
        return Finding(
            check,
            "fail",
            f"no answer from {url} ({type(exc).__name__})",
            "check the network, a proxy, and TEMU_BASE_URL/--base-url",
        )
    if isinstance(exc, ScopeError):
        return Finding(
            check,
            "fail",
            f"the token may not even read its own info ({code})",
            "the seller must re-authorise the app with its permission packages",
        )
    return Finding(check, "fail", f"{type(exc).__name__}: {exc.message} ({code})", exc.hint)


def _expiry(label: str, info: TokenInfo, now: float) -> Finding:
    check = f"expiry ({label})"
    left = info.expires_in(now)
    when = info.expires_at_datetime
    if left is None or when is None:
        return Finding(check, "skip", "the gateway did not say when the token expires")
    renew = "the seller must re-authorise the app in Seller Center before then"
    if left <= 0:
        return Finding(
            check,
            "fail",
            f"the access token expired at {when:%Y-%m-%d %H:%M} UTC",
            "the seller must re-authorise the app in Seller Center and share the new token",
        )
    days = left / 86400
    if days <= EXPIRY_WARN_DAYS:
        return Finding(
            check,
            "warn",
            f"the access token expires in {days:.1f} days ({when:%Y-%m-%d} UTC)",
            renew,
        )
    return Finding(check, "ok", f"the access token is valid until {when:%Y-%m-%d} UTC")


def _scopes(label: str, info: TokenInfo, wanted: dict[str, str]) -> Finding:
    check = f"scopes ({label})"
    missing = [name for name in wanted if not info.allows(name)]
    if not missing:
        return Finding(check, "ok", f"the token may call all {len(wanted)} types asked about")
    known = catalogue.types_by_name()
    packages = sorted({scope for n in missing if n in known and (scope := known[n].scope)})
    shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    fix = "the seller must grant the permission package(s)"
    fix += f" {', '.join(packages)}" if packages else " that include them"
    fix += " (re-authorise the app in Seller Center) and share the new token"
    return Finding(
        check, "fail", f"{len(missing)} of {len(wanted)} types not granted: {shown}", fix
    )


def redact_url(url: str) -> str:
    """``url`` without a password (a Redis URL may carry one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


async def check_redis(url: str, timeout: float = 3.0) -> Finding:
    shown = redact_url(url)
    try:
        import redis.asyncio as aioredis
    except ImportError:
        return Finding(
            "redis",
            "fail",
            "the redis package is not installed",
            "pip install 'temu-async[redis]'",
        )
    try:
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
    except ValueError as exc:
        return Finding(
            "redis", "fail", f"{shown} is not a Redis URL ({exc})", "use redis://HOST:PORT/DB"
        )
    try:
        await client.ping()
    except Exception as exc:  # the redis package raises its own family and OSErrors
        return Finding(
            "redis",
            "fail",
            f"no answer from {shown} ({type(exc).__name__})",
            "start Redis, or fix --redis (host, port, password, TLS: rediss://)",
        )
    finally:
        await client.aclose()
    return Finding("redis", "ok", f"{shown} answers PING")
