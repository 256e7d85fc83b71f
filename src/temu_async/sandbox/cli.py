"""``temu-async sandbox``: run the sandbox standalone and print how to reach it.

The CLI owner wires :func:`add_arguments` and :func:`serve` into a subcommand.
The printout contains the app secret and tokens: they are the sandbox's own,
made up, and printing them is the point (a local tool needs them to connect).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from typing import Any, TextIO

from ..catalogue import Catalogue
from .catalogue_source import load_catalogue
from .config import SandboxConfig
from .credentials import SandboxCredentials
from .faults import FaultSpec
from .server import Sandbox

__all__ = ["add_arguments", "config_from_args", "describe", "export_lines", "serve"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--apps", type=int, default=1, help="apps (app_key/app_secret) to seed")
    parser.add_argument("--shops", type=int, default=2, help="shops per app")
    parser.add_argument(
        "--orders", type=int, default=200, help="orders per shop over the last 30 days"
    )
    parser.add_argument("--goods", type=int, default=12, help="goods per shop")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="random extra latency, up to")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests/s per app_key")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data and faults")
    parser.add_argument(
        "--catalogue", default=None, help="catalogue.json (default: the generated one)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the credentials as one JSON object"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a self-signed certificate made at start (printed, to trust)",
    )
    parser.add_argument(
        "--price-review-seconds",
        type=int,
        default=0,
        help="keep a seller's price change under review this long (default 0: approve at once)",
    )
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="POST order status changes here as Temu's signed, encrypted webhooks",
    )


def config_from_args(args: argparse.Namespace, catalogue: Catalogue | None = None) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed,
        apps=args.apps,
        shops=args.shops,
        orders=args.orders,
        goods=args.goods,
        host=args.host,
        port=args.port,
        rate_limit=args.rate_limit,
        faults=FaultSpec(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms),
        catalogue=catalogue or load_catalogue(args.catalogue),
        webhook_url=getattr(args, "webhook_url", None),
        tls=getattr(args, "tls", False),
        price_review_seconds=getattr(args, "price_review_seconds", 0),
    )


def _as_dict(creds: SandboxCredentials) -> dict[str, Any]:
    return {
        "url": creds.url,
        "apps": [
            {
                "app_key": a.app_key,
                "app_secret": a.app_secret,
                "shops": [
                    {
                        "mall_id": s.mall_id,
                        "access_token": s.access_token,
                        "expires_at": s.expires_at,
                        "region_id": s.region_id,
                        "scopes": len(s.scopes),
                        "auth_codes": list(s.auth_codes),
                    }
                    for s in a.shops
                ],
            }
            for a in creds.apps
        ],
    }


def export_lines(creds: SandboxCredentials) -> list[str]:
    """Shell lines that point ``temu-async`` at this sandbox: its URL, the first app, its shops.

    Shops are named ``mall-<mall_id>`` (``--shop mall-...`` picks one). The sandbox
    answers every region's types; ``global`` is only what the client checks types
    against (``--region us`` for a type the catalogue lists in the US alone).
    """
    app = creds.apps[0]
    tokens = ",".join(f"mall-{s.mall_id}={s.access_token}" for s in app.shops)
    values = {
        "TEMU_BASE_URL": creds.url,
        "TEMU_REGION": "global",
        "TEMU_APP_KEY": app.app_key,
        "TEMU_APP_SECRET": app.app_secret,
        "TEMU_ACCESS_TOKENS": tokens,
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def describe(sandbox: Sandbox, as_json: bool = False) -> str:
    data = _as_dict(sandbox.credentials)
    cert = sandbox.cert_pem.decode("ascii") if sandbox.cert_pem is not None else None
    if as_json:
        return json.dumps({**data, "cert_pem": cert} if cert is not None else data)
    lines = [
        f"Temu sandbox listening: {data['url']}",
        f"rate limit: {sandbox.rate_limit}/s per app_key",
    ]
    if sandbox.webhooks.url is not None:
        lines.append(f"webhooks:  {', '.join(sandbox.webhooks.events)} -> {sandbox.webhooks.url}")
    for app in data["apps"]:
        lines.append(f"app_key    {app['app_key']}")
        lines.append(f"app_secret {app['app_secret']}")
        for shop in app["shops"]:
            lines.append(
                f"  mall_id {shop['mall_id']}  access_token {shop['access_token']}"
                f"  expires {shop['expires_at']}  scopes {shop['scopes']} types"
            )
            for code in shop["auth_codes"]:
                lines.append(f"    auth code (single use, 10 min) {code}")
    if cert is not None:
        lines.append("TLS certificate (self-signed; trust it, e.g. ssl cafile):")
        lines.append(cert.rstrip())
    lines.append("")
    first = " (the first app)" if len(data["apps"]) > 1 else ""
    lines.append(f"# point temu-async at this sandbox{first}: paste into your shell")
    lines += export_lines(sandbox.credentials)
    return "\n".join(lines)


async def serve(args: argparse.Namespace, out: TextIO | None = None) -> None:
    """Run until cancelled (Ctrl-C), after printing the URL and credentials."""
    stream = out or sys.stdout
    async with Sandbox(config_from_args(args)) as sandbox:
        print(describe(sandbox, as_json=args.json), file=stream, flush=True)
        await asyncio.Event().wait()
