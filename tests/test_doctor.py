"""``temu-async doctor`` against sandboxes set up wrong on purpose (issue 21, item 3).

Each misconfiguration must come out as a failing line that names the fix, exit 1;
a healthy setup exits 0. The sandbox runs in its own thread on loopback, as a remote
gateway would; the doctor runs in-process through ``main``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis_server import RedisServer, free_port

from temu_async.cli import main
from temu_async.cli.diagnosis import check_gateway, redact_url
from temu_async.cli.settings import Settings
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.thread import SandboxThread
from temu_async.transport import REGION_URLS

DAY = 86_400


def _config(seed: int = 5, apps: int = 1) -> SandboxConfig:
    return SandboxConfig(seed=seed, apps=apps, shops=1, orders=2, goods=1, order_arrival_per_hour=0)


@dataclass
class Env:
    sb: Sandbox
    token: str
    secret: str
    monkeypatch: pytest.MonkeyPatch

    def point_at(self, sb: Sandbox) -> None:
        self.monkeypatch.setenv("TEMU_BASE_URL", sb.url)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with SandboxThread(_config(apps=2)) as sb:
        c = sb.credentials
        monkeypatch.setenv("TEMU_APP_KEY", c.app_key)
        monkeypatch.setenv("TEMU_APP_SECRET", c.app_secret)
        monkeypatch.setenv("TEMU_REGION", "us")
        monkeypatch.setenv("TEMU_BASE_URL", sb.url)
        monkeypatch.setenv("TEMU_ACCESS_TOKENS", f"main={c.shops[0].access_token}")
        monkeypatch.delenv("TEMU_ACCESS_TOKEN", raising=False)
        monkeypatch.delenv("TEMU_CONFIG", raising=False)
        yield Env(sb, c.shops[0].access_token, c.app_secret, monkeypatch)


def _doctor(
    env: Env, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, dict[str, str]], str]:
    """Exit code, the findings by check name (from --json), and everything printed."""
    code = main(["doctor", "--json", *args])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["ok"] is (code == 0)
    # Nothing the doctor says ever carries a credential.
    for secret in (env.token, env.secret):
        assert secret not in out and secret not in err
    return code, {c["check"]: c for c in report["checks"]}, out + err


def test_a_healthy_setup_passes(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--groups", "order", "--types", "bg.open.accesstoken.info.get"]) == 0
    out = capsys.readouterr().out
    for check in ("gateway", "clock", "credentials (main)", "expiry (main)", "scopes (main)"):
        assert f"ok    {check}:" in out
    assert "ok    ip whitelist:" in out
    assert "FAIL" not in out and "all checks passed" in out


def test_a_bad_secret_is_a_signature_failure(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.monkeypatch.setenv("TEMU_APP_SECRET", "f" * 40)
    code, checks, _ = _doctor(env, capsys)
    assert code == 1
    bad = checks["credentials (main)"]
    assert bad["status"] == "fail" and "3000001" in bad["detail"]
    assert "TEMU_APP_SECRET" in bad["fix"]
    assert checks["expiry (main)"]["status"] == "skip"
    # The text report: one line per check, the fix under the failing one.
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  credentials (main): the gateway refused the signature" in out
    assert "      fix: set TEMU_APP_SECRET" in out and "some checks FAILED" in out


def test_the_wrong_region_is_an_unknown_app_key(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another region's gateway: a sandbox seeded differently knows none of our apps.
    with SandboxThread(_config(seed=99)) as elsewhere:
        assert env.sb.credentials.app_key not in elsewhere.world.apps
        env.point_at(elsewhere)
        code, checks, _ = _doctor(env, capsys)
    assert code == 1
    bad = checks["credentials (main)"]
    assert bad["status"] == "fail" and "3000026" in bad["detail"]
    assert "another region" in bad["fix"] and "--region" in bad["fix"]


def test_a_token_of_another_app(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    other = env.sb.credentials.apps[1].shops[0].access_token
    env.monkeypatch.setenv("TEMU_ACCESS_TOKENS", f"main={other}")
    code, checks, text = _doctor(env, capsys)
    assert other not in text
    assert code == 1
    bad = checks["credentials (main)"]
    assert "3000033" in bad["detail"] and "another app" in bad["detail"]
    assert "authorised for this app key" in bad["fix"]


def test_an_expired_token_fails_and_one_expiring_soon_warns(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.sb.expire_token(env.token, in_seconds=5 * DAY)
    code, checks, _ = _doctor(env, capsys)
    assert code == 0  # a warning is not a failure
    soon = checks["expiry (main)"]
    assert soon["status"] == "warn" and "expires in" in soon["detail"]
    assert "re-authorise" in soon["fix"]

    env.sb.expire_token(env.token)
    code, checks, _ = _doctor(env, capsys)
    assert code == 1
    gone = checks["expiry (main)"]
    assert gone["status"] == "fail" and "3000034" in gone["detail"]
    assert "re-authorise" in gone["fix"]


def test_a_missing_scope_names_the_types_and_the_package(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.sb.set_scopes(env.token, ["bg.open.accesstoken.info.get", "bg.order.list.v2.get"])
    code, checks, _ = _doctor(env, capsys, "--types", "bg.order.list.v2.get")
    assert code == 0 and checks["scopes (main)"]["status"] == "ok"

    code, checks, _ = _doctor(env, capsys, "--types", "bg.order.list.v2.get", "--groups", "goods")
    assert code == 1
    bad = checks["scopes (main)"]
    assert bad["status"] == "fail" and "not granted" in bad["detail"]
    assert "bg.order.list.v2.get" not in bad["detail"]  # that one is granted
    assert "bg.local.goods" in bad["detail"] and "permission package" in bad["fix"]


def test_a_skewed_clock_fails_with_the_ntp_fix(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.sb.faults.clock_offset = 900.0  # the gateway's clock is 15 minutes ahead of ours
    code, checks, _ = _doctor(env, capsys)
    assert code == 1
    clock = checks["clock"]
    assert clock["status"] == "fail" and "behind the gateway" in clock["detail"]
    assert "NTP" in clock["fix"]
    # The client itself resyncs, so the credentials still check out.
    assert checks["credentials (main)"]["status"] == "ok"

    env.sb.faults.clock_offset = -60.0
    code, checks, _ = _doctor(env, capsys)
    assert code == 0 and checks["clock"]["status"] == "warn"
    assert "ahead of the gateway" in checks["clock"]["detail"]


def test_an_ip_whitelist_refusal(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.sb.set_ip_whitelist(env.sb.credentials.app_key, ["203.0.113.7"])
    code, checks, _ = _doctor(env, capsys)
    assert code == 1
    bad = checks["ip whitelist"]
    assert bad["status"] == "fail" and "5000003" in bad["detail"]
    assert "whitelist" in bad["fix"]
    env.sb.set_ip_whitelist(env.sb.credentials.app_key, ["127.0.0.1"])
    code, checks, _ = _doctor(env, capsys)
    assert code == 0 and checks["ip whitelist"]["status"] == "ok"


def test_redis_reachable_or_not(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("redis")
    dead = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    code, checks, text = _doctor(env, capsys, "--redis", dead)
    assert code == 1 and checks["redis"]["status"] == "fail"
    assert "hunter2" not in text and "start Redis" in checks["redis"]["fix"]

    server = RedisServer()
    server.start()
    try:
        code, checks, _ = _doctor(env, capsys, "--redis", server.url)
    finally:
        server.stop()
    assert code == 0 and checks["redis"]["status"] == "ok"


def test_missing_settings_are_a_failing_check(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.monkeypatch.delenv("TEMU_ACCESS_TOKENS")
    code, checks, _ = _doctor(env, capsys)
    assert code == 1 and checks["config"]["status"] == "fail"
    assert "TEMU_ACCESS_TOKEN" in checks["config"]["detail"]


def test_an_unknown_type_is_refused_before_anything_is_sent(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    before = env.sb.counters.received
    assert main(["doctor", "--types", "bg.order.lst.v2.get"]) == 2
    err = capsys.readouterr().err
    assert "--types" in err and "bg.order.list.v2.get" in err
    assert main(["doctor", "--groups", "ordr"]) == 2
    assert "--groups" in capsys.readouterr().err
    assert env.sb.counters.received == before


def test_region_and_gateway_url_must_agree() -> None:
    bad = check_gateway(Settings(region="us", base_url=REGION_URLS["eu"]))
    assert bad.status == "fail" and "TEMU_REGION=eu" in bad.fix
    assert check_gateway(Settings(region="eu", base_url=REGION_URLS["eu"])).status == "ok"
    assert check_gateway(Settings(region="us")).status == "ok"


def test_redis_urls_are_shown_without_their_password() -> None:
    assert redact_url("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact_url("redis://:pw@host/0") == "redis://:***@host/0"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"
