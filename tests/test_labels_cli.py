"""``temu-async labels buy`` and ``temu-async ship`` against a sandbox in a thread."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from labels_support import label_config, unshipped

from temu_async.cli import main
from temu_async.sandbox import Sandbox, SandboxThread
from temu_async.sandbox.world import LOGISTICS_COMPANIES


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with SandboxThread(label_config(label_fail_first=1)) as sb:
        c = sb.credentials
        monkeypatch.setenv("TEMU_APP_KEY", c.app_key)
        monkeypatch.setenv("TEMU_APP_SECRET", c.app_secret)
        monkeypatch.setenv("TEMU_BASE_URL", sb.url)
        monkeypatch.setenv("TEMU_ACCESS_TOKEN", c.shops[0].access_token)
        yield sb


PARCEL = ["--weight", "2", "--length", "10", "--width", "8", "--height", "4"]


def test_labels_buy_writes_files_and_a_report(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sns = unshipped(sandbox_env, 3)
    argv = ["labels", "buy", "--orders", ",".join(sns), "--out", str(tmp_path / "labels")]
    argv += [*PARCEL, "--db", str(tmp_path / "f.sqlite"), "--report", str(tmp_path / "r.csv")]
    assert main([*argv, "--policy", "fastest", "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert sorted(r["parent_order_sn"] for r in rows) == sorted(sns)
    assert {r["outcome"] for r in rows} == {"downloaded"}
    assert {r["attempts"] for r in rows} == {"2"}  # the first purchase of each failed
    assert {r["service"] for r in rows} == {"FedEx"}  # --policy fastest
    assert all(r["price"] and r["tracking_number"] and r["label"] for r in rows)
    assert len(list((tmp_path / "labels").glob("*.pdf"))) == 3
    assert "labels: 3 downloaded" in capsys.readouterr().err
    # Again: nothing is bought, the report says so.
    assert main([*argv, "--quiet"]) == 0
    assert sandbox_env.counters.requests_by_type["bg.logistics.shipment.create"] == 3


def test_labels_buy_refuses_bad_arguments_before_sending(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "labels",
        "buy",
        "--orders",
        "PO-1",
        "--out",
        str(tmp_path),
        "--db",
        str(tmp_path / "f"),
    ]
    assert main([*base, *PARCEL, "--policy", "slowest"]) == 2
    assert "--policy" in capsys.readouterr().err
    assert main([*base, "--weight", "heavy", "--length", "1", "--width", "1", "--height", "1"]) == 2
    assert "Parcel.weight" in capsys.readouterr().err
    assert sandbox_env.counters.received == 0


def test_ship_confirms_a_csv_and_reports_each_row(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sns = unshipped(sandbox_env, 2)
    carrier = LOGISTICS_COMPANIES[1][0]
    path = tmp_path / "ship.csv"
    path.write_text(
        "parentOrderSn,carrierId,trackingNumber\n"
        + "".join(f"{sn},{carrier},1ZTRACK{i}\n" for i, sn in enumerate(sns))
    )
    argv = ["ship", "--csv", str(path), "--db", str(tmp_path / "f.sqlite"), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr()
    rows = list(csv.DictReader(out.out.splitlines()))
    assert [(r["parent_order_sn"], r["outcome"]) for r in rows] == [(sn, "confirmed") for sn in sns]
    assert "ship: 2 confirmed" in out.err
    assert main(argv) == 0
    assert [r["outcome"] for r in csv.DictReader(capsys.readouterr().out.splitlines())] == [
        "already",
        "already",
    ]
    assert sandbox_env.counters.requests_by_type["bg.logistics.shipment.v2.confirm"] == 2
