"""The temu-async CLI: settings from env and config files, secrets never shown, catalogue
commands, and call / sync / price push against a sandbox on its own thread."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from temu_async.cli import ConfigError, build_parser, load_settings, main
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.thread import SandboxThread

SECRET = "s3cr3t-value-that-must-never-show"
TOKEN = "tok-value-that-must-never-show"


def _args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**kw)


def test_env_settings_and_named_tokens() -> None:
    env = {
        "TEMU_APP_KEY": "key1",
        "TEMU_APP_SECRET": SECRET,
        "TEMU_REGION": "eu",
        "TEMU_ACCESS_TOKENS": f"main={TOKEN}, other=tok2 ,tok3",
    }
    s = load_settings(_args(), env)
    assert s.app_key == "key1" and s.region == "eu"
    assert s.app_secret is not None and s.app_secret.reveal() == SECRET
    assert [(n, t.reveal()) for n, t in s.shops] == [
        ("main", TOKEN),
        ("other", "tok2"),
        (None, "tok3"),
    ]
    assert SECRET not in repr(s) and TOKEN not in repr(s)
    with pytest.raises(ConfigError, match="region"):
        load_settings(_args(region="mars"), env)


def test_toml_and_json_config_with_secrets_from_env(tmp_path: Path) -> None:
    toml = tmp_path / "temu.toml"
    toml.write_text(
        'app_key = "k"\napp_secret_env = "MY_SECRET"\nregion = "global"\n'
        '[shops]\nmain = { access_token_env = "MAIN_TOKEN" }\nliteral = "tok-lit"\n'
    )
    env = {"MY_SECRET": SECRET, "MAIN_TOKEN": TOKEN}
    s = load_settings(_args(config=str(toml)), env)
    assert s.app_key == "k" and s.region == "global"
    assert [n for n, _ in s.shops] == ["main", "literal"]
    assert s.shops[0][1].reveal() == TOKEN
    # The environment wins over the file.
    s = load_settings(_args(config=str(toml)), {**env, "TEMU_APP_KEY": "k2"})
    assert s.app_key == "k2"

    js = tmp_path / "temu.json"
    js.write_text(json.dumps({"app_key": "j", "app_secret": SECRET, "shops": {"a": TOKEN}}))
    assert load_settings(_args(config=str(js)), {}).app_key == "j"

    with pytest.raises(ConfigError, match="MY_SECRET, which is not set") as err:
        load_settings(_args(config=str(toml)), {})
    bad = tmp_path / "bad.toml"
    bad.write_text(f'app_secret = "{SECRET}"\nshops = [oops\n')
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_settings(_args(config=str(bad)), {})
    assert SECRET not in str(err.value)


def test_help_and_errors_never_show_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMU_APP_SECRET", SECRET)
    monkeypatch.setenv("TEMU_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("TEMU_APP_KEY", raising=False)
    for argv in (["--help"], ["sync", "orders", "--help"], ["call", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
    assert main(["call", "bg.order.list.v2.get"]) == 2  # no app key
    out = capsys.readouterr()
    assert "TEMU_APP_KEY" in out.err
    assert SECRET not in out.out + out.err and TOKEN not in out.out + out.err


def test_types_and_describe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types", "--group", "order"]) == 0
    listing = capsys.readouterr().out
    assert "bg.order.list.v2.get" in listing and "order.list_v2" in listing
    assert main(["describe", "bg.order.list.v2.get"]) == 0
    text = capsys.readouterr().out
    assert (
        "pageSize: integer — Orders per page (default 10, at most 100). (1 to 100;" in text
        and "parentOrderSnList" in text
    )
    assert main(["describe", "bg.order.nope"]) == 2
    assert "unknown type" in capsys.readouterr().err
    assert main(["types", "--group", "nope"]) == 2


def test_sandbox_command_takes_the_sandbox_options() -> None:
    args = build_parser().parse_args(["sandbox", "--shops", "3", "--latency-ms", "150"])
    assert args.shops == 3 and args.latency_ms == 150


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    config = SandboxConfig(seed=4, shops=2, orders=120, goods=8, order_arrival_per_hour=0)
    with SandboxThread(config) as sb:
        c = sb.credentials
        monkeypatch.setenv("TEMU_APP_KEY", c.app_key)
        monkeypatch.setenv("TEMU_APP_SECRET", c.app_secret)
        monkeypatch.setenv("TEMU_REGION", "global")
        monkeypatch.setenv("TEMU_BASE_URL", sb.url)
        monkeypatch.setenv(
            "TEMU_ACCESS_TOKENS",
            ",".join(f"mall-{s.mall_id}={s.access_token}" for s in c.shops),
        )
        yield sb


def test_call_prints_the_result_and_hides_secrets_in_errors(
    sandbox_env: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = f"mall-{sandbox_env.credentials.shops[0].mall_id}"
    params = '{"pageNumber": 1, "pageSize": 5}'
    assert main(["call", "bg.order.list.v2.get", "--params", params, "--shop", shop]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["totalItemNum"] == 120 and len(result["pageItems"]) == 5
    # Bad params: refused before sending, naming the param.
    assert (
        main(["call", "bg.order.list.v2.get", "--params", '{"pageSize": 500}', "--shop", shop]) == 2
    )
    assert "pageSize" in capsys.readouterr().err
    wrong = "f" * 40
    monkeypatch.setenv("TEMU_APP_SECRET", wrong)
    assert main(["call", "bg.order.list.v2.get", "--params", params, "--shop", shop]) == 2
    err = capsys.readouterr().err
    assert "SignatureError" in err and wrong not in err


def test_sync_orders_json_summary_then_prices_pull_and_push(
    sandbox_env: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "t.sqlite")
    assert main(["sync", "orders", "--db", db, "--quiet", "--log-format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["new"] == 240 and summary["ok"]
    assert main(["sync", "prices", "pull", "--db", db, "--quiet"]) == 0
    assert "prices sync done" in capsys.readouterr().out

    cred = sandbox_env.credentials.shops[1]
    goods = next(iter(sandbox_env.world.goods[cred.mall_id].values()))
    sku = goods.skus[0]
    csv_path = tmp_path / "prices.csv"
    csv_path.write_text(
        f"shop,goodsId,skuId,price\nmall-{cred.mall_id},{goods.goods_id},{sku.sku_id},1.23\n"
    )
    report = tmp_path / "report.json"
    argv = ["sync", "prices", "push", str(csv_path), "--db", db, "--report", str(report)]
    assert main([*argv, "--dry-run"]) == 0
    # JSON Lines: one object per row, written as each row is done.
    assert json.loads(report.read_text().splitlines()[0])["status"] == "would change"
    assert sku.supply_price != "1.23"
    assert main(argv) == 0
    assert json.loads(report.read_text().splitlines()[0])["status"] == "applied"
    assert sku.supply_price == "1.23"
    assert "1 applied" in capsys.readouterr().err


def test_demo_runs_end_to_end_and_stores_every_order(tmp_path: Path) -> None:
    # `make demo` in small: a child-process sandbox, two syncs and a price pull into SQLite.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "temu_async.cli",
            "demo",
            f"--out={tmp_path}",
            "--shops=2",
            "--orders=300",
            "--latency-ms=20",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    held = re.search(r"([\d,]+) orders stored \(the sandbox holds ([\d,]+)\)", proc.stdout)
    assert held is not None, proc.stdout
    # 600 seeded; an order may arrive while it runs (the world is live), and must be stored too.
    stored, held_now = (int(g.replace(",", "")) for g in held.groups())
    assert stored == held_now >= 600
    with sqlite3.connect(tmp_path / "demo.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM orders").fetchone()
    assert count == stored


def _modules_after(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after running ``temu-async ARGV``."""
    code = (
        "import sys\nfrom temu_async.cli import main\n"
        f"main({argv!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMU_")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_each_command_imports_only_what_it_uses() -> None:
    heavy = {"sqlite3", "csv", "temu_async.sync", "temu_async.sandbox", "temu_async.client"}
    for argv in (["types", "--group", "order"], ["describe", "bg.order.list.v2.get"]):
        loaded = _modules_after(argv)
        assert "temu_async.catalogue" in loaded  # it did run the command
        assert not heavy & loaded, (argv, heavy & loaded)
        assert not any(m.startswith("temu_async.sync.") for m in loaded), argv
        assert not any(m.startswith("temu_async.cli.commands.sync") for m in loaded), argv
    # The check can fail: the sync command does load them (then stops: no app key).
    loaded = _modules_after(["sync", "orders", "--db", "unused.sqlite"])
    assert {"sqlite3", "temu_async.sync.orders", "temu_async.client"} <= loaded


def test_python_dash_m_and_the_command_table() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "temu_async.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for word in ("call", "types", "describe", "sandbox", "sync", "demo"):
        assert word in proc.stdout
    # Every registered command builds its own arguments and names a runnable.
    parser = build_parser()
    for argv in (["sync", "prices", "pull"], ["sync", "prices", "push", "x.csv"], ["types"]):
        assert callable(parser.parse_args(argv).run)


def test_every_command_module_is_registered_once() -> None:
    # A command is one module in cli/commands plus one line in the registry: neither alone.
    from temu_async.cli import commands
    from temu_async.cli.registry import COMMANDS

    modules = {p.stem for p in Path(commands.__file__).parent.glob("*.py") if p.stem != "__init__"}
    listed = [c.module for c in COMMANDS]
    assert sorted(listed) == sorted(modules)
    assert len({c.path for c in COMMANDS}) == len(COMMANDS)
