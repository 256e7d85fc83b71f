"""``make check-spec``: validate the catalogue and print how much of it is documented.

Beyond the model's own rules (:func:`temu_async.catalogue.problems`) this checks that
every type a reference names is in the catalogue. The reference names come from
``spec/sources.yaml`` (written by ``python -m codegen.importer sources``), so the check
runs without the reference checkout.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from codegen.load import SpecError, load_catalogue
from codegen.units import missing_units
from temu_async.catalogue import Catalogue, Field, TypeSpec, problems, walk

__all__ = [
    "DESCRIBED_MIN",
    "Coverage",
    "Described",
    "SourceIndex",
    "coverage",
    "described",
    "load_sources",
    "page_size_problems",
    "run",
    "source_problems",
]

# The share of params, and of result fields, that must carry a `summary` (every depth
# counts). The one knob: raise it to 1.0 once every field is written.
DESCRIBED_MIN = 0.98


class SourceIndex(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The committed index of type names per reference (spec/sources.yaml)."""

    seed: list[str] = msgspec.field(default_factory=list)
    seed_detailed: list[str] = msgspec.field(default_factory=list)
    temu_docs: list[str] = msgspec.field(default_factory=list)
    linkfox: dict[str, list[str]] = msgspec.field(default_factory=dict)
    mentioned: dict[str, str] = msgspec.field(default_factory=dict)
    """Names a reference page only mentions (README tables, guides) → one such page."""


def load_sources(spec_dir: Path) -> SourceIndex | None:
    path = spec_dir / "sources.yaml"
    if not path.is_file():
        return None
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return msgspec.convert(raw or {}, SourceIndex)
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        raise SpecError(f"{path}: {exc}") from exc


def source_problems(cat: Catalogue, src: SourceIndex) -> list[str]:
    """Reference types the catalogue lacks, and region lists that disagree with linkfox."""
    known = cat.by_type()
    out: list[str] = []
    for where, names in (
        ("the seed doc", src.seed),
        ("temu-docs", src.temu_docs),
        ("linkfox-temu", list(src.linkfox)),
    ):
        out.extend(
            f"{n}: named in {where} but missing from the catalogue" for n in names if n not in known
        )
    out.extend(
        f"{n}: mentioned in {page} but missing from the catalogue"
        for n, page in src.mentioned.items()
        if n not in known
    )
    for name in src.seed_detailed:
        t = known.get(name)
        if t is not None and not t.documented:
            out.append(f"{name}: the seed doc details it but the catalogue marks it undocumented")
    for name, regions in src.linkfox.items():
        t = known.get(name)
        # linkfox region folders prove a region offers the type; the seed may add the US.
        if t is not None and not set(regions) <= set(t.regions):
            out.append(f"{name}: regions {t.regions} but linkfox folders list {regions}")
    return out


@dataclass
class Coverage:
    total: int = 0
    documented: int = 0
    with_response: int = 0
    with_params: int = 0
    with_errors: int = 0
    with_paginate: int = 0
    with_rate_limit: int = 0
    deprecated: int = 0
    groups: dict[str, int] = field(default_factory=dict)
    seed_lacking: list[str] = field(default_factory=list)


def _lacks(t: TypeSpec | None) -> list[str]:
    if t is None:
        return ["missing"]
    gaps = []
    if not t.documented:
        gaps.append("undocumented")
    if not t.params:
        gaps.append("no params")
    if not t.response and t.result_type == "object":
        gaps.append("no response tree")
    if not t.errors:
        gaps.append("no error codes")
    return gaps


def coverage(cat: Catalogue, src: SourceIndex | None) -> Coverage:
    cov = Coverage(total=len(cat.types))
    for t in cat.types:
        cov.documented += t.documented
        cov.with_response += bool(t.response)
        cov.with_params += bool(t.params)
        cov.with_errors += bool(t.errors)
        cov.with_paginate += t.paginate is not None
        cov.with_rate_limit += t.rate_limit is not None
        cov.deprecated += t.deprecated
        cov.groups[t.group] = cov.groups.get(t.group, 0) + 1
    if src is not None:
        known = cat.by_type()
        for name in src.seed:
            gaps = _lacks(known.get(name))
            if gaps:
                cov.seed_lacking.append(f"{name} ({', '.join(gaps)})")
    return cov


@dataclass
class Tally:
    fields: int = 0
    described: int = 0

    def add(self, fields: list[Field] | None) -> None:
        for _path, f in walk(fields):
            self.fields += 1
            self.described += bool(f.summary.strip())

    @property
    def share(self) -> float:
        return self.described / self.fields if self.fields else 1.0

    def text(self) -> str:
        return f"{self.described}/{self.fields} ({self.share:.1%})"


@dataclass
class Described:
    """How many params and result fields (at every depth) carry a description."""

    params: Tally = field(default_factory=Tally)
    results: Tally = field(default_factory=Tally)
    groups: dict[str, tuple[Tally, Tally]] = field(default_factory=dict)

    def below(self, minimum: float = DESCRIBED_MIN) -> list[str]:
        """Problem lines for the totals under ``minimum`` (with the groups that pull them down)."""
        out = []
        for what, total, pick in (
            ("params", self.params, 0),
            ("result fields", self.results, 1),
        ):
            if total.share >= minimum:
                continue
            weak = [
                f"{g} {pair[pick].share:.0%}"
                for g, pair in sorted(self.groups.items())
                if pair[pick].share < minimum
            ]
            out.append(
                f"descriptions: {total.text()} of {what} carry a summary, below "
                f"{minimum:.0%} (groups below: {', '.join(weak)})"
            )
        return out


def described(cat: Catalogue) -> Described:
    out = Described()
    for t in cat.types:
        params, results = out.groups.setdefault(t.group, (Tally(), Tally()))
        for tally in (params, out.params):
            tally.add(t.params)
        for tally in (results, out.results):
            tally.add(t.response)
    return out


def _described_report(d: Described) -> str:
    width = max((len(g) for g in d.groups), default=5)
    lines = [f"descriptions (params | result fields, every depth; must reach {DESCRIBED_MIN:.0%})"]
    for g, (p, r) in sorted(d.groups.items()):
        lines.append(f"  {g:<{width}}  {p.text():>18} | {r.text():>18}")
    lines.append(f"  {'total':<{width}}  {d.params.text():>18} | {d.results.text():>18}")
    return "\n".join(lines)


def _report(cov: Coverage) -> str:
    lines = [
        f"types total        {cov.total}",
        f"  documented       {cov.documented}",
        f"  response tree    {cov.with_response}",
        f"  params           {cov.with_params}",
        f"  error codes      {cov.with_errors}",
        f"  pagination       {cov.with_paginate}",
        f"  rate limit       {cov.with_rate_limit}",
        f"  deprecated       {cov.deprecated}",
        "groups             " + ", ".join(f"{g} {n}" for g, n in sorted(cov.groups.items())),
    ]
    if cov.seed_lacking:
        lines.append(f"seed types lacking detail ({len(cov.seed_lacking)}):")
        lines.extend(f"  {item}" for item in cov.seed_lacking)
    return "\n".join(lines)


def run(spec_dir: Path, *, tables: bool = True) -> int:
    """Exit status 0 when the catalogue is sound, covers every reference type, and is
    described (:data:`DESCRIBED_MIN`, a unit on every time field). ``tables`` adds the
    reference-table difference counts when ``../shared`` is checked out."""
    spec_dir = Path(spec_dir)
    try:
        cat = load_catalogue(spec_dir)
        src = load_sources(spec_dir)
    except SpecError as exc:
        print(f"check-spec: {exc}", file=sys.stderr)
        return 1
    found = problems(cat)
    # `new-type` leaves a placeholder summary: the curator must write one before it ships.
    found.extend(
        f"{t.type}: summary is still the importer's placeholder"
        for t in cat.types
        if t.summary.startswith("TODO")
    )
    if src is None:
        found.append(f"{spec_dir / 'sources.yaml'}: missing (python -m codegen.importer sources)")
    else:
        found.extend(source_problems(cat, src))
    found.extend(page_size_problems(cat))
    desc = described(cat)
    found.extend(desc.below())
    found.extend(missing_units(cat))
    print(f"catalogue {cat.version}")
    print(_report(coverage(cat, src)))
    print(_described_report(desc))
    if tables:
        _table_report(cat)
    if found:
        print(f"\n{len(found)} problem(s):", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("\ncatalogue OK")
    return 0


def page_size_problems(cat: Catalogue) -> list[str]:
    """A paginated type's page-size param must carry its bounds, so a bad size (0, -5,
    more than the type serves) is refused before anything is sent."""
    out: list[str] = []
    for t in cat.types:
        if t.paginate is None:
            continue
        size = next((f for f in t.params if f.name == t.paginate.size), None)
        if size is None:
            continue  # problems() already names a paginate param the type lacks
        if size.minimum is None or size.maximum is None:
            out.append(f"{t.type}.params.{size.name}: a page size needs minimum and maximum")
        elif size.maximum > t.paginate.max_size:
            out.append(
                f"{t.type}.params.{size.name}: maximum {size.maximum} is above the paginate "
                f"max_size {t.paginate.max_size}"
            )
    return out


def _table_report(cat: Catalogue) -> None:
    """Counts of differences from each type's own reference table (never a failure)."""
    from codegen.importer import LINKFOX

    if not LINKFOX.is_dir():
        return
    from codegen.importer import read_sources
    from codegen.reference_tables import summary, table_differences

    diffs = table_differences(cat, read_sources())
    print(
        f"reference tables   {summary(diffs)} (report only; "
        "python -m codegen.reference_tables lists them)"
    )
