"""Where the catalogue differs from each type's own reference table (a report, never a failure).

Two facts are compared field by field, on the paths both hold: whether a param is required,
and whether an integer is INTEGER or LONG. Only what a table (or a linkfox tree diagram)
states counts; JSON examples are left out because they show every number the same way.
Sources: the seed doc's tables (required and types), the linkfox per-type pages (required
and types) and temu-docs' parameter tables (types only: their Required column says "No" on
every row of the scraped pages, so it carries no fact). The linkfox topic pages are left out
too: they write JSON type words (``integer``) that do not separate INTEGER from LONG.

``python -m codegen.reference_tables`` prints every difference; ``make check-spec`` prints
the counts when the references are checked out beside the project.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codegen.importer import LINKFOX, ROOT, Sources, read_sources
from codegen.load import load_catalogue
from temu_async.catalogue import Catalogue, Field, walk

__all__ = ["TableDiff", "format_diffs", "table_differences"]

Kind = Literal["required", "integer/long"]


@dataclass(frozen=True, order=True)
class TableDiff:
    type: str
    path: str
    """``params.a.b`` or ``response.x.y`` (list levels are not marked)."""
    kind: Kind
    spec: str
    table: str
    source: str

    def line(self) -> str:
        return (
            f"{self.type} {self.path}: {self.kind} is {self.spec} in spec, "
            f"{self.table} in {self.source}"
        )


def _scalar(f: Field) -> str:
    return (f.items or "any") if f.type == "list" else f.type


def _compare(
    name: str,
    part: str,
    held: list[Field] | None,
    stated: list[Field] | None,
    source: str,
    *,
    required: bool,
) -> list[TableDiff]:
    out: list[TableDiff] = []
    mine = dict(walk(held))
    for path, theirs in walk(stated):
        f = mine.get(path)
        if f is None:
            continue
        at = f"{part}.{path}"
        if required and f.required != theirs.required:
            out.append(
                TableDiff(
                    name,
                    at,
                    "required",
                    "required" if f.required else "optional",
                    "required" if theirs.required else "optional",
                    source,
                )
            )
        a, b = _scalar(f), _scalar(theirs)
        if {a, b} == {"integer", "long"}:
            out.append(TableDiff(name, at, "integer/long", a, b, source))
    return out


def table_differences(cat: Catalogue, src: Sources) -> list[TableDiff]:
    """Every required-flag and INTEGER/LONG difference between spec and a type's own tables."""
    out: list[TableDiff] = []
    for t in cat.types:
        seed = src.seed.get(t.type)
        if seed is not None:
            if seed.params_stated:
                out += _compare(
                    t.type, "params", t.params, seed.params, "the seed doc", required=True
                )
            out += _compare(
                t.type, "response", t.response, seed.stated_response, "the seed doc", required=False
            )
        doc = src.docs.get(t.type)
        if doc is not None:
            where = f"temu-docs {doc.path.name}"
            out += _compare(t.type, "params", t.params, doc.stated_params, where, required=False)
        for page in src.linkfox.get(t.type, []):
            if page.path.parent.name != "apis":
                continue  # a topic page: JSON type words, see the module doc
            where = page.path.parent.parent.parent.name
            out += _compare(t.type, "params", t.params, page.stated_params, where, required=True)
            out += _compare(
                t.type, "response", t.response, page.stated_response, where, required=False
            )
    # One line per field: the region pages of one type usually say the same thing.
    grouped: dict[tuple[str, str, Kind, str, str], list[str]] = {}
    for d in out:
        grouped.setdefault((d.type, d.path, d.kind, d.spec, d.table), []).append(d.source)
    return sorted(
        TableDiff(*key, source=", ".join(sorted(set(sources)))) for key, sources in grouped.items()
    )


def summary(diffs: list[TableDiff]) -> str:
    kinds = Counter(d.kind for d in diffs)
    types = len({d.type for d in diffs})
    return (
        f"{kinds['required']} required-flag and {kinds['integer/long']} integer/long "
        f"difference(s) in {types} type(s)"
    )


def format_diffs(diffs: list[TableDiff]) -> str:
    return "\n".join([summary(diffs), *(f"  {d.line()}" for d in diffs)])


def _main() -> int:
    if not LINKFOX.is_dir():
        print(f"reference pages not found at {LINKFOX.parent}", file=sys.stderr)
        return 2
    cat = load_catalogue(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "spec")
    print(format_diffs(table_differences(cat, read_sources())))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
