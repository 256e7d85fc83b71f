"""The label pipeline end to end against the sandbox (in process)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from labels_support import child_sns, label_config, mall_id, unshipped

from temu_async import ParamError, TemuApp
from temu_async.fulfilment import (
    Fastest,
    FulfilmentRecord,
    Given,
    LabelOptions,
    LabelRow,
    Parcel,
    SqliteFulfilmentStore,
    buy_labels,
)
from temu_async.fulfilment.policy import Cheapest, choose_service
from temu_async.sandbox import ManualClock, Sandbox
from temu_async.sandbox.models import PENDING, SHIPPED, UN_SHIPPING

RESULT = "bg.logistics.shipment.result.get"
PARCEL = Parcel(weight="2", length="10", width="8", height="4")


def fast(**kw: object) -> LabelOptions:
    base: dict[str, object] = {"parcel": PARCEL, "poll_initial": 0.05, "concurrency": 16}
    base.update(kw)
    return LabelOptions(**base)  # type: ignore[arg-type]


async def test_fifty_orders_fifty_labels_each_bought_once(tmp_path: Path) -> None:
    async with Sandbox(label_config(label_delay=1)) as sb:
        sns = unshipped(sb, 50)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        seen: list[LabelRow] = []
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(
                shop, store, sns, tmp_path / "labels", fast(), on_row=seen.append
            )
            # A rerun finds everything done and buys nothing.
            again = await buy_labels(shop, store, sns, tmp_path / "labels", fast())
        desk = sb.world.labels
        assert [r.parent_order_sn for r in rows] == sns
        assert Counter(r.outcome for r in rows) == {"downloaded": 50}
        assert len(seen) == 50
        assert [r.outcome for r in again] == ["downloaded"] * 50
        files = sorted((tmp_path / "labels").glob("*.pdf"))
        assert len(files) == 50
        for row in rows:
            pdf = Path(row.label).read_bytes()
            assert pdf.startswith(b"%PDF-")
            assert row.package_sn.encode() in pdf and row.tracking_number.encode() in pdf
        for sn in child_sns(sb, sns):
            assert desk.create_requests[sn] == 1
            assert desk.purchases[sn] == 1
        for sn in sns:
            order = sb.world.orders.get(mall_id(sb), sn)
            assert order is not None and order.status == SHIPPED
        assert sb.counters.requests_by_type["bg.logistics.shipment.create"] == 50
        await store.close()


async def test_waiting_purchases_are_polled_together(tmp_path: Path) -> None:
    clock = ManualClock()
    async with Sandbox(label_config(clock=clock, label_delay=60)) as sb:
        sns = unshipped(sb, 20)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        counts = sb.counters.requests_by_type
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            run = asyncio.create_task(
                buy_labels(shop, store, sns, tmp_path, fast(poll_max=0.1, concurrency=20))
            )
            while len(sb.world.labels.packages) < 20 or counts[RESULT] < 3:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            rounds_before = counts[RESULT]
            clock.advance(61)
            rows = await run
        # Each round asked about all twenty packages in one call: the settling round is
        # one call (two if a round was already on its way), not twenty.
        assert counts[RESULT] - rounds_before <= 2
        assert [r.outcome for r in rows] == ["downloaded"] * 20
        await store.close()


async def test_failed_purchases_are_bought_again_up_to_the_limit(tmp_path: Path) -> None:
    async with Sandbox(label_config(label_fail_first=2)) as sb:
        sns = unshipped(sb, 6)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            ok = await buy_labels(shop, store, sns[:3], tmp_path, fast(max_attempts=3))
            short = await buy_labels(shop, store, sns[3:], tmp_path, fast(max_attempts=2))
        assert [(r.outcome, r.attempts) for r in ok] == [("downloaded", 3)] * 3
        assert [r.outcome for r in short] == ["failed"] * 3
        assert all("failed 2 time(s)" in r.message and "fail_first" in r.message for r in short)
        assert sb.counters.requests_by_type["bg.logistics.shipment.update"] == 2 * 3 + 1 * 3
        assert sb.counters.requests_by_type["bg.logistics.shipment.create"] == 6
        for sn in sns[3:]:
            order = sb.world.orders.get(mall_id(sb), sn)
            assert order is not None and order.status == UN_SHIPPING
        await store.close()


async def test_an_expired_label_url_is_refreshed(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        sb.world.labels.expire_next = 2
        sns = unshipped(sb, 1)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(shop, store, sns, tmp_path, fast())
        assert rows[0].outcome == "downloaded"
        assert sb.files.refusals["expired"] == 2
        assert sb.counters.requests_by_type["bg.logistics.shipment.document.get"] == 3
        await store.close()


class Crash(BaseException):
    """Stands in for the process dying at one point of the run."""


class CrashingStore(SqliteFulfilmentStore):
    """Dies when asked to save ``phase``: ``before`` (that save is lost) or after it."""

    def __init__(self, path: Path, phase: str, *, before: bool) -> None:
        super().__init__(path)
        self.phase, self.before = phase, before

    async def save(self, record: FulfilmentRecord) -> None:
        if record.phase == self.phase and self.before:
            raise Crash(record.key)
        await super().save(record)
        if record.phase == self.phase:
            raise Crash(record.key)


@pytest.mark.parametrize(
    ("phase", "before"),
    [("created", True), ("creating", False)],
    ids=["create-ran-outcome-lost", "intent-saved-create-never-sent"],
)
async def test_an_interrupted_create_is_looked_up_not_bought_twice(
    tmp_path: Path, phase: str, before: bool
) -> None:
    async with Sandbox(label_config(label_delay=1)) as sb:
        sns = unshipped(sb, 1)
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            crashing = CrashingStore(tmp_path / "state.db", phase, before=before)
            with pytest.raises(Crash):
                await buy_labels(shop, crashing, sns, tmp_path, fast())
            await crashing.close()
            store = SqliteFulfilmentStore(tmp_path / "state.db")
            left = await store.get("label", shop.name, sns[0])
            assert left is not None and left.phase == "creating"
            rows = await buy_labels(shop, store, sns, tmp_path, fast(resend_after=0.2))
        assert [r.outcome for r in rows] == ["downloaded"]
        creates = sb.counters.requests_by_type["bg.logistics.shipment.create"]
        assert creates == 1
        for sn in child_sns(sb, sns):
            assert sb.world.labels.create_requests[sn] == 1
        # The lookup went through the order's own package list first.
        assert sb.counters.requests_by_type["bg.order.detail.v2.get"] >= 1
        await store.close()


async def test_a_create_whose_answer_is_lost_is_found_not_bought_again(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        # The gateway buys, then answers after the client gave up: OutcomeUnknown.
        sb.faults.set_for_type("bg.logistics.shipment.create", latency_ms=1500)
        sns = unshipped(sb, 3)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        app = TemuApp(creds.app_key, creds.app_secret, base_url=sb.url, timeout=0.5)
        async with app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(shop, store, sns, tmp_path, fast())
        assert [r.outcome for r in rows] == ["downloaded"] * 3
        assert sb.counters.requests_by_type["bg.logistics.shipment.create"] == 3
        for sn in child_sns(sb, sns):
            assert sb.world.labels.create_requests[sn] == 1
        await store.close()


async def test_an_answer_lost_every_time_is_left_pending_not_resent_forever(
    tmp_path: Path,
) -> None:
    async with Sandbox(label_config()) as sb:
        # Dropped before the gateway runs it: the lookup finds nothing, so it is sent
        # once more in this run, then left for a later run.
        sb.faults.set_for_type("bg.logistics.shipment.create", drop_rate=1.0)
        sns = unshipped(sb, 1)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(shop, store, sns, tmp_path, fast(resend_after=0.1))
            assert [r.outcome for r in rows] == ["pending"]
            assert sb.counters.faults["drop"] == 2
            sb.faults.set_for_type("bg.logistics.shipment.create", drop_rate=0.0)
            rows = await buy_labels(shop, store, sns, tmp_path, fast(resend_after=0.1))
        assert [r.outcome for r in rows] == ["downloaded"]
        for sn in child_sns(sb, sns):
            assert sb.world.labels.create_requests[sn] == 1
        await store.close()


async def test_ship_later_keeps_orders_unshipped_until_the_limit(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        sns = unshipped(sb, 2)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(
                shop, store, sns, tmp_path, fast(ship_later=True, ship_later_hours=2)
            )
            assert [r.outcome for r in rows] == ["downloaded"] * 2
            page = await shop.fulfillment.unshipped_packages(page_number=1, page_size=10)
            assert {p.package_sn for p in page.unshipped_package or []} == {
                r.package_sn for r in rows
            }
            for sn in sns:
                order = sb.world.orders.get(mall_id(sb), sn)
                assert order is not None and order.status == UN_SHIPPING
            # The seller confirms one package now; the other ships when its limit passes.
            await shop.fulfillment.shipped_package_confirm(
                package_send_info_list=[
                    {
                        "packageSn": rows[0].package_sn,
                        "trackingNumber": rows[0].tracking_number,
                        "packageDetail": [],
                    }
                ]
            )
            shipped = sb.world.orders.get(mall_id(sb), sns[0])
            assert shipped is not None and shipped.status == SHIPPED
            sb.world.advance(sb.clock.now() + 2 * 3600 + 1)
            later = sb.world.orders.get(mall_id(sb), sns[1])
            assert later is not None and later.status == SHIPPED
        await store.close()


async def test_refused_and_skipped_orders_are_looked_at_again_by_a_later_run(
    tmp_path: Path,
) -> None:
    async with Sandbox(label_config()) as sb:
        sns = unshipped(sb, 2)
        pending = next(
            o.parent_order_sn
            for o in sb.world.orders.shop(mall_id(sb)).by_sn.values()
            if o.status == PENDING
        )
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            # 100 hours is past the sandbox's shipLaterLimitTime range: the gateway refuses.
            bad = fast(ship_later=True, ship_later_hours=100)
            first = await buy_labels(shop, store, [*sns, pending], tmp_path, bad)
            assert [r.outcome for r in first] == ["refused", "refused", "skipped"]
            assert "120015532" in first[0].message
            assert "order status 1" in first[2].message
            assert await store.get("label", shop.name, pending) is None
            again = await buy_labels(shop, store, sns, tmp_path, fast())
        assert [r.outcome for r in again] == ["downloaded"] * 2
        for sn in child_sns(sb, sns):
            assert sb.world.labels.purchases[sn] == 1
        await store.close()


def test_policies_pick_cheapest_fastest_or_given() -> None:
    channels = [
        {
            "channelId": 1,
            "shipCompanyId": 11,
            "estimatedAmount": "5.20",
            "estimatedText": "4-7 days",
        },
        {
            "channelId": 2,
            "shipCompanyId": 12,
            "estimatedAmount": "8.70",
            "estimatedText": "2-5 days",
        },
        {
            "channelId": 3,
            "shipCompanyId": 13,
            "estimatedAmount": "13.90",
            "estimatedText": "1-2 days",
        },
    ]
    assert choose_service(Cheapest(), channels)["channelId"] == 1
    assert choose_service(Fastest(), channels)["channelId"] == 3
    assert choose_service(Given(2, 12), channels)["channelId"] == 2
    with pytest.raises(ParamError, match="channel 9 is not offered"):
        choose_service(Given(9, 12), channels)
    with pytest.raises(ParamError, match="no shipping service"):
        choose_service(Cheapest(), [])


def test_bad_options_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match=r"Parcel\.weight"):
        Parcel(weight="-1", length="1", width="1", height="1")
    with pytest.raises(ValueError, match="max_attempts"):
        LabelOptions(parcel=PARCEL, max_attempts=0)
    with pytest.raises(ValueError, match="ship_later_hours"):
        LabelOptions(parcel=PARCEL, ship_later_hours=3)


async def test_given_policy_and_fastest_reach_the_purchase(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        sns = unshipped(sb, 2)
        creds = sb.credentials
        store = SqliteFulfilmentStore(tmp_path / "state.db")
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            await buy_labels(shop, store, sns[:1], tmp_path, fast(policy=Fastest()))
            await buy_labels(shop, store, sns[1:], tmp_path, fast(policy=Given(410002, 699272612)))
        channels = sorted(
            (p.lines[0].parent_order_sn, p.request["channelId"])
            for p in sb.world.labels.packages.values()
        )
        assert dict(channels) == {sns[0]: 410003, sns[1]: 410002}
        await store.close()


async def test_labels_on_postgresql_are_bought_once_and_a_rerun_buys_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    from temu_async.fulfilment.postgres_store import PostgresFulfilmentStore

    async with Sandbox(label_config(label_delay=1)) as sb:
        sns = unshipped(sb, 10)
        creds = sb.credentials
        store = await PostgresFulfilmentStore.open(postgres_url)
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            rows = await buy_labels(shop, store, sns, tmp_path / "labels", fast())
            again = await buy_labels(shop, store, sns, tmp_path / "labels", fast())
        await store.close()
        assert Counter(r.outcome for r in rows) == {"downloaded": 10}
        assert [r.outcome for r in again] == ["downloaded"] * 10
        assert sb.counters.requests_by_type["bg.logistics.shipment.create"] == 10
        for sn in child_sns(sb, sns):
            assert sb.world.labels.create_requests[sn] == 1
