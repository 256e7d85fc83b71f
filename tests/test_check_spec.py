"""``make check-spec``'s description coverage and time-unit rules, on small catalogues
written for each test (the real catalogue is being described in parallel)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from codegen import check
from codegen.check import DESCRIBED_MIN, described, run
from codegen.load import load_catalogue
from codegen.units import is_time_field, missing_units
from temu_async.catalogue import Field

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"


def spec_dir(tmp_path: Path, groups: dict[str, list[dict[str, object]]]) -> Path:
    spec = tmp_path / "spec"
    (spec / "types").mkdir(parents=True)
    shutil.copy(SPEC / "gateway.yaml", spec / "gateway.yaml")
    (spec / "sources.yaml").write_text("seed: []\n", encoding="utf-8")
    for group, types in groups.items():
        doc = {"group": group, "types": types}
        (spec / "types" / f"{group}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return spec


def described_type(name: str, method: str, *, blank: int = 0) -> dict[str, object]:
    """A type with a nested param tree and result tree; ``blank`` leaves that many
    result leaves without a summary."""
    leaves = [
        {"name": f"f{i}", "type": "string", "summary": "" if i < blank else f"Field {i}."}
        for i in range(10)
    ]
    return {
        "type": name,
        "method": method,
        "summary": "A demo type.",
        "idempotent": True,
        "params": [
            {
                "name": "filter",
                "type": "object",
                "summary": "Filter.",
                "fields": [{"name": "code", "type": "string", "summary": "A code."}],
            }
        ],
        "response": [
            {
                "name": "rows",
                "type": "list",
                "items": "object",
                "summary": "Rows.",
                "fields": leaves,
            }
        ],
    }


def test_coverage_counts_every_depth_per_group_and_in_total(tmp_path: Path) -> None:
    spec = spec_dir(
        tmp_path,
        {
            "alpha": [described_type("bg.alpha.one.get", "one")],
            "beta": [described_type("bg.beta.two.get", "two", blank=3)],
        },
    )
    d = described(load_catalogue(spec))
    # filter + filter.code per type; rows + 10 leaves per type.
    assert (d.params.described, d.params.fields) == (4, 4)
    assert (d.results.described, d.results.fields) == (19, 22)
    assert d.groups["alpha"][1].share == 1.0
    assert d.groups["beta"][1].described == 8 and d.groups["beta"][1].fields == 11
    problems = d.below()
    assert len(problems) == 1
    assert "19/22" in problems[0] and "result fields" in problems[0]
    assert "beta" in problems[0] and "alpha" not in problems[0]


def test_the_threshold_is_one_constant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DESCRIBED_MIN == 0.98
    # 49 of 50 result fields described is exactly 98%: passes; 48 of 50 fails.
    many = described_type("bg.alpha.one.get", "one")
    rows = many["response"][0]  # type: ignore[index]
    rows["fields"] = [  # type: ignore[index]
        {"name": f"f{i}", "type": "string", "summary": "" if i == 0 else "x"} for i in range(49)
    ]
    spec = spec_dir(tmp_path, {"alpha": [many]})
    d = described(load_catalogue(spec))
    assert d.results.share == pytest.approx(0.98) and d.below() == []
    monkeypatch.setattr(check, "DESCRIBED_MIN", 0.99)
    assert d.below(check.DESCRIBED_MIN) != []


def test_check_fails_below_the_threshold_and_passes_above(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = spec_dir(
        tmp_path / "weak", {"beta": [described_type("bg.beta.two.get", "two", blank=3)]}
    )
    assert run(weak, tables=False) == 1
    captured = capsys.readouterr()
    assert "descriptions" in captured.out and "beta" in captured.out
    assert "below 98%" in captured.err
    good = spec_dir(tmp_path / "good", {"alpha": [described_type("bg.alpha.one.get", "one")]})
    assert run(good, tables=False) == 0
    assert "catalogue OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "kind", "items"),
    [
        ("createTime", "long", None),
        ("parentConfirmTimeStart", "integer", None),
        ("createAtEnd", "integer", None),
        ("updatedAt", "string", None),
        ("orderTimeMillis", "integer", None),
        ("startTimestamp", "long", None),
        ("reportMonth", "string", None),
        ("deliveryDate", "string", None),
        ("time", "long", None),
        ("shippedTime", "list", "long"),
        ("operateExpireTimeMs", "long", None),
        ("earliestTimeBuyShippingLabel", "integer", None),  # ALSO_TIMES
    ],
)
def test_time_fields_by_name(name: str, kind: str, items: str | None) -> None:
    assert is_time_field(Field(name=name, type=kind, items=items))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("expireDays", "integer"),  # a duration, its unit in the name
        ("shipmentLimitDay", "integer"),
        ("format", "string"),  # lower-case "at" is not the At suffix
        ("createTime", "boolean"),  # not a number or text
        ("createTime", "object"),
        ("timeZone", "string"),
        ("userPickUpTimezone", "string"),
        ("uspsMailingDateOffset", "integer"),
        ("pickUpTimeScheduleMode", "integer"),
        ("pickupTimeList", "list"),  # a list named ...List: the name does not say it is a time
    ],
)
def test_not_time_fields(name: str, kind: str) -> None:
    assert not is_time_field(Field(name=name, type=kind))  # type: ignore[arg-type]


def test_a_time_field_without_unit_fails_at_any_depth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = described_type("bg.alpha.one.get", "one")
    t["response"][0]["fields"].append(  # type: ignore[index]
        {"name": "shippedTime", "type": "long", "summary": "When it shipped."}
    )
    t["params"].append(  # type: ignore[attr-defined]
        {"name": "createdAtStart", "type": "string", "summary": "From.", "unit": "yyyy-MM-dd"}
    )
    spec = spec_dir(tmp_path, {"alpha": [t]})
    cat = load_catalogue(spec)
    assert missing_units(cat) == [
        "bg.alpha.one.get.response.rows.shippedTime: a time field without `unit` "
        "(epoch_s, epoch_ms or a date format)"
    ]
    assert run(spec, tables=False) == 1
    assert "rows.shippedTime" in capsys.readouterr().err
    t["response"][0]["fields"][-1]["unit"] = "epoch_ms"  # type: ignore[index]
    spec2 = spec_dir(tmp_path / "fixed", {"alpha": [t]})
    assert missing_units(load_catalogue(spec2)) == []
    assert run(spec2, tables=False) == 0


def test_table_differences_report_required_and_integer_long_per_own_table(tmp_path: Path) -> None:
    from codegen.importer import Sources
    from codegen.reference_linkfox import LinkfoxPage
    from codegen.reference_tables import format_diffs, table_differences

    t = described_type("bg.alpha.one.get", "one")
    t["params"].append({"name": "shopId", "type": "integer", "summary": "Shop."})  # type: ignore[attr-defined]
    cat = load_catalogue(spec_dir(tmp_path, {"alpha": [t]}))
    stated = [
        Field(name="shopId", type="long", required=True),
        Field(name="filter", type="object", fields=[Field(name="code", type="string")]),
    ]
    src = Sources()
    for region in ("eu", "us"):
        folder = tmp_path / f"linkfox-temu-alpha-{region}" / "references" / "apis"
        src.linkfox.setdefault("bg.alpha.one.get", []).append(
            LinkfoxPage(
                type="bg.alpha.one.get",
                path=folder / "bg-alpha-one-get.md",
                region=region,
                stated_params=stated,
            )
        )
    # A topic page (not under apis/) writes JSON words: it is never compared.
    src.linkfox["bg.alpha.one.get"].append(
        LinkfoxPage(
            type="bg.alpha.one.get",
            path=tmp_path / "linkfox-temu-alpha-us" / "references" / "topic.md",
            region="us",
            stated_params=[Field(name="filter", type="object", required=True)],
        )
    )
    diffs = table_differences(cat, src)
    assert [(d.path, d.kind, d.spec, d.table) for d in diffs] == [
        ("params.shopId", "integer/long", "integer", "long"),
        ("params.shopId", "required", "optional", "required"),
    ]
    # The two region pages agree: one line naming both.
    assert diffs[0].source == "linkfox-temu-alpha-eu, linkfox-temu-alpha-us"
    assert format_diffs(diffs).startswith("1 required-flag and 1 integer/long difference(s)")


def test_page_size_bounds_are_required_on_paginated_types(tmp_path: Path) -> None:
    from codegen.check import page_size_problems

    def paged(
        name: str, method: str, size: dict[str, object], max_size: int = 100
    ) -> dict[str, object]:
        t = described_type(name, method)
        t["params"] = [
            {"name": "pageNo", "type": "integer", "summary": "Page."},
            {"name": "pageSize", "type": "integer", "summary": "Size.", **size},
        ]
        t["paginate"] = {
            "page": "pageNo",
            "size": "pageSize",
            "items": "rows",
            "max_size": max_size,
        }
        return t

    spec = spec_dir(
        tmp_path,
        {
            "alpha": [
                paged("bg.alpha.one.get", "one", {"maximum": 100}),
                paged("bg.alpha.two.get", "two", {"minimum": 1, "maximum": 200}),
                paged("bg.alpha.three.get", "three", {"minimum": 1, "maximum": 50}),
            ]
        },
    )
    assert page_size_problems(load_catalogue(spec)) == [
        "bg.alpha.one.get.params.pageSize: a page size needs minimum and maximum",
        "bg.alpha.two.get.params.pageSize: maximum 200 is above the paginate max_size 100",
    ]


def test_every_paginated_type_in_the_catalogue_bounds_its_page_size() -> None:
    from codegen.check import page_size_problems

    cat = load_catalogue(SPEC)
    assert page_size_problems(cat) == []
    sizes = {
        t.type: next(f for f in t.params if f.name == t.paginate.size)
        for t in cat.types
        if t.paginate is not None
    }
    assert all(f.minimum == 1 for f in sizes.values())
    # Documented maxima (the references' own words), not the default.
    assert sizes["temu.logistics.scanform.get"].maximum == 10
    assert sizes["temu.logistics.candidate.scanform.list.get"].maximum == 500
    assert sizes["bg.local.goods.priceorder.query"].maximum == 99  # "须小于 100"
    assert sizes["bg.aftersales.aftersales.list.get"].maximum == 200


def test_english_maxima_in_prose() -> None:
    from codegen.reference_linkfox import bounds_from_text

    assert bounds_from_text("Page size, default is 10, max is 200.", False) == {"maximum": 200}


def test_units_are_said_in_words_in_docs_and_docstrings() -> None:
    from codegen.units import with_unit

    assert with_unit(Field(name="t", type="long", summary="When", unit="epoch_s")) == (
        "When. Unit: seconds since the Unix epoch."
    )
    assert with_unit(Field(name="d", type="string", unit="yyyy-MM-dd")) == "Format: yyyy-MM-dd."
    assert with_unit(Field(name="n", type="string", summary="Name.")) == "Name."
    # The committed reference page and generated code carry them (regenerated from spec/).
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert (
        "| `taxInvoiceInfoList[].invoiceTime` | integer | When the invoice was issued. "
        "Unit: milliseconds since the Unix epoch. |"
    ) in api
    tax = (ROOT / "src" / "temu_async" / "_generated" / "tax.py").read_text(encoding="utf-8")
    assert "When the order was placed. Unit: milliseconds since the Unix epoch." in tax
