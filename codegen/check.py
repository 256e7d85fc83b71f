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
from temu_async.catalogue import Catalogue, TypeSpec, problems

__all__ = ["Coverage", "SourceIndex", "coverage", "load_sources", "run", "source_problems"]


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


def run(spec_dir: Path) -> int:
    """Exit status 0 when the catalogue is sound and covers every reference type."""
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
    print(f"catalogue {cat.version}")
    print(_report(coverage(cat, src)))
    if found:
        print(f"\n{len(found)} problem(s):", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("\ncatalogue OK")
    return 0
