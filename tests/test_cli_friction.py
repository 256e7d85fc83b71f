"""What a new user hits first on the command line (issue 21): near names for a typo,
a quiet closed pipe, flags named as flags, the shops listed, aligned columns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from temu_async.cli import main
from temu_async.cli.suggest import edit_distance, near_names
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.cli import describe
from temu_async.sandbox.thread import SandboxThread


def test_edit_distance_and_near_names() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("same", "same") == 0
    assert edit_distance("a" * 10, "b" * 10, limit=2) == 3  # stops early, past the limit
    known = ["bg.order.list.v2.get", "bg.order.list.get", "bg.open.accesstoken.info.get"]
    assert near_names("bg.order.lst.v2.get", known)[0] == "bg.order.list.v2.get"
    assert "bg.open.accesstoken.info.get" not in near_names("bg.order.lst.v2.get", known)
    assert near_names("order.list", known) == ["bg.order.list.get", "bg.order.list.v2.get"]
    assert near_names("zzz", known) == []


def test_describe_suggests_the_type_one_typo_away(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "bg.order.lst.v2.get"]) == 2
    err = capsys.readouterr().err
    assert "did you mean: bg.order.list.v2.get" in err
    assert "accesstoken" not in err  # the old last-word match suggested these


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    config = SandboxConfig(seed=5, shops=2, orders=20, goods=4, order_arrival_per_hour=0)
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


def test_call_refuses_an_unknown_type_before_sending_and_names_flags(
    sandbox_env: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    shops = [f"mall-{s.mall_id}" for s in sandbox_env.credentials.shops]
    before = sandbox_env.counters.received
    assert main(["call", "bg.order.lst.v2.get", "--shop", shops[0]]) == 2
    err = capsys.readouterr().err
    assert "did you mean: bg.order.list.v2.get" in err and "--allow-unknown" in err
    assert sandbox_env.counters.received == before  # nothing was sent
    # With the flag it goes out (and the gateway says what it thinks of the name).
    assert main(["call", "bg.order.lst.v2.get", "--shop", shops[0], "--allow-unknown"]) == 2
    assert "UnknownTypeError" in capsys.readouterr().err
    assert sandbox_env.counters.received == before + 1

    # An unknown param: the hint names the CLI flag, not the Python keyword.
    params = '{"pageNumber": 1, "pageSize": 5, "pageSzie": 5}'
    assert main(["call", "bg.order.list.v2.get", "--params", params, "--shop", shops[0]]) == 2
    err = capsys.readouterr().err
    assert "pageSzie" in err and "--allow-unknown" in err and "allow_unknown=True" not in err

    # Two shops and no --shop: the message lists them.
    assert main(["call", "bg.order.list.v2.get", "--params", '{"pageSize": 5}']) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in shops) and "--shop NAME" in err


def test_types_columns_line_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 50
    # The second and third columns (method, summary) start at one offset on every line.
    method_at, summary_at = set(), set()
    for line in lines:
        type_name, method = line.split()[:2]
        m = line.index(method, len(type_name))
        method_at.add(m)
        after = line[m + len(method) :]
        summary_at.add(m + len(method) + len(after) - len(after.lstrip()))
    assert len(method_at) == 1 and len(summary_at) == 1, (method_at, sorted(summary_at)[:5])


def test_a_closed_pipe_ends_quietly() -> None:
    # `temu-async types | head -2` once head has gone: the reading end is closed before
    # the command writes (the listing would fit a pipe's buffer, so a reader that
    # leaves later could miss the error).
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMU_")}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "temu_async.cli", "types"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141


def test_help_says_where_the_gateway_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "TEMU_BASE_URL" in top and "sandbox" in top
    with pytest.raises(SystemExit):
        main(["call", "--help"])
    assert "$TEMU_BASE_URL" in capsys.readouterr().out


async def test_the_sandbox_printout_ends_in_export_lines_that_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Sandbox(SandboxConfig(seed=2, shops=2, orders=7, order_arrival_per_hour=0)) as sb:
        text = describe(sb)
        exports = [line for line in text.splitlines() if line.startswith("export ")]
        names = [line.split()[1].split("=", 1)[0] for line in exports]
        assert names == [
            "TEMU_BASE_URL",
            "TEMU_REGION",
            "TEMU_APP_KEY",
            "TEMU_APP_SECRET",
            "TEMU_ACCESS_TOKENS",
        ]
        # Paste them into a shell, then run the CLI with that shell's environment.
        script = "\n".join([*exports, "env"])
        shell = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, check=True, timeout=30
        )
        for line in shell.stdout.splitlines():
            name, _, value = line.partition("=")
            if name.startswith("TEMU_"):
                monkeypatch.setenv(name, value)
        shop = f"mall-{sb.credentials.shops[1].mall_id}"
        params = '{"pageNumber": 1, "pageSize": 5}'
        argv = ["call", "bg.order.list.v2.get", "--params", params, "--shop", shop]
        # main() runs its own event loop: give it a thread, as a shell would a process.
        code = await asyncio.to_thread(main, argv)
    assert code == 0
    assert '"totalItemNum": 7' in capsys.readouterr().out
