"""`python -m codegen diff`: every kind of catalogue change is reported at the right path,
exactly the changes that can fail existing callers are marked breaking, git revisions
read the committed spec, and `--changelog` renders a pasteable section."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.__main__ import main as codegen_main
from codegen.diff import (
    FIELD_ATTRS,
    TYPE_ATTRS,
    CatalogueDiff,
    Change,
    _Collector,
    _compare_rest,
    diff_catalogues,
    render_changelog,
    run,
)
from codegen.load import load_catalogue, spec_hash
from temu_async.catalogue import Catalogue, Field, FieldType, Paginate, RateLimit, TypeSpec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"

GATEWAY = {
    "default_rate_limit": 20,
    "regions": [{"name": "us", "url": "https://openapi-b-us.temu.com/openapi/router"}],
    "errors": [{"code": 4000004, "name": "RATE_LIMITED", "message": "limit", "category": "app"}],
}


def list_orders() -> dict[str, Any]:
    """A small but nested type: a closed param enum, a list of objects, a paged result."""
    return {
        "type": "bg.order.list.v2.get",
        "method": "list_v2",
        "summary": "List orders.",
        "idempotent": True,
        "params": [
            {"name": "pageNumber", "type": "integer", "required": True},
            {"name": "pageSize", "type": "integer", "minimum": 1, "maximum": 100},
            {"name": "parentOrderStatus", "type": "integer", "enum": {0: "all", 1: "a", 2: "b"}},
            {"name": "remark", "type": "string"},
            {
                "name": "sendRequestList",
                "type": "list",
                "items": "object",
                "fields": [{"name": "carrierId", "type": "long", "required": True}],
            },
        ],
        "response": [
            {"name": "totalItemNum", "type": "integer"},
            {
                "name": "pageItems",
                "type": "list",
                "items": "object",
                "fields": [{"name": "parentOrderSn", "type": "string", "required": True}],
            },
        ],
        "paginate": {"page": "pageNumber", "size": "pageSize", "items": "pageItems"},
    }


def write_spec(root: Path, types: list[dict[str, Any]], group: str = "order") -> Path:
    """A complete spec folder: gateway.yaml and one group file."""
    spec = root / "spec"
    (spec / "types").mkdir(parents=True, exist_ok=True)
    (spec / "gateway.yaml").write_text(yaml.safe_dump(GATEWAY, sort_keys=False))
    doc = {"group": group, "types": types}
    (spec / "types" / f"{group}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return spec


def param(entry: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in entry["params"] if p["name"] == name)
    return found


def edited_types() -> list[dict[str, Any]]:
    """The brief's five edits: retyped, added type, newly required, removed field, enum value."""
    t = copy.deepcopy(list_orders())
    param(t, "pageSize")["type"] = "string"
    del param(t, "pageSize")["minimum"], param(t, "pageSize")["maximum"]
    param(t, "remark")["required"] = True
    t["response"] = [f for f in t["response"] if f["name"] != "totalItemNum"]
    del param(t, "parentOrderStatus")["enum"][2]
    added = {
        "type": "bg.order.shippinginfo.v2.get",
        "method": "shipping_info_v2",
        "summary": "Read where an order ships to.",
        "idempotent": True,
        "params": [{"name": "parentOrderSn", "type": "string", "required": True}],
    }
    return [t, added]


@pytest.fixture
def two_specs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_spec(tmp_path / "old", [list_orders()]),
        write_spec(tmp_path / "new", edited_types()),
    )


def texts(changes: list[Change]) -> dict[str, bool]:
    """Change text -> breaking."""
    return {c.text: c.breaking for c in changes}


# --------------------------------------------------------------------------- the brief's case


def test_each_edit_is_reported_and_only_the_harmful_ones_break(
    two_specs: tuple[Path, Path],
) -> None:
    old, new = (load_catalogue(p) for p in two_specs)
    diff = diff_catalogues(old, new)
    assert texts(diff.changes) == {
        "param pageSize: type integer -> string": True,
        # Dropping bounds loosens what a param accepts: reported, not breaking.
        "param pageSize: minimum 1 -> none": False,
        "param pageSize: maximum 100 -> none": False,
        "param remark: now required": True,
        "result field totalItemNum: removed (integer)": True,
        "param parentOrderStatus: enum value 2 (b) removed": True,
        "new type: Read where an order ships to. [us, eu, global]": False,
    }
    added = next(c for c in diff.changes if c.subject == "bg.order.shippinginfo.v2.get")
    assert added.kind == "added"
    assert diff.labels["bg.order.shippinginfo.v2.get"] == (
        "bg.order.shippinginfo.v2.get (order.shipping_info_v2)"
    )
    assert diff.summary() == "1 added, 2 removed, 4 changed, 4 breaking"
    assert (diff.old_version, diff.new_version) == (old.version, new.version)


def test_console_report_groups_by_type_and_tags_breaking_lines(
    two_specs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_specs
    assert run(str(old), str(new), old) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    block = lines.index("bg.order.list.v2.get (order.list_v2)")
    # Breaking lines come first in a type's block, each tagged; additive ones are not.
    assert lines[block + 1].startswith("  BREAKING ")
    assert "  BREAKING ~ param pageSize: type integer -> string" in lines
    assert "  BREAKING - result field totalItemNum: removed (integer)" in lines
    assert "           + new type: Read where an order ships to. [us, eu, global]" in lines
    assert "bg.order.shippinginfo.v2.get (order.shipping_info_v2)" in lines
    assert lines[-1] == "1 added, 2 removed, 4 changed, 4 breaking"
    assert sum("BREAKING" in line for line in lines) == 4


def test_fail_on_breaking_sets_the_exit_code(
    tmp_path: Path, two_specs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_specs
    assert run(str(old), str(new), old, fail_on_breaking=True) == 1
    additive = [list_orders(), edited_types()[1]]
    only_added = write_spec(tmp_path / "additive", additive)
    assert run(str(old), str(only_added), old, fail_on_breaking=True) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 added, 0 removed, 0 changed, 0 breaking"


def test_changelog_renders_breaking_added_changed_sections(
    two_specs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_specs
    assert run(str(old), str(new), old, changelog=True) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert text.startswith(f"### Catalogue {spec_hash(new)} (was {spec_hash(old)})\n")
    assert text.index("#### Breaking") < text.index("#### Added") < text.index("#### Changed")
    breaking = text[text.index("#### Breaking") : text.index("#### Added")]
    assert "- `bg.order.list.v2.get` (`order.list_v2`): param `pageSize`: type" in breaking
    assert "param `remark`: now required" in breaking
    assert "result field `totalItemNum`: removed" in breaking
    assert "param `parentOrderStatus`: enum value 2 (b) removed" in breaking
    added = text[text.index("#### Added") : text.index("#### Changed")]
    assert "`bg.order.shippinginfo.v2.get` (`order.shipping_info_v2`): new type" in added
    assert "param `pageSize`: minimum 1 -> none" in text[text.index("#### Changed") :]
    # The summary goes to stderr so stdout stays pasteable.
    assert "4 breaking" in captured.err
    assert "4 breaking" not in text


def test_changelog_leaves_out_empty_sections() -> None:
    old = Catalogue(version="a", types=[typespec()])
    new = Catalogue(
        version="b", types=[typespec(), typespec(type="bg.order.other.get", method="o")]
    )
    text = render_changelog(diff_catalogues(old, new))
    assert "#### Added" in text
    assert "#### Breaking" not in text
    assert "#### Changed" not in text


# --------------------------------------------------------------------------- single rules


def typespec(**over: Any) -> TypeSpec:
    base: dict[str, Any] = {
        "type": "bg.order.list.v2.get",
        "method": "list_v2",
        "group": "order",
        "summary": "List orders.",
        "idempotent": True,
    }
    base.update(over)
    return TypeSpec(**base)


def compare(old: TypeSpec, new: TypeSpec) -> dict[str, bool]:
    return texts(diff_catalogues(Catalogue(types=[old]), Catalogue(types=[new])).changes)


def test_nested_param_paths_are_dotted_with_list_markers() -> None:
    def shape(carrier: FieldType) -> TypeSpec:
        inner = [Field(name="carrierId", type=carrier, required=True)]
        outer = Field(name="sendRequestList", type="list", items="object", fields=inner)
        return typespec(params=[outer])

    assert compare(shape("long"), shape("string")) == {
        "param sendRequestList[].carrierId: type long -> string": True
    }


def test_integer_widths_break_only_a_narrowed_param() -> None:
    def with_types(p: FieldType, r: FieldType) -> TypeSpec:
        return typespec(
            params=[Field(name="goodsId", type=p)],
            response=[Field(name="total", type=r)],
        )

    assert compare(with_types("integer", "long"), with_types("long", "integer")) == {
        "param goodsId: type integer -> long": False,
        "result field total: type long -> integer": False,
    }
    assert compare(with_types("long", "integer"), with_types("integer", "long")) == {
        "param goodsId: type long -> integer": True,
        "result field total: type integer -> long": False,
    }


def test_added_params_break_only_when_required() -> None:
    old = typespec(params=[])
    new = typespec(
        params=[Field(name="a", type="string", required=True), Field(name="b", type="long")]
    )
    assert compare(old, new) == {
        "param a: added (string, required)": True,
        "param b: added (long, optional)": False,
    }
    assert compare(new, old) == {
        "param a: removed (string, required)": True,
        "param b: removed (long, optional)": True,
    }


def test_bounds_break_when_tightened_on_params_only() -> None:
    def bounded(lo: int | None, hi: int | None) -> TypeSpec:
        return typespec(
            params=[Field(name="pageSize", type="integer", minimum=lo, maximum=hi)],
            response=[Field(name="total", type="integer", minimum=lo, maximum=hi)],
        )

    assert compare(bounded(1, 100), bounded(5, 50)) == {
        "param pageSize: minimum 1 -> 5 (tightened)": True,
        "param pageSize: maximum 100 -> 50 (tightened)": True,
        "result field total: minimum 1 -> 5 (tightened)": False,
        "result field total: maximum 100 -> 50 (tightened)": False,
    }
    assert compare(bounded(5, 50), bounded(1, None)) == {
        "param pageSize: minimum 5 -> 1": False,
        "param pageSize: maximum 50 -> none": False,
        "result field total: minimum 5 -> 1": False,
        "result field total: maximum 50 -> none": False,
    }


def test_list_length_bounds_count_too() -> None:
    def sized(n: int | None) -> TypeSpec:
        return typespec(params=[Field(name="sns", type="list", items="string", max_items=n)])

    assert compare(sized(None), sized(20)) == {"param sns: max_items none -> 20 (tightened)": True}


def test_enum_rules() -> None:
    def status(enum: dict[int | str, str] | None, closed: bool = True) -> TypeSpec:
        return typespec(
            params=[Field(name="status", type="integer", enum=enum, enum_closed=closed)],
            response=[Field(name="state", type="integer", enum=enum, enum_closed=False)],
        )

    # A response value no longer documented takes nothing from a reader.
    assert compare(status({1: "a", 2: "b"}), status({1: "a", 3: "c"})) == {
        "param status: enum value 2 (b) removed": True,
        "param status: enum value 3 (c) added": False,
        "result field state: enum value 2 (b) removed": False,
        "result field state: enum value 3 (c) added": False,
    }
    # An open param enum refuses nothing, so dropping one of its examples breaks nothing.
    assert compare(status({1: "a", 2: "b"}, False), status({1: "a"}, False)) == {
        "param status: enum value 2 (b) removed": False,
        "result field state: enum value 2 (b) removed": False,
    }
    assert compare(status({1: "a"}, False), status({1: "a"}, True)) == {
        "param status: enum is now closed (other values refused)": True
    }
    assert compare(status(None), status({1: "a"})) == {
        "param status: now limited to documented values 1": True,
        "result field state: values now documented (1)": False,
    }
    assert compare(status({1: "a"}), status({1: "first"})) == {
        "param status: enum labels reworded for 1": False,
        "result field state: enum labels reworded for 1": False,
    }


def test_required_flags_break_only_newly_required_params() -> None:
    def flags(req: bool) -> TypeSpec:
        return typespec(
            params=[Field(name="sn", type="string", required=req)],
            response=[Field(name="sn", type="string", required=req)],
        )

    assert compare(flags(False), flags(True)) == {
        "param sn: now required": True,
        "result field sn: always present": False,
    }
    assert compare(flags(True), flags(False)) == {
        "param sn: now optional": False,
        # Result Structs are all-optional already: a caller handles None either way.
        "result field sn: may now be absent": False,
    }


def test_removed_subtree_is_one_line_and_new_shape_is_one_line() -> None:
    children = [Field(name="currency", type="string"), Field(name="amount", type="long")]
    with_children = typespec(response=[Field(name="price", type="object", fields=children)])
    bare = typespec(response=[Field(name="price", type="object")])
    gone = typespec(response=[])
    assert compare(with_children, gone) == {
        "result field price: removed (object with 2 fields)": True
    }
    assert compare(bare, with_children) == {
        "result field price: fields now documented (currency, amount)": False
    }
    assert compare(with_children, bare) == {"result field price: fields no longer documented": True}
    # The same on a param: losing the shape loosens it; gaining required children tightens it.
    inner = [Field(name="carrierId", type="long", required=True), Field(name="note", type="string")]
    shaped = typespec(params=[Field(name="send", type="object", fields=inner)])
    loose = typespec(params=[Field(name="send", type="object")])
    assert compare(shaped, loose) == {"param send: fields no longer documented": False}
    assert compare(loose, shaped) == {"param send: fields now documented (carrierId*, note)": True}


def test_type_level_changes() -> None:
    old = typespec(
        regions=["us", "eu"],
        params=[Field(name="pageNumber", type="integer"), Field(name="pageSize", type="integer")],
        response=[Field(name="items", type="list", items="any")],
        paginate=Paginate(page="pageNumber", size="pageSize", items="items"),
        errors={1001: "bad", 1002: "gone"},
    )
    new = copy.deepcopy(old)
    new.method = "list_orders"
    new.regions = ["us", "global"]
    new.rate_limit = RateLimit(per_second=5)
    new.idempotent = False
    new.deprecated, new.replaced_by = True, "bg.order.list.v3.get"
    new.errors = {1001: "bad", 1003: "new"}
    new.scope = "Order management"
    new.summary = "Lists orders (reworded)."
    diff = diff_catalogues(Catalogue(types=[old]), Catalogue(types=[new]))
    assert texts(diff.changes) == {
        "method renamed order.list_v2 -> order.list_orders": True,
        "now offered in region global": False,
        "no longer offered in region eu": True,
        "error 1003: documented (new)": False,
        "error 1002: no longer documented (gone)": False,
        "rate limit gateway default -> 5/s": False,
        "no longer idempotent (not retried after an ambiguous failure)": False,
        "deprecated, use bg.order.list.v3.get": False,
        "permission package none -> Order management": False,
    }
    assert diff.reworded == 1
    unpaged = copy.deepcopy(old)
    unpaged.paginate = None
    assert compare(old, unpaged) == {
        "no longer paginated (was page=pageNumber size=pageSize (max 100, first 1) "
        "items=items)": True
    }
    assert compare(unpaged, old) == {
        "now paginated: page=pageNumber size=pageSize (max 100, first 1) items=items": False
    }


def test_retryable_errors_are_reported() -> None:
    old = typespec(errors={140020008: "try again later"})
    new = typespec(errors={140020008: "try again later"}, retryable_errors=[140020008])
    assert compare(old, new) == {"error 140020008: now retried (transient)": False}
    assert compare(new, old) == {"error 140020008: no longer retried": False}


def test_the_diff_knows_every_attribute_of_the_model() -> None:
    # A new catalogue attribute needs a rule in codegen/diff.py (is a change to it breaking?);
    # until then it is only reported generically.
    assert set(TypeSpec.__struct_fields__) == TYPE_ATTRS
    assert set(Field.__struct_fields__) == FIELD_ATTRS


def test_an_attribute_without_a_rule_is_still_reported() -> None:
    diff = CatalogueDiff("a", "b")
    unknown_to_rules = TYPE_ATTRS - {"notes"}
    _compare_rest(typespec(), typespec(notes="new"), unknown_to_rules, "", _Collector(diff, "t"))
    assert texts(diff.changes) == {"notes '' -> 'new'": False}


def test_removed_type_and_result_shape_break() -> None:
    a = typespec(response=[Field(name="x", type="string")])
    b = typespec(type="bg.order.other.get", method="other")
    diff = diff_catalogues(Catalogue(types=[a, b]), Catalogue(types=[a]))
    assert texts(diff.changes) == {"type removed": True}
    assert diff.labels["bg.order.other.get"] == "bg.order.other.get (order.other)"
    assert compare(a, typespec(response=None)) == {
        "result fields no longer documented (plain data)": True
    }
    assert compare(a, typespec(response=[Field(name="x", type="string")], result_type="list")) == {
        "result type object -> list": True
    }


def test_wording_only_edits_are_counted_not_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = list_orders()
    old = write_spec(tmp_path / "old", [t])
    reworded = copy.deepcopy(t)
    reworded["summary"] = "List parent orders."
    param(reworded, "remark")["summary"] = "A note."
    new = write_spec(tmp_path / "new", [reworded])
    assert run(str(old), str(new), old, fail_on_breaking=True) == 0
    out = capsys.readouterr().out
    assert "no changes callers can see (wording only)" in out
    assert out.splitlines()[-1] == (
        "0 added, 0 removed, 0 changed, 0 breaking (+2 wording-only edits)"
    )


# --------------------------------------------------------------------------- sides of the diff


def test_identical_specs_are_decided_on_the_hash_without_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not even valid YAML: an unchanged catalogue must not be parsed (the `make generate` path).
    old = write_spec(tmp_path / "old", [])
    (old / "types" / "order.yaml").write_text("group: order\ntypes: [\n")
    new = tmp_path / "new"
    shutil.copytree(old, new)
    assert run(str(old), str(new), old) == 0
    assert capsys.readouterr().out == f"catalogue unchanged: {old} and {new} are the same\n"


def test_a_spec_that_does_not_load_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write_spec(tmp_path / "old", [list_orders()])
    broken = copy.deepcopy(list_orders())
    param(broken, "remark")["requried"] = True
    new = write_spec(tmp_path / "new", [broken])
    assert run(str(old), str(new), old) == 2
    err = capsys.readouterr().err
    assert "the catalogue does not load" in err
    assert "requried" in err


def test_neither_folder_nor_revision_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, [])
    assert run("no-such-thing", None, spec) == 2
    assert "'no-such-thing' is not a folder" in capsys.readouterr().err


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose spec/ has two commits: the base, then an added optional param."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write_spec(root, [list_orders()])
    (root / "spec" / "README.md").write_text("not part of the catalogue\n")
    git(root, "add", "spec")
    git(root, "commit", "-q", "-m", "base")
    second = copy.deepcopy(list_orders())
    second["params"].append({"name": "regionId", "type": "integer"})
    write_spec(root, [second])
    git(root, "commit", "-q", "-am", "second")
    return root


def test_working_tree_against_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = repo / "spec"
    assert run("HEAD", None, spec) == 0
    assert capsys.readouterr().out.startswith("catalogue unchanged since HEAD (")
    write_spec(repo, edited_types())
    assert run("HEAD", None, spec, fail_on_breaking=True) == 1
    out = capsys.readouterr().out
    assert out.startswith("catalogue diff HEAD (")
    assert "-> working tree (" in out.splitlines()[0]
    assert "  BREAKING - param regionId: removed (integer, optional)" in out
    assert out.splitlines()[-1] == "1 added, 3 removed, 4 changed, 5 breaking"


def test_two_revisions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("HEAD~1", "HEAD", repo / "spec") == 0
    out = capsys.readouterr().out
    assert "           + param regionId: added (integer, optional)" in out
    assert out.splitlines()[-1] == "1 added, 0 removed, 0 changed, 0 breaking"


def test_unknown_revision(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("no-such-rev", None, repo / "spec") == 2
    assert "neither a spec folder nor a git revision" in capsys.readouterr().err


def test_revision_without_the_spec_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "other.txt").write_text("x\n")
    git(root, "add", "other.txt")
    git(root, "commit", "-q", "-m", "before the catalogue")
    spec = write_spec(root, [])
    assert run("HEAD", None, spec) == 2
    assert "has no spec/ folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- entry points


def test_codegen_command_dispatches_to_diff(
    two_specs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_specs
    assert codegen_main(["--spec", str(old), "diff", str(old), str(new), "--changelog"]) == 0
    assert capsys.readouterr().out.startswith("### Catalogue ")


@pytest.mark.slow
def test_real_catalogue_edit_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped spec diffs cleanly against itself plus one edit made the way people make it."""
    new = tmp_path / "spec"
    shutil.copytree(SPEC, new)
    path = new / "types" / "order.yaml"
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    entry = next(t for t in doc["types"] if t["type"] == "bg.order.list.v2.get")
    assert any(p["name"] == "pageSize" for p in entry["params"])
    param(entry, "pageSize")["required"] = True
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert run(str(SPEC), str(new), SPEC) == 0
    out = capsys.readouterr().out
    assert "  BREAKING ~ param pageSize: now required" in out
    assert out.splitlines()[-1].startswith("0 added, 0 removed, 1 changed, 1 breaking")


def test_without_git_a_revision_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, [])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run("HEAD", None, spec) == 2
    assert "git is not installed" in capsys.readouterr().err
