"""Turn Temu doc pages into catalogue entries (``python -m codegen new-type <page>``).

``new-type`` reads one temu-docs page, infers params and the ``result`` tree from its
tables and JSON examples, takes the errors from its error table, guesses a group and a
method name, and prints the YAML entry for review; ``--write`` appends it to
``spec/types/<group>.yaml`` (never replacing a type the catalogue already holds).

Run as ``python -m codegen.importer`` it has two maintenance commands:

- ``sources``: write ``spec/sources.yaml``, the type names each reference knows and the
  regions linkfox lists them for, so ``make check-spec`` needs no reference checkout;
- ``draft``: merge every reference (seed doc > temu-docs > linkfox) into draft entries,
  printed as YAML for a curator to start from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from codegen.load import SpecError, load_catalogue
from codegen.reference_linkfox import LinkfoxPage, read_linkfox_page
from codegen.reference_multi import is_multi_page, mentioned_names, read_multi_page
from codegen.reference_seed import SeedType, read_seed
from codegen.reference_temudocs import DocPage, read_doc_page
from codegen.reference_tree import merge
from temu_async.catalogue import Field, Paginate, RateLimit, TypeSpec, walk

__all__ = [
    "Sources",
    "draft_from_page",
    "dump_types",
    "guess_group",
    "guess_method",
    "guess_paginate",
    "read_sources",
    "retryable_codes",
    "run",
]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_DOC = SHARED / "seeds" / "temu_partner_api_doc.md"
TEMU_DOCS = SHARED / "reference" / "temu-docs"
LINKFOX = SHARED / "reference" / "linkfox-temu"
REGIONS = ("us", "eu", "global")

# Namespaces on the client, chosen by the type name (first matching prefix wins).
# spec/README.md documents the same table for people.
_GROUP_RULES: tuple[tuple[str, str], ...] = (
    ("bg.open.accesstoken.", "auth"),
    ("temu.local.mall.", "mall"),
    ("bg.local.mall.", "mall"),
    ("bg.local.goods.property.compliance.", "compliance"),
    ("bg.local.goods.priceorder.", "price"),
    ("temu.local.goods.priceorder.", "price"),
    ("bg.local.goods.sku.list.price.", "price"),
    ("temu.local.goods.recommendedprice.", "price"),
    ("temu.local.goods.baseprice.", "price"),
    ("temu.local.goods.appealorder.", "price"),
    ("bg.local.goods.compliance.", "compliance"),
    ("bg.local.compliance.", "compliance"),
    ("bg.arbok.", "compliance"),
    ("bg.compliance.", "compliance"),
    ("bg.goods.compliancelabel.", "compliance"),
    ("bg.flash.", "flash"),
    ("bg.local.goods.", "goods"),
    ("temu.local.goods.", "goods"),
    ("temu.local.sku.", "goods"),
    ("temu.local.product.", "goods"),
    ("bg.order.unshipped.package.", "fulfillment"),
    ("bg.order.fulfillment.", "fulfillment"),
    ("bg.order.", "order"),
    ("temu.order.", "order"),
    ("temu.local.order.", "order"),
    ("bg.logistics.shipment.", "fulfillment"),
    ("bg.logistics.shipped.", "fulfillment"),
    ("temu.logistics.label.", "fulfillment"),
    ("temu.logistics.scanform.", "fulfillment"),
    ("temu.logistics.candidate.scanform.", "fulfillment"),
    ("temu.logistics.shipment.pickup.", "fulfillment"),
    ("temu.logistics.self.delivery.", "fulfillment"),
    ("bg.logistics.", "logistics"),
    ("bg.freight.", "logistics"),
    ("temu.logistics.", "logistics"),
    ("temu.track.", "logistics"),
    ("bg.cooperativewarehouse.", "warehouse"),
    ("temu.cooperativewarehouse.", "warehouse"),
    ("bg.local.freight.", "logistics"),
    # Cross-border (semi-managed) product types on the partner gateways.
    ("temu.goods.", "cross_border"),
    ("bg.goods.", "cross_border"),
    ("bg.glo.goods.", "cross_border"),
    ("bg.btg.goods.", "cross_border"),
    ("bg.aftersales.", "returns"),
    ("temu.aftersales.", "returns"),
    ("bg.promotion.", "promotion"),
    ("temu.searchrec.ad.", "ads"),
    ("bg.tmc.", "message"),
    ("temu.pay.tax.", "tax"),
)
# Words that only repeat the namespace (or the vendor prefix) and add nothing to a method name.
_NOISE = {
    "auth": {"open"},
    "goods": {"goods", "product"},
    "price": {"goods"},
    "compliance": {"goods", "open", "compliance"},
    "fulfillment": {"logistics"},
    "logistics": {"logistics"},
    "order": {"order"},
    "returns": {"aftersales"},
    "promotion": {"promotion"},
    "ads": {"searchrec", "ad"},
    "message": {"tmc"},
    "tax": {"pay", "tax"},
    "flash": {"flash", "open"},
    "warehouse": {"cooperativewarehouse"},
    "cross_border": {"goods", "glo", "btg"},
    "mall": {"mall"},
}
# A server message that asks for a later retry marks a transient code; one that asks the
# caller to fix something first ("check and try again") does not.
_RETRY = re.compile(
    r"try again later|please try again\.?$|too many requests|timed out, please try again", re.I
)
_FIX_FIRST = re.compile(r"check|fill in|correct|reselect|remove|resize|compress|upload again", re.I)
_PAGE_PARAMS = ("pageNumber", "pageNo", "pageNum", "page", "pageIndex", "current")
_SIZE_PARAMS = ("pageSize", "size", "limit")
_TOTAL_FIELDS = ("total", "totalItemNum", "totalCount", "totalNum", "totalSize", "count")


def guess_group(type_name: str) -> str:
    for prefix, group in _GROUP_RULES:
        if type_name.startswith(prefix):
            return group
    parts = type_name.split(".")
    return re.sub(r"[^a-z0-9_]", "", parts[1].lower()) or "misc"


def guess_method(type_name: str, group: str) -> str:
    """bg.order.list.v2.get → list_v2: drop vendor prefixes, the group word and a final get."""
    words = [w for w in type_name.split(".")]
    while words and words[0] in ("bg", "temu", "local"):
        words = words[1:]
    noise = _NOISE.get(group, {group})
    kept = [w for w in words if w.lower() not in noise and w != "local"]
    if len(kept) > 1 and kept[-1] == "get":
        kept = kept[:-1]
    name = "_".join(kept) or words[-1]
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return re.sub(r"[^a-z0-9_]", "_", name)


def guess_paginate(params: list[Field], response: list[Field] | None) -> Paginate | None:
    """A page-numbered list: a page and a size param, and a list of objects in ``result``."""
    names = {f.name: f for f in params}
    page = next((p for p in _PAGE_PARAMS if p in names), None)
    size = next((s for s in _SIZE_PARAMS if s in names), None)
    if page is None or size is None or not response:
        return None
    lists = [
        path
        for path, f in walk(response)
        if f.type == "list" and f.items == "object" and path.count(".") <= 1
    ]
    if not lists:
        return None
    items = lists[0]
    parent = items.rpartition(".")[0]
    # The count must sit beside the list (a per-item count is not the total).
    total = next(
        (
            path
            for path, _f in walk(response)
            if path.rpartition(".")[0] == parent and path.rpartition(".")[2] in _TOTAL_FIELDS
        ),
        None,
    )
    pg = Paginate(page=page, size=size, items=items, total=total)
    limit = names[size].maximum
    if limit is not None:
        pg.max_size = limit
    # A page size is bounded either way (check-spec insists): at least 1, and the
    # paginate default when the page names no maximum.
    if names[size].minimum is None:
        names[size].minimum = 1
    if names[size].maximum is None:
        names[size].maximum = pg.max_size
    return pg


def retryable_codes(errors: dict[int, str]) -> list[int]:
    """The type's codes whose server message says to try again later."""
    return sorted(
        code
        for code, msg in errors.items()
        if _RETRY.search(msg.strip()) and not _FIX_FIRST.search(msg)
    )


def _is_read(type_name: str) -> bool:
    last = type_name.split(".")[-1].lower()
    return last in {"get", "query", "check", "list", "retrieve", "recommend", "pred"} or (
        ".get." in type_name and not type_name.endswith(("update", "set", "edit"))
    )


def draft_from_page(page: DocPage, group: str | None = None) -> TypeSpec:
    """A catalogue entry from one temu-docs page (summary to be rewritten by the curator)."""
    grp = group or guess_group(page.type)
    spec = TypeSpec(
        type=page.type,
        method=guess_method(page.type, grp),
        group=grp,
        summary=f"TODO: describe {page.type} in our own words.",
        idempotent=_is_read(page.type),
        params=page.params,
        response=page.response,
        result_type=page.result_type,  # type: ignore[arg-type]
        errors=dict(page.errors),
    )
    spec.paginate = guess_paginate(spec.params, spec.response)
    spec.retryable_errors = retryable_codes(spec.errors)
    if page.scopes:
        spec.scope = ", ".join(page.scopes)
    return spec


# --------------------------------------------------------------------------- YAML output


class _Flow(dict[str, Any]):
    """A small mapping written on one line (leaf fields stay readable that way)."""


def _flow_representer(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, _flow_representer)


def _field_doc(f: Field) -> dict[str, Any]:
    raw: dict[str, Any] = msgspec.to_builtins(f)
    if f.fields:
        raw["fields"] = [_field_doc(c) for c in f.fields]
        return raw
    if not f.enum and len(json.dumps(raw)) <= 90:
        return _Flow(raw)
    return raw


def _type_doc(t: TypeSpec) -> dict[str, Any]:
    raw: dict[str, Any] = msgspec.to_builtins(t)
    raw.pop("group", None)
    if t.params:
        raw["params"] = [_field_doc(f) for f in t.params]
    if t.response:
        raw["response"] = [_field_doc(f) for f in t.response]
    if t.paginate is not None:
        raw["paginate"] = _Flow(msgspec.to_builtins(t.paginate))
    if t.rate_limit is not None:
        raw["rate_limit"] = _Flow(msgspec.to_builtins(t.rate_limit))
    if "regions" in raw:
        raw["regions"] = list(raw["regions"])
    return raw


def dump_types(types: Iterable[TypeSpec]) -> str:
    """YAML for a ``types:`` list (no ``group:`` header)."""
    docs = [_type_doc(t) for t in types]
    return yaml.dump(docs, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def dump_group(group: str, types: Iterable[TypeSpec]) -> str:
    body = dump_types(types)
    return f"group: {group}\ntypes:\n" + "".join(
        f"  {line}\n" if line else "\n" for line in body.rstrip("\n").split("\n")
    )


# --------------------------------------------------------------------------- new-type


def run(doc: Path, spec_dir: Path, *, group: str | None = None, write: bool = False) -> int:
    """Import one doc page; print the entry; with ``write`` append it to its group file."""
    try:
        page = read_doc_page(Path(doc))
    except (OSError, ValueError) as exc:
        print(f"new-type: {exc}", file=sys.stderr)
        return 2
    spec = draft_from_page(page, group)
    text = dump_types([spec])
    try:
        known = load_catalogue(spec_dir).by_type()
    except SpecError as exc:
        if write:
            print(f"new-type: the catalogue does not load, fix it first: {exc}", file=sys.stderr)
            return 2
        known = {}  # a draft to read needs no catalogue
    if spec.type in known:
        # Said before any draft is printed: a page of YAML would hide it.
        where = known[spec.type].group
        print(
            f"new-type: {spec.type} is already in spec/types/{where}.yaml; "
            "edit it there (refusing to overwrite)",
            file=sys.stderr,
        )
        return 1
    print(text, end="")
    if not write:
        return 0
    clash = [t for t in known.values() if t.group == spec.group and t.method == spec.method]
    if clash:
        print(
            f"new-type: method {spec.group}.{spec.method} is taken by {clash[0].type}; "
            "rename it in the printed entry and add it by hand",
            file=sys.stderr,
        )
        return 1
    target = spec_dir / "types" / f"{spec.group}.yaml"
    if target.exists():
        existing = target.read_text(encoding="utf-8")
        sep = "" if existing.endswith("\n") else "\n"
        indented = "".join(
            f"  {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n")
        )
        target.write_text(existing + sep + indented, encoding="utf-8")
    else:
        target.write_text(dump_group(spec.group, [spec]), encoding="utf-8")
    print(f"new-type: appended {spec.type} to {target}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- all sources


@dataclass
class Sources:
    """Everything the references say, keyed by type name."""

    seed_names: set[str] = field(default_factory=set)
    seed: dict[str, SeedType] = field(default_factory=dict)
    apis_json: set[str] = field(default_factory=set)
    docs: dict[str, DocPage] = field(default_factory=dict)
    linkfox: dict[str, list[LinkfoxPage]] = field(default_factory=dict)
    mentioned: dict[str, set[str]] = field(default_factory=dict)
    """Type names a page only mentions (README tables, guides, prose) → the pages."""

    def all_types(self) -> set[str]:
        return (
            self.seed_names
            | self.apis_json
            | set(self.docs)
            | set(self.linkfox)
            | set(self.mentioned)
        )

    def detailed_elsewhere(self) -> set[str]:
        return self.seed_names | self.apis_json | set(self.docs) | set(self.linkfox)

    def regions(self, name: str) -> list[str]:
        found = {p.region for p in self.linkfox.get(name, []) if p.region}
        return [r for r in REGIONS if r in found] or list(REGIONS)


def read_sources(
    seed_doc: Path = SEED_DOC, temu_docs: Path = TEMU_DOCS, linkfox: Path = LINKFOX
) -> Sources:
    src = Sources()
    src.seed_names, src.seed = read_seed(seed_doc)
    src.apis_json = {name for name, _group in json.loads((temu_docs / "apis.json").read_text())}
    for path in sorted((temu_docs / "api-reference").glob("*/*.md")):
        try:
            page = read_doc_page(path)
        except ValueError:
            continue
        # Hand-cleaned duplicates (`01-<type>.md`) sit beside the scraped page: keep the
        # scraped one as the base and let the other fill gaps.
        if page.type in src.docs:
            old = src.docs[page.type]
            old.params = merge(old.params, page.params)
            old.response = merge(old.response, page.response) or None
            old.errors = {**page.errors, **old.errors}
            old.scopes = old.scopes or page.scopes
        else:
            src.docs[page.type] = page
    for path in sorted(linkfox.glob("skills/*/references/apis/*.md")):
        if path.name == "README.md":
            continue
        lf = read_linkfox_page(path)
        src.linkfox.setdefault(lf.type, []).append(lf)
    # Topic pages that detail several types each (the cross-border product pages).
    for path in sorted(linkfox.glob("skills/*/references/*.md")):
        if is_multi_page(path.read_text(encoding="utf-8")):
            for lf in read_multi_page(path):
                src.linkfox.setdefault(lf.type, []).append(lf)
    _collect_mentions(src, linkfox, "linkfox-temu")
    _collect_mentions(src, temu_docs, "temu-docs")
    return src


def _collect_mentions(src: Sources, root: Path, label: str) -> None:
    """Backticked type names on any page of ``root`` that no reference details.

    A name that is a dotted prefix of a known type is a fragment of prose
    (`` `bg.local.goods.spec.id`.get``), not a type of its own.
    """
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.md")):
        for name in mentioned_names(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(f"{label}/{path.relative_to(root)}")
    known = src.detailed_elsewhere()
    everything = known | set(found)
    for name, pages in found.items():
        if name in known or any(other.startswith(name + ".") for other in everything):
            continue
        src.mentioned.setdefault(name, set()).update(pages)


def sources_yaml(src: Sources) -> str:
    """The committed index of reference type names (spec/sources.yaml)."""
    doc = {
        "seed": sorted(src.seed_names),
        "seed_detailed": sorted(src.seed),
        "temu_docs": sorted(src.apis_json | set(src.docs)),
        "linkfox": {name: src.regions(name) for name in sorted(src.linkfox)},
        # One page per name is enough to find it again.
        "mentioned": {name: sorted(src.mentioned[name])[0] for name in sorted(src.mentioned)},
    }
    head = (
        "# Generated by `python -m codegen.importer sources`: the type names each reference\n"
        "# knows (seed doc, temu-docs apis.json + pages, linkfox-temu pages with the regions\n"
        "# whose folders list them, and names other pages only mention, with one such page).\n"
        "# `make check-spec` checks the catalogue covers them all.\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _linkfox_merged(
    pages: list[LinkfoxPage],
) -> tuple[list[Field], list[Field] | None, dict[int, str]]:
    params: list[Field] = []
    response: list[Field] | None = None
    errors: dict[int, str] = {}
    # us first, then eu, then global: the region pages mostly agree; extras are unioned.
    for page in sorted(pages, key=lambda p: REGIONS.index(p.region) if p.region else 9):
        params = merge(params, page.params)
        if page.response:
            response = merge(response, page.response)
        for code, msg in page.errors.items():
            errors.setdefault(code, msg)
    return params, response, errors


def _required_from(hi: list[Field], tree: list[Field]) -> None:
    """The seed's required flags are facts; a merge must not turn its 否 into 是."""
    by_name = {f.name: f for f in tree}
    for f in hi:
        target = by_name.get(f.name)
        if target is None:
            continue
        target.required = f.required
        if f.fields and target.fields:
            _required_from(f.fields, target.fields)


def draft_type(src: Sources, name: str) -> TypeSpec:
    """One entry merged from every reference (seed > temu-docs > linkfox)."""
    grp = guess_group(name)
    seed = src.seed.get(name)
    doc = src.docs.get(name)
    lf_params, lf_response, lf_errors = _linkfox_merged(src.linkfox.get(name, []))
    params = merge(doc.params if doc else [], lf_params)
    # linkfox tables state response types; temu-docs only shows an example: linkfox first.
    response = merge(lf_response, doc.response if doc else None) or None
    errors = {**lf_errors, **(doc.errors if doc else {})}
    if seed is not None:
        merged = merge(seed.params, params)
        _required_from(seed.params, merged)
        params = merged
        response = merge(seed.response, response) or None
        errors = {**errors, **seed.errors}
    documented = bool(params or response or errors or doc)
    spec = TypeSpec(
        type=name,
        method=guess_method(name, grp),
        group=grp,
        summary=f"TODO: describe {name} in our own words.",
        documented=documented,
        regions=src.regions(name),  # type: ignore[arg-type]
        idempotent=_is_read(name),
        params=params if documented else [],
        response=response if documented else None,
        errors=dict(sorted(errors.items())),
    )
    if doc is not None and doc.result_type != "object":
        spec.result_type = doc.result_type  # type: ignore[assignment]
    if seed is not None:
        # The seed is the US partner docs: a type it details is offered in the US.
        if "us" not in spec.regions:
            spec.regions = [r for r in REGIONS if r in {*spec.regions, "us"}]  # type: ignore[misc]
        if seed.rate_limit:
            spec.rate_limit = RateLimit(per_second=seed.rate_limit)
        spec.scope = seed.scope
        spec.doc_url = seed.doc_url
    elif doc is not None and doc.scopes:
        spec.scope = ", ".join(doc.scopes)
    else:
        lf_scopes = [s for p in src.linkfox.get(name, []) for s in p.scopes]
        if lf_scopes:
            spec.scope = ", ".join(dict.fromkeys(lf_scopes))
    if spec.doc_url is None:
        # A page that links the exact partner doc (US first, as the seed does).
        links = [p.doc_url for p in src.linkfox.get(name, []) if p.doc_url]
        links.sort(key=lambda u: (0 if "partner-us." in u else 1, u))
        spec.doc_url = links[0] if links else None
    spec.paginate = guess_paginate(spec.params, spec.response)
    spec.retryable_errors = retryable_codes(spec.errors)
    return spec


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.importer")
    parser.add_argument("--spec", type=Path, default=ROOT / "spec")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sources", help="write spec/sources.yaml from ../shared")
    draft = sub.add_parser("draft", help="print merged draft entries for every known type")
    draft.add_argument("names", nargs="*", help="only these types")
    args = parser.parse_args(argv)
    src = read_sources()
    if args.command == "sources":
        out = args.spec / "sources.yaml"
        out.write_text(sources_yaml(src), encoding="utf-8")
        print(f"wrote {out} ({len(src.all_types())} types)")
        return 0
    names = args.names or sorted(src.all_types())
    print(dump_types(draft_type(src, n) for n in names), end="")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
