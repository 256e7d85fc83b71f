"""From settings to a connected app and the shops a command works on."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from temu_async.cli.settings import ConfigError, Settings
from temu_async.client import ShopClient, TemuApp

__all__ = ["make_app", "one_shop", "pick_shops"]


def make_app(s: Settings, args: argparse.Namespace) -> TemuApp:
    if not s.app_key:
        raise ConfigError("no app key: set TEMU_APP_KEY or app_key in the config file")
    if s.app_secret is None:
        raise ConfigError("no app secret: set TEMU_APP_SECRET or app_secret_env in the config file")
    backend = None
    redis_url = getattr(args, "redis", None)
    try:
        if redis_url:
            from temu_async.redis_throttle import RedisWindow

            backend = RedisWindow(redis_url)
        return TemuApp(
            s.app_key,
            s.app_secret.reveal(),
            region=s.region,  # type: ignore[arg-type]
            base_url=s.base_url,
            rate_limit=getattr(args, "rate_limit", None),
            throttle_backend=backend,
        )
    except ImportError as exc:
        raise ConfigError(str(exc)) from None
    except ValueError as exc:
        # TemuApp's messages name the credential, never its value.
        raise ConfigError(str(exc)) from None


def pick_shops(app: TemuApp, s: Settings, wanted: Sequence[str] | None) -> list[ShopClient]:
    if not s.shops:
        raise ConfigError(
            "no shop: set TEMU_ACCESS_TOKEN / TEMU_ACCESS_TOKENS, a [shops] table, or --token-env"
        )
    try:
        shops = [app.shop(token.reveal(), name=name) for name, token in s.shops]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if wanted:
        by_name = {shop.name: shop for shop in shops}
        missing = [w for w in wanted if w not in by_name]
        if missing:
            raise ConfigError(
                f"--shop {', '.join(missing)}: not configured (known: {', '.join(by_name)})"
            )
        shops = [by_name[w] for w in wanted]
    return shops


def one_shop(app: TemuApp, s: Settings, name: str | None) -> ShopClient:
    """The single shop a command works on: ``name``, or the only one configured."""
    shops = pick_shops(app, s, [name] if name else None)
    if len(shops) > 1:
        names = ", ".join(shop.name for shop in shops)
        raise ConfigError(f"several shops are configured ({names}): choose one with --shop NAME")
    return shops[0]
