"""bg.tmc.message.update params, and the events catalogue (spec/events.yaml)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import yaml

from temu_async.catalogue import Catalogue, Event, problems
from temu_async.webhooks import SUBSCRIPTION_TYPE, subscription_params

EVENTS_YAML = Path(__file__).resolve().parent.parent / "spec" / "events.yaml"
DOCUMENTED = {
    "bg_open_event_test",
    "bg_order_status_change_event",
    "bg_trade_logistics_address_changed",
    "bg_aftersales_status_change",
    "bg_cancel_order_status_change",
    "bg_cooperative_warehouse_erp_fulfill_change_push",
}


def test_subscribe_and_unsubscribe() -> None:
    assert SUBSCRIPTION_TYPE == "bg.tmc.message.update"
    assert subscription_params(
        subscribe=["bg_order_status_change_event", "bg_aftersales_status_change"],
        unsubscribe=("bg_trade_logistics_address_changed",),
    ) == {
        "permitEventCodeList": ["bg_order_status_change_event", "bg_aftersales_status_change"],
        "cancelEventCodeList": ["bg_trade_logistics_address_changed"],
    }


def test_empty_side_is_left_out_and_repeats_dropped() -> None:
    assert subscription_params(unsubscribe=["bg_open_event_test", "bg_open_event_test"]) == {
        "cancelEventCodeList": ["bg_open_event_test"]
    }


def test_nothing_to_do_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        subscription_params()


def test_same_code_on_both_sides_is_refused() -> None:
    with pytest.raises(ValueError, match="both name bg_open_event_test"):
        subscription_params(subscribe=["bg_open_event_test"], unsubscribe=["bg_open_event_test"])


def test_at_most_20_per_side() -> None:
    codes = [f"bg_event_{i}" for i in range(21)]
    assert len(subscription_params(subscribe=codes[:20])["permitEventCodeList"]) == 20
    with pytest.raises(ValueError, match="unsubscribe holds 21 event codes"):
        subscription_params(unsubscribe=codes)


@pytest.mark.parametrize("bad", ["", "Bg_Event", "bg event", "bg.tmc.message.update", 5])
def test_bad_codes_are_named(bad: object) -> None:
    with pytest.raises(ValueError, match="subscribe:"):
        subscription_params(subscribe=[bad])  # type: ignore[list-item]


def test_a_bare_string_is_not_a_list_of_codes() -> None:
    with pytest.raises(TypeError, match="subscribe must be a list"):
        subscription_params(subscribe="bg_open_event_test")


def load_events() -> list[Event]:
    return msgspec.convert(yaml.safe_load(EVENTS_YAML.read_text())["events"], list[Event])


def test_events_yaml_decodes_and_is_sound() -> None:
    events = load_events()
    assert {e.code for e in events} == DOCUMENTED
    assert problems(Catalogue(events=events)) == []
    assert all(e.summary.strip() for e in events)


def test_events_yaml_fields_match_the_docs() -> None:
    by_code = {e.code: {f.name: f for f in e.fields} for e in load_events()}
    order = by_code["bg_order_status_change_event"]
    assert list(order) == ["mallId", "parentOrderSn", "orderSn", "orderStatus", "updateTime"]
    assert order["mallId"].type == "long"
    assert order["orderStatus"].enum is not None and order["orderStatus"].enum[41]
    after = by_code["bg_aftersales_status_change"]
    assert after["updateAt"].type == "long"
    assert after["parentAfterSalesStatus"].enum is not None
    assert set(after["parentAfterSalesStatus"].enum) == {1, 5, 6, 7, 8, 10}
    assert list(by_code["bg_trade_logistics_address_changed"]) == ["mallId", "parentOrderSn"]
    coop = by_code["bg_cooperative_warehouse_erp_fulfill_change_push"]
    assert coop["trackingInfoUpdate"].type == "boolean"
    assert all(f.required for f in coop.values())
    # Values Temu sends us: an undocumented one must not be refused.
    assert all(
        f.enum_closed is False for fields in by_code.values() for f in fields.values() if f.enum
    )
