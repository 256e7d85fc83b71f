"""Hostile input over every command: one error line, exit status 2, no traceback, and not
one request reaching the gateway (the sandbox's counters say so)."""

from __future__ import annotations

import codecs
import csv
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from temu_async.cli import main
from temu_async.cli.registry import COMMANDS
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.thread import SandboxThread

GOOD_CSV = "goodsId,skuId,price\n1,2,3.00\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(seed=8, shops=2, orders=10, goods=3, order_arrival_per_hour=0)
    with SandboxThread(config) as sb:
        yield sb


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    c = sandbox.credentials
    monkeypatch.setenv("TEMU_APP_KEY", c.app_key)
    monkeypatch.setenv("TEMU_APP_SECRET", c.app_secret)
    monkeypatch.setenv("TEMU_REGION", "global")
    monkeypatch.setenv("TEMU_BASE_URL", sandbox.url)
    monkeypatch.setenv("TEMU_ACCESS_TOKENS", f"main={c.shops[0].access_token}")
    return sandbox


def _files(tmp: Path) -> dict[str, Path]:
    files = {
        "dir": tmp / "a-directory",
        "notdb": tmp / "notes.txt",
        "good": tmp / "good.csv",
        "utf16_nobom": tmp / "utf16-nobom.csv",
        "latin1": tmp / "latin1.csv",
        "fullwidth": tmp / "fullwidth.csv",
        "superscript": tmp / "superscript.csv",
        "dup_header": tmp / "dup.csv",
        "dup_spelling": tmp / "dup2.csv",
        "huge_field": tmp / "huge.csv",
        "open_quote": tmp / "quote.csv",
        "no_header": tmp / "empty.csv",
        "formula_shop": tmp / "formula.csv",
        "jsonl_garbage": tmp / "garbage.jsonl",
        "config_garbage": tmp / "config.toml",
        "file": tmp / "plain-file",
        "ship_good": tmp / "ship.csv",
        "ship_formula": tmp / "ship-formula.csv",
        "ship_fullwidth": tmp / "ship-fullwidth.csv",
    }
    files["dir"].mkdir()
    files["notdb"].write_text("these are notes, not a database\n" * 20)
    files["good"].write_text(GOOD_CSV)
    files["utf16_nobom"].write_bytes(GOOD_CSV.encode("utf-16-le"))
    files["latin1"].write_bytes("goodsId,skuId,price,shop\n1,2,3.00,Caf\xe9\n".encode("latin-1"))
    files["fullwidth"].write_text("goodsId,skuId,price\n１２,2,3.00\n")
    files["superscript"].write_text("goodsId,skuId,price\n1,2³,3.00\n")
    files["dup_header"].write_text("goodsId,skuId,price,price\n1,2,3.00,4.00\n")
    files["dup_spelling"].write_text("goodsId,goods_id,skuId,price\n1,1,2,3.00\n")
    files["huge_field"].write_text("goodsId,skuId,price\n1,2," + "9" * 200_000 + "\n")
    files["open_quote"].write_text('goodsId,skuId,price\n1,2,"3.00\n' + "x" * 140_000 + "\n")
    files["no_header"].write_text("")
    files["formula_shop"].write_text("goodsId,skuId,price,shop\n1,2,3.00,=cmd|' /C calc'!A0\n")
    files["jsonl_garbage"].write_text("this is not json\n")
    files["config_garbage"].write_text("app_key = [unclosed\n")
    files["file"].write_text("x")
    ship_header = "parentOrderSn,carrierId,trackingNumber\n"
    files["ship_good"].write_text(ship_header + "PO-1,699272611,1Z999\n")
    files["ship_formula"].write_text(ship_header + "=cmd|' /C calc'!A0,1,1Z\n")
    files["ship_fullwidth"].write_text(ship_header + "PO-1,１２,1Z\n")
    return files


def _cases(f: dict[str, Path]) -> list[list[str]]:
    deep_list = "[" * 10_000 + "]" * 10_000
    deep_object = '{"a":' * 10_000 + "1" + "}" * 10_000
    order = ["call", "bg.order.list.v2.get"]
    cases: list[list[str]] = [
        [*order, "--params", deep_list],
        [*order, "--params", deep_object],
        [*order, "--params", '{"a":' * 40 + "1" + "}" * 40],
        [*order, "--params", '{"pageSize": NaN}'],
        [*order, "--params", '{"pageSize": Infinity}'],
        [*order, "--params", "[]"],
        [*order, "--params", "{"],
        [*order, "--rate-limit", "0"],
        ["doctor", "--types", "bg.order.lst.v2.get"],
        ["doctor", "--groups", "nope"],
        ["doctor", "--timeout", "nan"],
        [*order, "--rate-limit", "-3"],
        [*order, "--rate-limit", "nan"],
        [*order, "--config", str(f["dir"])],
        [*order, "--config", str(f["config_garbage"])],
        [*order, "--progress-interval", "nan"],
        ["call", "bg.order.list.v2.gte"],
        ["describe", "no.such.type"],
        ["types", "--group", "no-such-group"],
    ]
    for db in ("dir", "notdb"):
        cases += [
            ["sync", "orders", "--db", str(f[db])],
            ["sync", "prices", "pull", "--db", str(f[db])],
            ["sync", "prices", "push", str(f["good"]), "--db", str(f[db])],
            ["webhooks", "list", "--db", str(f[db])],
            ["webhooks", "replay", "--db", str(f[db]), "evt-1"],
        ]
    cases += [
        ["sync", "orders", "--db", "/dev/null"],
        ["sync", "prices", "pull", "--db", "/dev/null"],
        ["sync", "prices", "push", str(f["good"]), "--db", "/dev/null"],
        ["sync", "orders", "--db", str(f["file"] / "under-a-file.sqlite")],
        ["sync", "orders", "--jsonl", str(f["dir"])],
        ["sync", "orders", "--jsonl", str(f["jsonl_garbage"])],
        ["sync", "orders", "--since-days", "nan"],
        ["sync", "orders", "--since-days", "inf"],
        ["sync", "orders", "--since-days", "-1"],
        ["sync", "orders", "--page-size", "0"],
        ["sync", "orders", "--page-size", "-5"],
        ["sync", "orders", "--page-size", "100000"],
        ["sync", "orders", "--concurrency", "0"],
        ["sync", "orders", "--overlap", "-1"],
        ["sync", "orders", "--rate-limit", "0"],
        ["sync", "orders", "--lease", "nan"],
        ["sync", "orders", "--lock-wait", "-1"],
        ["sync", "prices", "pull", "--db", "postgresql://u@127.0.0.1:1/prices"],
        ["sync", "prices", "push", str(f["good"]), "--db", "postgresql://u@127.0.0.1:1/p"],
        ["sync", "prices", "pull", "--goods-per-request", "0"],
        ["sync", "prices", "pull", "--rate-limit", "0"],
        ["sync", "prices", "push", str(f["good"]), "--rate-limit", "0"],
        ["sync", "prices", "push", str(f["good"]), "--report", str(f["dir"])],
        ["sync", "prices", "push", str(f["dir"])],
        ["sync", "prices", "push", str(f["dir"] / "missing.csv")],
        ["webhooks", "list", "--limit", "0"],
        ["demo", "--shops", "0"],
        ["demo", "--latency-ms", "nan"],
        ["demo", "--out", str(f["file"])],
        *_fulfilment_cases(f),
        ["sandbox", "--port", "70000"],
        ["sandbox", "--shops", "0"],
        ["sandbox", "--latency-ms", "nan"],
    ]
    for name in (
        "utf16_nobom",
        "latin1",
        "fullwidth",
        "superscript",
        "dup_header",
        "dup_spelling",
        "huge_field",
        "open_quote",
        "no_header",
        "formula_shop",
    ):
        cases.append(["sync", "prices", "push", str(f[name]), "--db", str(f["dir"] / "p.sqlite")])
    return cases


def _fulfilment_cases(f: dict[str, Path]) -> list[list[str]]:
    parcel = ["--weight", "2", "--length", "1", "--width", "1", "--height", "1"]
    buy = ["labels", "buy", "--out", str(f["dir"]), *parcel]
    ship = ["ship", "--db", str(f["dir"] / "f.sqlite"), "--csv"]
    return [
        [*buy, "--orders", ""],
        [*buy, "--orders", "=cmd|' /C calc'!A0"],
        [*buy, "--orders", "PO-1", "--weight", "nan"],
        [*buy, "--orders", "PO-1", "--weight", "-1"],
        [*buy, "--orders", "PO-1", "--policy", "slowest"],
        [*buy, "--orders", "PO-1", "--max-attempts", "0"],
        [*buy, "--orders", "PO-1", "--ship-later-hours", "5"],
        [*buy, "--orders", "PO-1", "--ship-later", "--ship-later-hours", "-1"],
        [*buy, "--orders-file", str(f["dir"])],
        [*buy, "--orders-file", str(f["latin1"])],
        [*buy, "--orders", "PO-1", "--db", str(f["dir"])],
        [*buy, "--orders", "PO-1", "--db", str(f["notdb"])],
        [*buy, "--orders", "PO-1", "--db", "/dev/null"],
        [*buy, "--orders", "PO-1", "--report", str(f["dir"])],
        ["labels", "buy", "--orders", "PO-1", "--out", str(f["file"]), *parcel],
        [*ship, str(f["dir"])],
        [*ship, str(f["dir"] / "missing.csv")],
        [*ship, str(f["utf16_nobom"])],
        [*ship, str(f["latin1"])],
        [*ship, str(f["no_header"])],
        [*ship, str(f["huge_field"])],
        [*ship, str(f["ship_formula"])],
        [*ship, str(f["ship_fullwidth"])],
        ["ship", "--csv", str(f["ship_good"]), "--db", str(f["notdb"])],
        ["ship", "--csv", str(f["ship_good"]), "--db", str(f["dir"])],
        ["ship", "--csv", str(f["ship_good"]), "--report", str(f["dir"])],
    ]


def test_every_command_is_swept(tmp_path: Path) -> None:
    covered = {
        tuple(w for w in case if not w.startswith(("-", "/")))[:3]
        for case in _cases(_files(tmp_path))
    }
    for command in COMMANDS:
        assert any(c[: len(command.path)] == command.path for c in covered), command.path


def test_hostile_input_gets_one_line_exit_2_and_sends_nothing(
    env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _files(tmp_path)
    before = env.counters.received
    problems = []
    for argv in _cases(files):
        shown = " ".join(a if len(a) < 60 else a[:30] + "..." for a in argv)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage line + one error line, status 2
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:  # a traceback would have been shown
            problems.append(f"{shown}: raised {type(exc).__name__}: {str(exc)[:200]}")
            continue
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line]
        if code != 2 or "Traceback" in err or len(errors) != 1:
            problems.append(f"{shown}: exit {code}, stderr {err[-400:]!r}")
        if env.counters.received != before:
            problems.append(f"{shown}: sent {env.counters.received - before} request(s)")
            before = env.counters.received
    assert not problems, "\n".join(problems)


def test_a_deep_params_string_in_a_real_process_shows_no_traceback(env: Sandbox) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    proc = subprocess.run(
        [sys.executable, "-m", "temu_async.cli", "call", "bg.order.list.v2.get", "--params", deep],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "--params: nested too deeply" in proc.stderr


def test_a_utf16_or_bom_csv_is_read(env: Sandbox, tmp_path: Path) -> None:
    # Excel's "Unicode text" and "CSV UTF-8" both start with a byte-order mark.
    from temu_async.sync.price_csv import read_price_csv

    for raw in (
        codecs.BOM_UTF16_LE + GOOD_CSV.encode("utf-16-le"),
        codecs.BOM_UTF8 + GOOD_CSV.encode(),
    ):
        path = tmp_path / "p.csv"
        path.write_bytes(raw)
        [row] = read_price_csv(path, default_shop="main")
        assert (row.goods_id, row.sku_id, row.price) == (1, 2, "3.00")


def test_the_store_paths_fail_cleanly_in_the_library_too(tmp_path: Path) -> None:
    from temu_async.store_errors import StoreError
    from temu_async.sync import SqliteStore

    notdb = tmp_path / "notes.txt"
    notdb.write_text("not a database\n" * 10)
    for path, needle in (
        (tmp_path, "is a directory"),
        (Path("/dev/null"), "device"),
        (notdb, "not an SQLite database"),
    ):
        with pytest.raises(StoreError, match=needle) as info:
            SqliteStore(path)
        assert str(path) in str(info.value)
    # A real SQLite file is untouched by the refusals.
    good = tmp_path / "ok.sqlite"
    with SqliteStore(good) as store:
        assert store.prices() == {}
    with sqlite3.connect(good) as con:
        assert con.execute("SELECT COUNT(*) FROM price_writes").fetchone() == (0,)


def test_csv_errors_name_line_and_column(tmp_path: Path) -> None:
    from temu_async.sync.csv_io import CsvError
    from temu_async.sync.price_csv import read_price_csv

    cases = {
        "goodsId,skuId,price\n1,2,3\n１２,2,3.00\n": "line 3, column 'goodsId'.*full-width",
        "goodsId,skuId,price\n1,2³,3.00\n": "line 2, column 'skuId'",
        "goodsId,skuId,Price,price\n1,2,3,4\n": "line 1, column 'price'.*twice",
        "goodsId,skuId,price\n1,2,3.00,extra\n": "line 2: 4 cells",
        "goodsId,skuId,price\n1,2,\uff13.00\n": "line 2, column 'price'",
        "goodsId,skuId,price\n1,2,3\n1,2," + "9" * 140_000 + "\n": "line 3: .*longer than",
    }
    for text, needle in cases.items():
        with pytest.raises(CsvError, match=needle):
            read_price_csv(text.encode(), default_shop="s")


def test_every_csv_the_sdk_writes_neutralises_formulas(tmp_path: Path) -> None:
    from temu_async.sync.price_push import PushResult
    from temu_async.sync.push_report import write_report

    hostile = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@A1", "\tx", "\rx"]
    rows = [
        PushResult(2, shop, 1, 2, None, "3.00", "USD", "failed", detail=shop) for shop in hostile
    ]
    path = tmp_path / "r.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        write_report(rows, fh, "csv")
    with open(path, newline="", encoding="utf-8") as fh:
        back = list(csv.DictReader(fh))
    for row, cell in zip(back, hostile, strict=True):
        assert row["shop"] == "'" + cell and row["detail"] == "'" + cell
    # Numbers stay numbers.
    from temu_async.sync.csv_io import neutralise

    assert [neutralise(v) for v in ("-5", "+1.50", "12")] == ["-5", "+1.50", "12"]
