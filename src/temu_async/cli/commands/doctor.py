"""``temu-async doctor``: is this machine set up to call Temu? One line per check, with the fix.

Exit status 0 when nothing failed (warnings allowed), 1 when a check failed; ``--json``
prints the same findings as one JSON object for CI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import aiohttp

from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.diagnosis import (
    Finding,
    check_clock,
    check_gateway,
    check_redis,
    check_shop,
    wanted_types,
)
from temu_async.cli.flags import add_connection_flags, add_token_env_flags
from temu_async.cli.settings import ConfigError, Settings, load_settings
from temu_async.cli.values import finite
from temu_async.transport import REGION_URLS

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--types", nargs="+", default=[], metavar="TYPE", help="API types the token must allow"
    )
    p.add_argument(
        "--groups",
        nargs="+",
        default=[],
        metavar="GROUP",
        help="groups whose every type the token must allow (e.g. order goods)",
    )
    p.add_argument("--shop", action="append", metavar="NAME", help="only this shop (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout, for CI")
    p.add_argument(
        "--timeout", type=finite(0, above=True), default=10.0, help="seconds per request (10)"
    )
    add_token_env_flags(p)
    add_connection_flags(p)


async def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise ConfigError("--timeout must be > 0 seconds")
    try:
        wanted = wanted_types(args.types, args.groups)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    findings = await diagnose(args, wanted)
    failed = any(f.status == "fail" for f in findings)
    if args.json:
        json.dump(
            {"ok": not failed, "checks": [f.as_dict() for f in findings]}, sys.stdout, indent=2
        )
        sys.stdout.write("\n")
    else:
        for f in findings:
            line = f"{_MARK[f.status]}  {f.check}: {f.detail}"
            if f.fix and f.status in ("fail", "warn"):
                line += f"\n      fix: {f.fix}"
            print(line)
        print("doctor: " + ("some checks FAILED" if failed else "all checks passed"))
    return 1 if failed else 0


async def diagnose(args: argparse.Namespace, wanted: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    try:
        s = load_settings(args)
    except ConfigError as exc:
        return [Finding("config", "fail", str(exc), "see `temu-async --help` for the variables")]
    findings.append(check_gateway(s))
    url = s.base_url or REGION_URLS[s.region]
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        clock, offset = await check_clock(session, url)
    findings.append(clock)
    if args.redis:
        findings.append(await check_redis(args.redis, timeout=min(args.timeout, 5.0)))
    findings.extend(await _shops(args, s, url, wanted, offset))
    return findings


async def _shops(
    args: argparse.Namespace,
    s: Settings,
    url: str,
    wanted: dict[str, str],
    offset: float | None,
) -> list[Finding]:
    if offset is None:
        return [Finding("credentials", "skip", "the gateway did not answer")]
    try:
        app = make_app(s, args)
    except ConfigError as exc:
        return [Finding("config", "fail", str(exc), "see `temu-async --help` for the variables")]
    async with app:
        try:
            shops = pick_shops(app, s, args.shop)
        except ConfigError as exc:
            return [Finding("config", "fail", str(exc), "see `temu-async --help`")]
        # Expiry is judged by the gateway's clock, which is the one that refuses the token.
        now = time.time() + offset
        out: list[Finding] = []
        for shop in shops:
            out += await check_shop(shop, url=url, region=s.region, wanted=wanted, now=now)
    # One refusal of this machine's address is said once, not once per shop.
    out = [f for i, f in enumerate(out) if f not in out[:i]]
    passed = any(f.check.startswith("credentials") and f.status == "ok" for f in out)
    if passed and not any(f.check == "ip whitelist" for f in out):
        out.append(Finding("ip whitelist", "ok", "the gateway accepts calls from this machine"))
    return out
