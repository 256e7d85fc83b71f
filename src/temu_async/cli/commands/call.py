"""``temu-async call TYPE --params JSON``: one call, the result as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from temu_async import catalogue
from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.flags import add_connection_flags
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.cli.suggest import unknown_type_message
from temu_async.options import CallOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("type", help="API type, e.g. bg.order.list.v2.get")
    p.add_argument("--params", default="{}", help="JSON object of wire-named params")
    p.add_argument("--shop", metavar="NAME", help="which configured shop")
    p.add_argument("--token-env", metavar="VAR", help="read the access token from $VAR")
    p.add_argument("--shop-name", help=argparse.SUPPRESS)
    p.add_argument(
        "--allow-unknown",
        action="store_true",
        help="send a type or params the catalogue lacks (one Temu added since)",
    )
    add_connection_flags(p)


MAX_DEPTH = 32
"""Deepest nesting accepted in --params: Temu's params nest a few levels, never dozens."""


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number; write the value")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests, counted without recursion (it may be hostile)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse_params(text: str) -> dict[str, Any]:
    try:
        params = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ConfigError(
            f"--params: nested too deeply to read; Temu's params nest at most {MAX_DEPTH} levels"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"--params: not valid JSON ({exc})") from None
    if not isinstance(params, dict):
        raise ConfigError(
            "--params: must be a JSON object of wire-named params, e.g. '{\"pageSize\": 10}'"
        )
    depth = _depth(params)
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"--params: nested {depth} levels deep; Temu's params nest at most {MAX_DEPTH}"
        )
    return params


async def run(args: argparse.Namespace) -> int:
    params = parse_params(args.params)
    if not args.allow_unknown and args.type not in catalogue.types_by_name():
        # Most likely a typo: say so before anything is sent under that name.
        raise ConfigError(
            f"{unknown_type_message(args.type)}; to send it anyway (a type Temu added "
            "since), pass --allow-unknown"
        )
    s = load_settings(args)
    async with make_app(s, args) as app:
        shops = pick_shops(app, s, [args.shop] if args.shop else None)
        if len(shops) > 1:
            names = ", ".join(shop.name for shop in shops)
            raise ConfigError(
                f"several shops are configured ({names}): choose one with --shop NAME"
            )
        options = CallOptions(allow_unknown=args.allow_unknown)
        result = await shops[0].call(args.type, params, options=options)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
