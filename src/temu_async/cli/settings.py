"""Settings for the CLI: a config file, then the environment, then a few flags.

Nothing here talks to the network or imports the client: ``types`` and
``describe`` load settings-free, and the commands that connect use :mod:`.connect`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temu_async.secret import Secret

__all__ = ["REGIONS", "ConfigError", "Settings", "load_settings"]

REGIONS = ("us", "eu", "global")


class ConfigError(Exception):
    """Credentials or settings are missing or malformed (names the variable, never its value)."""


@dataclass
class Settings:
    app_key: str | None = None
    app_secret: Secret | None = field(default=None, repr=False)
    region: str = "us"
    base_url: str | None = None
    shops: list[tuple[str | None, Secret]] = field(default_factory=list, repr=False)
    """(name or None, token) in the order given."""


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"config file {path}: not valid JSON (line {exc})") from None
    elif sys.version_info >= (3, 11):
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            # The message names the line and column, not the content.
            raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    else:
        raise ConfigError(f"config file {path}: TOML needs Python 3.11+; use a .json file on 3.10")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a table/object")
    return data


def _env_secret(name: str, env: dict[str, str], where: str) -> Secret:
    value = env.get(name)
    if not value:
        raise ConfigError(f"{where} names the environment variable {name}, which is not set")
    return Secret(value)


def _parse_tokens(text: str) -> list[tuple[str | None, Secret]]:
    out: list[tuple[str | None, Secret]] = []
    for i, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, token = part.partition("=")
        if eq and (not name.strip() or not token.strip()):
            raise ConfigError(f"TEMU_ACCESS_TOKENS entry {i + 1}: expected name=token")
        out.append((name.strip(), Secret(token.strip())) if eq else (None, Secret(part)))
    return out


def _apply_config(s: Settings, data: dict[str, Any], env: dict[str, str]) -> None:
    key = data.get("app_key")
    if key is not None and not isinstance(key, str):
        raise ConfigError("config: app_key must be a string")
    s.app_key = key
    if isinstance(data.get("app_secret"), str):
        s.app_secret = Secret(data["app_secret"])
    elif isinstance(data.get("app_secret_env"), str):
        s.app_secret = _env_secret(data["app_secret_env"], env, "config app_secret_env")
    if isinstance(data.get("region"), str):
        s.region = data["region"]
    if isinstance(data.get("base_url"), str):
        s.base_url = data["base_url"]
    shops = data.get("shops") or {}
    if not isinstance(shops, dict):
        raise ConfigError("config: shops must be a table of name = token")
    for name, value in shops.items():
        if isinstance(value, str):
            s.shops.append((name, Secret(value)))
        elif isinstance(value, dict) and isinstance(value.get("access_token_env"), str):
            where = f"config shops.{name}.access_token_env"
            s.shops.append((name, _env_secret(value["access_token_env"], env, where)))
        elif isinstance(value, dict) and isinstance(value.get("access_token"), str):
            s.shops.append((name, Secret(value["access_token"])))
        else:
            raise ConfigError(
                f"config: shops.{name} must be a token string or {{access_token_env = VAR}}"
            )


def load_settings(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Merge the config file, then the environment, then ``--region``/``--base-url``."""
    env = dict(os.environ) if env is None else env
    s = Settings()
    config = getattr(args, "config", None) or env.get("TEMU_CONFIG")
    if config:
        _apply_config(s, _read_config(Path(config)), env)
    if env.get("TEMU_APP_KEY"):
        s.app_key = env["TEMU_APP_KEY"]
    if env.get("TEMU_APP_SECRET"):
        s.app_secret = Secret(env["TEMU_APP_SECRET"])
    if env.get("TEMU_REGION"):
        s.region = env["TEMU_REGION"]
    if env.get("TEMU_BASE_URL"):
        s.base_url = env["TEMU_BASE_URL"]
    if env.get("TEMU_ACCESS_TOKENS"):
        s.shops = _parse_tokens(env["TEMU_ACCESS_TOKENS"])
    elif env.get("TEMU_ACCESS_TOKEN"):
        s.shops = [(None, Secret(env["TEMU_ACCESS_TOKEN"]))]
    token_env = getattr(args, "token_env", None)
    if token_env:
        s.shops = [(getattr(args, "shop_name", None), _env_secret(token_env, env, "--token-env"))]
    if getattr(args, "region", None):
        s.region = args.region
    if getattr(args, "base_url", None):
        s.base_url = args.base_url
    if s.region not in REGIONS:
        raise ConfigError(f"region must be one of {', '.join(REGIONS)}, got {s.region!r}")
    return s
