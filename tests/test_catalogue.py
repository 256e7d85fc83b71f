"""The catalogue loads, obeys its rules, covers every reference type, and its loader and
checker reject the mistakes a person editing YAML makes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from codegen.check import load_sources, run, source_problems
from codegen.load import SpecError, load_catalogue, spec_hash
from temu_async.catalogue import Catalogue, problems, walk

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SPEC)


def small_spec(tmp_path: Path, types: list[dict[str, object]], group: str = "order") -> Path:
    """A spec folder with the real gateway.yaml and one group file."""
    spec = tmp_path / "spec"
    (spec / "types").mkdir(parents=True)
    shutil.copy(SPEC / "gateway.yaml", spec / "gateway.yaml")
    doc = {"group": group, "types": types}
    (spec / "types" / f"{group}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return spec


def entry(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "bg.order.list.v2.get",
        "method": "list_v2",
        "summary": "List orders.",
        "idempotent": True,
        "params": [
            {"name": "pageNumber", "type": "integer"},
            {"name": "pageSize", "type": "integer", "maximum": 100},
        ],
        "response": [
            {"name": "totalItemNum", "type": "integer"},
            {"name": "pageItems", "type": "list", "items": "object"},
        ],
        "paginate": {
            "page": "pageNumber",
            "size": "pageSize",
            "items": "pageItems",
            "total": "totalItemNum",
        },
    }
    base.update(over)
    return base


# --------------------------------------------------------------------------- the real spec


def test_real_spec_has_no_problems(catalogue: Catalogue) -> None:
    assert problems(catalogue) == []


def test_real_spec_covers_every_reference_type(catalogue: Catalogue) -> None:
    src = load_sources(SPEC)
    assert src is not None
    assert source_problems(catalogue, src) == []
    names = set(src.seed) | set(src.temu_docs) | set(src.linkfox) | set(src.mentioned)
    assert names <= set(catalogue.by_type())


def test_at_least_150_types_and_the_seed_list(catalogue: Catalogue) -> None:
    src = load_sources(SPEC)
    assert src is not None
    assert len(catalogue.types) >= 150
    assert len(src.seed) >= 110  # the seed's API 范围列表 and module lists
    known = catalogue.by_type()
    assert all(name in known for name in src.seed)
    assert len(src.temu_docs) >= 125
    assert "bg.local.goods.cats.get" in known


def test_check_command_passes_on_the_real_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(SPEC) == 0
    out = capsys.readouterr().out
    assert "types total" in out and "catalogue OK" in out


def test_types_are_sorted_and_grouped_from_their_file(catalogue: Catalogue) -> None:
    keys = [(t.group, t.method) for t in catalogue.types]
    assert keys == sorted(keys)
    order = catalogue.by_type()["bg.order.list.v2.get"]
    assert (order.group, order.method) == ("order", "list_v2")


def test_version_is_a_hash_of_the_files(catalogue: Catalogue, tmp_path: Path) -> None:
    assert catalogue.version == spec_hash(SPEC)
    assert len(catalogue.version) == 16
    copy = tmp_path / "spec"
    shutil.copytree(SPEC, copy)
    assert spec_hash(copy) == catalogue.version
    gateway = copy / "gateway.yaml"
    gateway.write_text(gateway.read_text() + "\n# touched\n")
    assert spec_hash(copy) != catalogue.version


def test_every_documented_fact_the_brief_names(catalogue: Catalogue) -> None:
    types = catalogue.by_type()
    for old, new in (
        ("bg.order.list.get", "bg.order.list.v2.get"),
        ("bg.order.detail.get", "bg.order.detail.v2.get"),
        ("bg.order.shippinginfo.get", "bg.order.shippinginfo.v2.get"),
    ):
        assert types[old].deprecated and types[old].replaced_by == new
    for name in ("bg.logistics.shipment.create", "bg.local.goods.add"):
        assert types[name].idempotent is False
    assert types["bg.local.goods.priceorder.accept"].idempotent is False
    assert types["bg.order.list.v2.get"].idempotent is True
    pg = types["bg.order.list.v2.get"].paginate
    assert pg is not None and (pg.page, pg.size, pg.items, pg.total) == (
        "pageNumber",
        "pageSize",
        "pageItems",
        "totalItemNum",
    )
    assert pg.max_size == 100
    # "Try again later" codes of a type are marked transient; "check and try again" are not.
    assert 150010005 in types["bg.local.goods.priceorder.query"].retryable_errors
    create = types["bg.open.accesstoken.create"]
    assert 110020001 in create.retryable_errors and 110020002 not in create.retryable_errors
    # Types only a linkfox region folder lists are limited to those regions.
    assert types["temu.pay.tax.invoice.info.query"].regions == ["eu"]
    assert types["bg.arbok.open.product.cert.query"].regions == ["global"]


def test_undocumented_types_are_free_form(catalogue: Catalogue) -> None:
    bare = [t for t in catalogue.types if not t.documented]
    assert bare, "the seed names types nobody documents"
    assert all(not t.params and t.response is None for t in bare)


def test_paginated_types_name_real_params(catalogue: Catalogue) -> None:
    paged = [t for t in catalogue.types if t.paginate is not None]
    assert len(paged) >= 15
    for t in paged:
        assert t.paginate is not None
        names = {p for p, _ in walk(t.params)}
        # Paged by page number or by cursor: whichever it names must be a real param.
        named = {t.paginate.page, t.paginate.cursor, t.paginate.size} - {None}
        assert len(named) == 2 and named <= names, t.type


def test_gateway_codes(catalogue: Catalogue) -> None:
    codes = {e.code: e for e in catalogue.errors}
    expected = {1000000, 2000000, 3000000, 3000001, 3000002, 3000003, 3000004, 3000010}
    expected |= {3000011, 3000012, 3000013, 3000014, 3000019, 3000020, 3000021, 3000022}
    expected |= {3000025, 3000026, 3000027, 3000028, 3000030, 3000031, 3000032, 3000033}
    expected |= {3000034, 3000040, 4000000, 4000004, 5000000, 5000001, 5000002, 5000003}
    expected |= {6000001, 7000000}
    assert set(codes) == expected
    assert {c for c, e in codes.items() if e.retryable} == {4000000, 4000004}
    assert codes[4000004].category == "rate_limited"
    assert codes[3000034].category == "token" and "re-authorise" in codes[3000034].hint
    assert codes[3000012].category == "timestamp" and "clock" in codes[3000012].hint
    assert codes[3000032].category == "scope"
    assert all(e.hint for e in codes.values())
    assert catalogue.default_rate_limit == 20
    assert {r.name: r.url for r in catalogue.regions} == {
        "us": "https://openapi-b-us.temu.com/openapi/router",
        "eu": "https://openapi-b-eu.temu.com/openapi/router",
        "global": "https://openapi-b-global.temu.com/openapi/router",
    }


# --------------------------------------------------------------------------- broken specs


def test_small_spec_loads(tmp_path: Path) -> None:
    cat = load_catalogue(small_spec(tmp_path, [entry()]))
    assert problems(cat) == []
    assert cat.types[0].group == "order"


def test_typo_key_names_the_file(tmp_path: Path) -> None:
    bad = entry(params=[{"name": "pageSize", "type": "integer", "requried": True}])
    spec = small_spec(tmp_path, [bad])
    with pytest.raises(SpecError) as err:
        load_catalogue(spec)
    text = str(err.value)
    assert "order.yaml" in text and "requried" in text


def test_typo_at_type_level_names_the_file(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry(idempotnet=True)])
    with pytest.raises(SpecError, match=r"order\.yaml.*idempotnet"):
        load_catalogue(spec)


def test_wrong_value_type_names_the_file(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry(idempotent="yes")])
    with pytest.raises(SpecError, match=r"order\.yaml"):
        load_catalogue(spec)


def test_unknown_top_level_key_in_group_file(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    path = spec / "types" / "order.yaml"
    path.write_text(path.read_text() + "extra: 1\n")
    with pytest.raises(SpecError, match=r"order\.yaml.*extra"):
        load_catalogue(spec)


def test_group_must_match_file_name(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    (spec / "types" / "order.yaml").rename(spec / "types" / "orders.yaml")
    with pytest.raises(SpecError, match=r"orders\.yaml.*group"):
        load_catalogue(spec)


def test_typo_in_gateway_names_the_file(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    gw = spec / "gateway.yaml"
    gw.write_text(gw.read_text().replace("retryable: true", "retriable: true", 1))
    with pytest.raises(SpecError, match=r"gateway\.yaml.*retriable"):
        load_catalogue(spec)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    (spec / "types" / "order.yaml").write_text("group: order\ntypes: [\n")
    with pytest.raises(SpecError, match=r"order\.yaml"):
        load_catalogue(spec)


def test_duplicate_method_fails(tmp_path: Path) -> None:
    second = entry(type="bg.order.list.get", params=[], response=None, paginate=None)
    cat = load_catalogue(small_spec(tmp_path, [entry(), second]))
    found = problems(cat)
    assert any("order.list_v2 is used twice" in p for p in found)


def test_duplicate_type_across_files_fails(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    other = {"group": "goods", "types": [entry(method="other")]}
    (spec / "types" / "goods.yaml").write_text(yaml.safe_dump(other, sort_keys=False))
    assert any("type listed twice" in p for p in problems(load_catalogue(spec)))


def test_paginate_path_that_does_not_exist_fails(tmp_path: Path) -> None:
    pg = {"page": "pageNumber", "size": "pageSize", "items": "orders", "total": "totalItemNum"}
    cat = load_catalogue(small_spec(tmp_path, [entry(paginate=pg)]))
    assert any("'orders'" in p for p in problems(cat))
    pg = {"page": "pageNo", "size": "pageSize", "items": "pageItems"}
    cat = load_catalogue(small_spec(tmp_path / "b", [entry(paginate=pg)]))
    assert any("'pageNo'" in p for p in problems(cat))


def test_retryable_code_must_be_a_listed_error(tmp_path: Path) -> None:
    bad = entry(errors={150010005: "Try again later"}, retryable_errors=[150010002])
    found = problems(load_catalogue(small_spec(tmp_path, [bad])))
    assert any("retryable_errors names 150010002" in p for p in found)


def test_check_command_fails_on_a_broken_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = small_spec(tmp_path, [entry(replaced_by="bg.order.nothing.get", deprecated=True)])
    assert run(spec) == 1
    err = capsys.readouterr().err
    assert "bg.order.nothing.get" in err
    # No sources.yaml in this folder: also reported.
    assert "sources.yaml" in err


def test_check_command_fails_when_a_reference_type_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = small_spec(tmp_path, [entry()])
    shutil.copy(SPEC / "sources.yaml", spec / "sources.yaml")
    assert run(spec) == 1
    assert "bg.order.detail.v2.get: named in the seed doc" in capsys.readouterr().err


def test_check_command_fails_on_typo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = small_spec(tmp_path, [entry(summry="x")])
    assert run(spec) == 1
    assert "order.yaml" in capsys.readouterr().err


def test_events_file_is_optional_and_read_when_present(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, [entry()])
    assert load_catalogue(spec).events == []
    (spec / "events.yaml").write_text(
        "events:\n  - code: bg_open_event_test\n    summary: A test delivery.\n"
    )
    assert [e.code for e in load_catalogue(spec).events] == ["bg_open_event_test"]
