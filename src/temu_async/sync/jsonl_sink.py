"""Orders as JSON Lines: an append-only change log, one line per new order version.

A file cannot commit two things at once, so the checkpoint file records how many
bytes of the data file it vouches for. Each commit appends, fsyncs the data, then
replaces the checkpoint (write, fsync, rename). On open, anything past the vouched
length (a commit cut short by a crash) is truncated, and the existing lines are
read back to know each order's newest stored version: a version is appended once.
For large histories prefer the SQLite store, which does not re-read its data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from temu_async.sync.records import CommitResult, OrderRecord, ShopState, StoredVersion

__all__ = ["JsonlSink"]


class _Checkpoint(msgspec.Struct, kw_only=True):
    offset: int = 0
    shops: dict[str, ShopState] = msgspec.field(default_factory=dict)


class JsonlSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.path.with_name(self.path.name + ".checkpoint.json")
        self._checkpoint = self._read_checkpoint()
        self._versions: dict[tuple[str, str], StoredVersion] = {}
        if not self.checkpoint_path.exists():
            _refuse_foreign(self.path)
        self._fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the sink's life
        self._fh.truncate(self._checkpoint.offset)
        self._fh.seek(0)
        for line in self._fh:
            self._remember(msgspec.json.decode(line))
        self._fh.seek(0, os.SEEK_END)

    def _read_checkpoint(self) -> _Checkpoint:
        try:
            return msgspec.json.decode(self.checkpoint_path.read_bytes(), type=_Checkpoint)
        except FileNotFoundError:
            return _Checkpoint()

    def _remember(self, row: dict[str, Any]) -> None:
        key = (str(row["shop"]), str(row["parentOrderSn"]))
        self._versions[key] = StoredVersion(
            row.get("updateTime"), "detail" in row, "shippingInfo" in row
        )

    def load_state(self, shop: str) -> ShopState:
        return self._checkpoint.shops.get(shop, ShopState())

    def stored_versions(self, shop: str, sns: Sequence[str]) -> dict[str, StoredVersion]:
        return {sn: v for sn in sns if (v := self._versions.get((shop, sn))) is not None}

    def commit(self, shop: str, records: Iterable[OrderRecord], state: ShopState) -> CommitResult:
        result = CommitResult()
        lines: list[bytes] = []
        for rec in records:
            old = self._versions.get((shop, rec.parent_order_sn))
            if old is None:
                result.new += 1
            elif _older(rec.update_time, old.update_time):
                result.stale += 1
                continue
            elif rec.update_time == old.update_time:
                adds = (rec.detail is not None and not old.has_detail) or (
                    rec.shipping is not None and not old.has_shipping
                )
                if not adds:
                    result.same += 1
                    continue
                result.changed += 1
            else:
                result.changed += 1
            result.fresh_sns.append(rec.parent_order_sn)
            row = rec.as_json(shop)
            lines.append(msgspec.json.encode(row) + b"\n")
            self._remember(row)
        if lines:
            self._fh.write(b"".join(lines))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._checkpoint.offset = self._fh.tell()
        self._checkpoint.shops[shop] = state
        tmp = self.checkpoint_path.with_name(self.checkpoint_path.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(msgspec.json.encode(self._checkpoint))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.checkpoint_path)
        return result

    def close(self) -> None:
        self._fh.close()


def _refuse_foreign(path: Path) -> None:
    """Without a checkpoint the file is truncated to nothing on open: only ever do that to
    a file a sink wrote (a crash before its first checkpoint), never to someone else's."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except FileNotFoundError:
        return
    if not first:
        return
    try:
        row = msgspec.json.decode(first)
    except msgspec.DecodeError:
        row = None
    if not (isinstance(row, dict) and "shop" in row and "parentOrderSn" in row):
        raise ValueError(
            f"{path} exists, has no checkpoint beside it and does not hold synced orders;"
            " it is left untouched: give a new file"
        )


def _older(new: int | None, old: int | None) -> bool:
    return new is not None and old is not None and new < old
