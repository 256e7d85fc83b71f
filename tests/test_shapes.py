"""Named shapes: the loader, the text-level ``shapes --apply``, shared Structs, old names.

The rewrite is checked byte for byte on a small file written here (comments, flow and
block style, descriptions on the fields), and on a copy of the real catalogue: after it,
every type has exactly the fields it had (shapes are only a way of writing them), and at
most 5% of the generated Structs repeat another's fields. The old Struct names are then
imported from a generated copy of the package, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codegen.generate import GENERATED_DIR, LEGACY_NAMES, run
from codegen.load import SpecError, load_catalogue
from codegen.model import build_shapes
from codegen.shapes import apply, match_key, propose, repeats
from codegen.shapes import run as run_shapes
from temu_async.catalogue import problems

REPO = Path(__file__).resolve().parent.parent

SHAPES = """\
shapes:
- name: Money
  summary: An amount with its currency.
  fields:
  - {name: currency, type: string, summary: Currency code.}
  - {name: amount, type: long, summary: The amount.}
- name: Parcel
  summary: A parcel.
  fields:
  - name: weight
    type: long
    required: true
  - {name: price, type: object, shape: Money}
"""

# The shape takes the words it lacked from the fields it replaced: a unit, a summary.
SHAPES_APPLIED = SHAPES.replace(
    "summary: The amount.}", 'summary: The amount., unit: "minor_units"}'
).replace("    required: true\n", '    required: true\n    summary: "Weight, in grams."\n')

GATEWAY = "default_rate_limit: 20\nregions: []\nerrors: []\n"

# Block style with descriptions and units, flow style, a comment inside a replaced span,
# one near miss (an extra field), and a parcel whose inner money is spelled out too.
ORDER = """\
group: order  # the order group
types:
  - type: bg.order.amount.query
    method: amount
    summary: Amounts.
    idempotent: true
    response:
      - name: total
        type: object
        summary: The total.
        fields:
          # money, spelled out
          - {name: currency, type: string, summary: Its currency.}
          - {name: amount, type: long, unit: minor_units}
      - {name: tax, type: object, fields: [{name: currency, type: string}, {name: amount, type: long}], summary: Tax.}
      - name: fee
        type: object
        fields:
          - {name: currency, type: string}
          - {name: amount, type: long}
          - {name: note, type: string}
      - name: parcels
        type: list
        items: object
        fields:
          - {name: weight, type: long, required: true, summary: "Weight, in grams."}
          - name: price
            type: object
            fields:
              - {name: currency, type: string}
              - {name: amount, type: long}
        summary: Parcels.
"""

ORDER_APPLIED = """\
group: order  # the order group
types:
  - type: bg.order.amount.query
    method: amount
    summary: Amounts.
    idempotent: true
    response:
      - name: total
        type: object
        summary: The total.
        shape: Money
      - {name: tax, type: object, shape: Money, summary: Tax.}
      - name: fee
        type: object
        fields:
          - {name: currency, type: string}
          - {name: amount, type: long}
          - {name: note, type: string}
      - name: parcels
        type: list
        items: object
        shape: Parcel
        summary: Parcels.
"""


def _spec(tmp_path: Path, order: str = ORDER, shapes: str = SHAPES) -> Path:
    spec = tmp_path / "spec"
    (spec / "types").mkdir(parents=True)
    (spec / "gateway.yaml").write_text(GATEWAY, encoding="utf-8")
    (spec / "shapes.yaml").write_text(shapes, encoding="utf-8")
    (spec / "types" / "order.yaml").write_text(order, encoding="utf-8")
    return spec


def test_apply_edits_only_the_matching_spans(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    before = load_catalogue(spec)
    changes = apply(spec)
    order = spec / "types" / "order.yaml"
    shapes = spec / "shapes.yaml"
    assert list(changes) == [order, shapes]
    assert changes[order].text == ORDER_APPLIED
    assert changes[order].count == 3
    # Nothing goes silently: words the shape lacked move into it, the others are listed.
    assert changes[order].dropped == [
        "order.yaml:8 total.currency: summary 'Its currency.' (the shape says 'Currency code.')",
    ]
    assert changes[shapes].text == SHAPES_APPLIED
    assert (changes[shapes].count, changes[shapes].filled) == (0, 2)
    for path, change in changes.items():
        path.write_text(change.text, encoding="utf-8")
    after = load_catalogue(spec)
    assert not problems(after)
    # The runtime sees the same trees (integer reads as long: one JSON number).
    for old, new in zip(before.types, after.types, strict=True):
        assert match_key(old.response or []) == match_key(new.response or [])
    total = after.types[0].response
    assert total is not None and total[0].shape == "Money" and total[0].fields is not None
    assert [f.summary for f in total[0].fields] == ["Currency code.", "The amount."]
    assert total[0].fields[1].unit == "minor_units"
    assert apply(spec) == {}  # a second run finds nothing left


def test_shape_errors_are_reported(tmp_path: Path) -> None:
    both = ORDER_APPLIED.replace("shape: Money\n", "shape: Money\n        fields: []\n", 1)
    spec = _spec(
        tmp_path / "a", order=both.replace("fields: []", "fields: [{name: x, type: string}]")
    )
    with pytest.raises(SpecError, match="give either `shape` or `fields`"):
        load_catalogue(spec)
    spec = _spec(tmp_path / "b", order=ORDER_APPLIED.replace("shape: Money", "shape: Cash", 1))
    assert problems(load_catalogue(spec)) == [
        "bg.order.amount.query.response.total: shape 'Cash' is not one of spec/shapes.yaml"
    ]
    circle = SHAPES.replace(
        "- {name: amount, type: long", "- {name: amount, type: object, shape: Parcel"
    )
    with pytest.raises(SpecError, match="circle: Money -> Parcel -> Money"):
        load_catalogue(_spec(tmp_path / "c", shapes=circle))


def test_one_struct_per_shape_with_a_param_variant_only_when_it_differs(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    (spec / "types" / "order.yaml").write_text(ORDER_APPLIED, encoding="utf-8")
    (spec / "types" / "logistics.yaml").write_text(
        "group: logistics\ntypes:\n  - type: bg.logistics.send\n    method: send\n"
        "    summary: Send.\n    idempotent: false\n    params:\n"
        "      - {name: parcel, type: object, shape: Parcel, required: true}\n"
        "      - {name: fee, type: object, shape: Money}\n",
        encoding="utf-8",
    )
    cat = load_catalogue(spec)
    shapes = build_shapes(cat)
    assert [s.name for s in shapes.structs] == ["Money", "Parcel", "ParcelParam"]
    assert shapes.results == {"Money": "Money", "Parcel": "Parcel"}
    # Money reads the same as a param (nothing required): one class for both uses.
    assert shapes.params == {"Money": "Money", "Parcel": "ParcelParam"}
    root = tmp_path / "repo"
    (root / "src" / "temu_async").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    assert run(spec, root) == 0
    out = root / GENERATED_DIR
    shapes_py = (out / "shapes.py").read_text(encoding="utf-8")
    assert shapes_py.count("class Money(") == 1 and "class ParcelParam(" in shapes_py
    order = (out / "order.py").read_text(encoding="utf-8")
    logistics = (out / "logistics.py").read_text(encoding="utf-8")
    assert "from temu_async._generated.shapes import Money, Parcel" in order
    assert "total: Money | None" in order and "parcels: list[Parcel] | None" in order
    assert "from temu_async._generated.shapes import Money, ParcelParam" in logistics
    assert "parcel: ParcelParam | Mapping[str, Any]," in logistics
    # No copy of the shapes in the group module: only what is its own.
    assert re.findall(r"^class (\w+)", order, re.M) == [
        "OrderAmountFee",
        "OrderAmountResult",
        "OrderGroup",
    ]


def test_the_proposer_finds_what_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, shapes="shapes: []\n")
    proposals = propose(load_catalogue(spec), minimum=2)
    # total, tax and parcels[].price: integer and long amounts are the same structure.
    assert [(p.name, p.count) for p in proposals] == [("Total", 3)]
    assert run_shapes(spec) == 0
    out = capsys.readouterr().out
    assert "0 shapes in spec/shapes.yaml" in out
    assert "# 3 times, e.g. bg.order.amount.query result total\n- name: Total" in out


def test_the_real_catalogue_after_apply(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(REPO / "spec", spec)
    before = load_catalogue(spec)
    for path, change in apply(spec).items():
        path.write_text(change.text, encoding="utf-8")
    after = load_catalogue(spec)
    assert not problems(after)
    old = {t.type: t for t in before.types}
    for t in after.types:
        assert match_key(t.params) == match_key(old[t.type].params), t.type
        assert match_key(t.response or []) == match_key(old[t.type].response or []), t.type
    total, repeated = repeats(after)
    assert repeated <= 0.05 * total, (repeated, total)


def test_old_struct_names_still_import_with_a_warning(tmp_path: Path) -> None:
    # A generated copy of the package from the applied catalogue, imported in a fresh
    # interpreter: what a user's `from temu_async.types import OrderAmount...` meets.
    spec = tmp_path / "spec"
    shutil.copytree(REPO / "spec", spec)
    for path, change in apply(spec).items():
        path.write_text(change.text, encoding="utf-8")
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    assert run(spec, root) == 0
    legacy = json.loads(LEGACY_NAMES.read_text(encoding="utf-8"))
    script = textwrap.dedent(
        """
        import json, sys, warnings
        import temu_async
        assert temu_async.__file__.startswith(sys.argv[1]), temu_async.__file__
        from temu_async._generated.type_index import MODULES, RENAMED
        from temu_async.types import Money
        legacy = json.loads(sys.argv[2])
        assert set(legacy) <= set(MODULES), sorted(set(legacy) - set(MODULES))[:5]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from temu_async.types import OrderAmountBasePriceTotal
            from temu_async._generated.order import OrderAmountBasePriceTotal as again
            import temu_async.types as types
            types.OrderAmountBasePriceTotal
        assert OrderAmountBasePriceTotal is Money is again
        assert len(caught) == 3, [str(w.message) for w in caught]
        for w in caught:
            assert w.category is DeprecationWarning
            assert "OrderAmountBasePriceTotal is deprecated" in str(w.message)
            assert "temu_async.types.Money" in str(w.message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for name in legacy:
                if name not in RENAMED:
                    getattr(types, name)  # still defined under its own name: no warning
        print(len(RENAMED))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root / "src"), json.dumps(legacy)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 200


def test_units_that_disagree_stay_out_of_the_shape_and_are_reported(tmp_path: Path) -> None:
    order = ORDER.replace(
        "{name: currency, type: string}, {name: amount, type: long}]",
        "{name: currency, type: string}, {name: amount, type: long, unit: major_units}]",
    )
    spec = _spec(tmp_path, order=order)
    changes = apply(spec)
    shapes = spec / "shapes.yaml"
    # minor_units in `total`, major_units in `tax`: a unit is a fact about every use of
    # the shape, so neither is taken; the summary still is.
    assert "unit:" not in changes[shapes].text
    assert changes[shapes].filled == 1
    dropped = changes[spec / "types" / "order.yaml"].dropped
    assert "order.yaml:8 total.amount: unit 'minor_units' (the shape says None)" in dropped
    assert "order.yaml:15 tax.amount: unit 'major_units' (the shape says None)" in dropped


def test_integer_and_long_do_not_match_each_table_is_followed() -> None:
    # A table that says INTEGER where the shape says LONG keeps its own type: the
    # structure stays spelled out rather than taking the shape's.
    from codegen.shapes import match_key
    from temu_async.catalogue import Field

    as_long = [Field(name="currency", type="string"), Field(name="amount", type="long")]
    as_int = [Field(name="currency", type="string"), Field(name="amount", type="integer")]
    assert match_key(as_long) != match_key(as_int)
    assert match_key(as_long) == match_key(
        [Field(name="currency", type="string", summary="x"), Field(name="amount", type="long")]
    )
