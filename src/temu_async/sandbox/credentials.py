"""What a test or the CLI needs to talk to a running sandbox (snapshots, secrets out of reprs)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AppCredentials", "SandboxCredentials", "ShopCredentials"]


@dataclass(frozen=True)
class ShopCredentials:
    mall_id: int
    access_token: str = field(repr=False)
    scopes: tuple[str, ...] = field(repr=False)
    """Type names the token may call (``apiScopeList``)."""
    expires_at: int
    """Unix seconds (``expiredTime``)."""
    region_id: int
    auth_codes: tuple[str, ...] = field(repr=False)
    """Unused authorization codes for ``bg.open.accesstoken.create`` (single use, 10 min)."""


@dataclass(frozen=True)
class AppCredentials:
    app_key: str
    app_secret: str = field(repr=False)
    shops: tuple[ShopCredentials, ...]


@dataclass(frozen=True)
class SandboxCredentials:
    url: str
    """The router URL to POST to."""
    apps: tuple[AppCredentials, ...]

    @property
    def app_key(self) -> str:
        return self.apps[0].app_key

    @property
    def app_secret(self) -> str:
        return self.apps[0].app_secret

    @property
    def shops(self) -> tuple[ShopCredentials, ...]:
        return self.apps[0].shops
