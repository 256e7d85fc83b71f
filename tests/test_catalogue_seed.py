"""The catalogue against the seed doc: every param, result field and error code the seed
documents for its detailed types is in the catalogue with the documented type and flag.

The seed's tables are parsed here, independently of ``codegen.reference_seed``, so a bug
in the importer cannot hide itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codegen.load import load_catalogue
from temu_async.catalogue import Catalogue, Field, TypeSpec, walk

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "temu_partner_api_doc.md"

DETAILED = [
    "bg.open.accesstoken.create",
    "bg.open.accesstoken.info.get",
    "bg.local.goods.list.query",
    "bg.local.goods.add",
    "temu.local.goods.recommendedprice.query",
    "bg.local.goods.sku.list.price.query",
    "bg.local.goods.priceorder.query",
    "bg.order.list.v2.get",
    "bg.order.detail.v2.get",
    "bg.order.shippinginfo.v2.get",
]
WORDS = {
    "STRING": ("string", None),
    "INTEGER": ("integer", None),
    "LONG": ("long", None),
    "BOOLEAN": ("boolean", None),
    "OBJECT": ("object", None),
    "STRING[]": ("list", "string"),
    "INTEGER[]": ("list", "integer"),
    "LONG[]": ("list", "long"),
    "OBJECT[]": ("list", "object"),
}

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason="the seed doc is not checked out")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "spec")


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def section(text: str, name: str) -> str:
    """The seed's section for one type: from its heading to the next heading of its level."""
    m = re.search(rf"^(#{{3,5}})\s+{re.escape(name)}\b.*$", text, re.M)
    assert m, f"the seed has no section for {name}"
    level = len(m.group(1))
    rest = text[m.end() :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.M)
    body = rest[: end.start()] if end else rest
    # One-line list items of the next types follow a detailed section: not part of it.
    cut = re.search(r"^- `(?:bg|temu)\.", body, re.M)
    return body[: cut.start()] if cut else body


def table_after(body: str, label: str) -> list[list[str]]:
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if label in line and "|" not in line)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = [c.strip().strip("`").strip() for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


def at(fields: list[Field] | None, dotted: str) -> Field | None:
    for path, f in walk(fields):
        if path == dotted:
            return f
    return None


def by_type(cat: Catalogue, name: str) -> TypeSpec:
    t = cat.by_type().get(name)
    assert t is not None, f"{name} is missing from the catalogue"
    return t


@pytest.mark.parametrize("name", DETAILED)
def test_seed_params_present_with_type_and_required(
    catalogue: Catalogue, seed_text: str, name: str
) -> None:
    t = by_type(catalogue, name)
    assert t.documented
    rows = table_after(section(seed_text, name), "请求参数")
    checked = 0
    for cells in rows:
        wire, word, required = cells[0], cells[1], cells[2]
        if wire == "request":  # the docs' wrapper row: not on the wire (PROTOCOL.md)
            continue
        path = wire.replace("[]", "")
        f = at(t.params, path)
        assert f is not None, f"{name}: param {path} is missing"
        kind, items = WORDS[word]
        assert f.type == kind, f"{name}.{path}: {f.type} but the seed says {word}"
        if items is not None:
            assert f.items == items, f"{name}.{path}: items {f.items} but the seed says {word}"
        assert f.required == (required == "是"), f"{name}.{path}: required flag differs"
        checked += 1
    # Types without business params (token info) have only the wrapper row.
    assert checked or name == "bg.open.accesstoken.info.get"


@pytest.mark.parametrize("name", DETAILED)
def test_seed_result_fields_present_with_type(
    catalogue: Catalogue, seed_text: str, name: str
) -> None:
    t = by_type(catalogue, name)
    body = section(seed_text, name)
    for cells in table_after(body, "响应参数"):
        if not cells[0].startswith("result."):
            continue
        path = cells[0][len("result.") :].replace("[]", "")
        f = at(t.response, path)
        assert f is not None, f"{name}: result field {path} is missing"
        kind, items = WORDS[cells[1]]
        assert f.type == kind, f"{name}: result.{path} is {f.type}, the seed says {cells[1]}"
        if items is not None:
            assert f.items == items
    # Types whose result the seed gives as a bullet list (`- \`regionId\`: ...`).
    for bullet in re.findall(r"^- `(\w+)`: ", body, re.M):
        assert at(t.response, bullet) is not None, f"{name}: result field {bullet} is missing"


@pytest.mark.parametrize("name", DETAILED)
def test_seed_error_codes_present_with_exact_message(
    catalogue: Catalogue, seed_text: str, name: str
) -> None:
    t = by_type(catalogue, name)
    body = section(seed_text, name)
    if "错误码" not in body or "暂无特定错误码" in body:
        return
    rows = [r for r in table_after(body, "错误码") if r[0].isdigit()]
    assert rows, f"{name}: the seed's error table did not parse"
    for cells in rows:
        code, message = int(cells[0]), cells[1]
        assert t.errors.get(code) == message, f"{name}: error {code} differs from the seed"


def test_seed_rate_limits(catalogue: Catalogue) -> None:
    types = catalogue.by_type()
    assert types["bg.local.goods.priceorder.query"].rate_limit is not None
    assert types["bg.local.goods.priceorder.query"].rate_limit.per_second == 30
    assert types["bg.local.goods.list.query"].rate_limit is not None
    assert types["bg.local.goods.list.query"].rate_limit.per_second == 20


def test_shipment_confirm_follows_the_signature_example_key_order(catalogue: Catalogue) -> None:
    t = by_type(catalogue, "bg.logistics.shipment.confirm")
    send = at(t.params, "sendRequestList")
    assert send is not None and send.type == "list" and send.items == "object"
    assert [f.name for f in send.fields or []][:3] == [
        "orderSendInfoList",
        "carrierId",
        "trackingNumber",
    ]
    lines = at(t.params, "sendRequestList.orderSendInfoList")
    assert lines is not None
    assert [f.name for f in lines.fields or []][:5] == [
        "quantity",
        "orderSn",
        "parentOrderSn",
        "goodsId",
        "skuId",
    ]
    sent_type = at(t.params, "sendType")
    assert sent_type is not None and sent_type.type == "integer"
    # The docs' example signs carrierId as a JSON string; the bytes must stay a string.
    carrier = at(t.params, "sendRequestList.carrierId")
    assert carrier is not None and carrier.type == "string"


def test_seed_category_type_is_documented(catalogue: Catalogue) -> None:
    cats = by_type(catalogue, "bg.local.goods.cats.get")
    assert cats.documented
    assert at(cats.params, "parentCatId") is not None
