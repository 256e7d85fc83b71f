"""``python -m codegen shapes [--apply]``: find repeated structures, use named shapes.

Without ``--apply`` it reports how many generated Structs repeat another's fields and
proposes shapes for the structures the catalogue spells out again and again (a YAML
snippet for ``spec/shapes.yaml``). With ``--apply`` it rewrites ``spec/types/*.yaml`` so
that every nested ``fields:`` matching a shape of ``spec/shapes.yaml`` becomes
``shape: <Name>``.

The rewrite is a text edit of exactly those spans (found through PyYAML's node marks):
comments, key order, flow or block style and every other line stay as they were. Two
structures match when they have the same field names, types, list items, rules and
nested structure, in the same order; summaries and units are not compared (a shape's
field summaries live in ``spec/shapes.yaml``), and ``integer`` matches ``long`` (the
same JSON number, the same Python ``int``).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from codegen.load import SpecError, expand_shapes, load_catalogue, load_shapes
from codegen.naming import pascal, singular
from temu_async.catalogue import Catalogue, Field, Shape, walk

__all__ = ["Proposal", "Rewrite", "apply", "match_key", "propose", "repeats", "run"]

MIN_REPEATS = 3
"""A structure spelled out this many times (or more) is proposed as a shape."""


def match_key(fields: list[Field]) -> bytes:
    """What two structures must share to be the same shape (see the module docstring)."""
    return msgspec.json.encode([_bare(f) for f in fields])


def _bare(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(f, str_keys=True)
    for key in ("summary", "unit", "shape"):
        out.pop(key, None)
    for key in ("type", "items"):
        if out.get(key) == "integer":
            out[key] = "long"
    if f.fields:
        out["fields"] = [_bare(c) for c in f.fields]
    return out


def _object(f: Field) -> bool:
    return bool(f.fields) and (f.type == "object" or (f.type == "list" and f.items == "object"))


# --- the report ------------------------------------------------------------------------


def repeats(cat: Catalogue) -> tuple[int, int]:
    """(generated Structs, how many of them repeat another's fields exactly)."""
    from codegen.generate import SUPPORT_MODULES, _by_group
    from codegen.model import build_events, build_module, build_shapes

    shapes = build_shapes(cat)
    structs = [
        s
        for g, ts in _by_group(cat).items()
        for s in build_module(g, ts, cat, SUPPORT_MODULES, shapes).structs
    ]
    structs += shapes.structs
    structs += [s for _, st, nested in build_events(cat.events) for s in (*nested, st)]
    keys = [tuple((f.py, f.ann) for f in s.fields) for s in structs]
    return len(structs), len(structs) - len(set(keys))


@dataclass
class Proposal:
    name: str
    count: int
    fields: list[Field]
    where: list[str]


def propose(cat: Catalogue, minimum: int = MIN_REPEATS) -> list[Proposal]:
    """Structures written out ``minimum`` times or more that no shape covers yet."""
    known = {match_key(s.fields) for s in cat.shapes}
    seen: dict[bytes, list[tuple[str, Field]]] = {}
    for t in cat.types:
        for kind, tree in (("params", t.params), ("result", t.response)):
            for path, f in walk(tree):
                if _object(f) and f.shape is None:
                    assert f.fields is not None
                    seen.setdefault(match_key(f.fields), []).append((f"{t.type} {kind} {path}", f))
    taken = {s.name for s in cat.shapes}
    out: list[Proposal] = []
    for key, places in sorted(seen.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(places) < minimum or key in known:
            continue
        first = places[0][1]
        assert first.fields is not None
        labels = Counter(
            pascal(singular(f.name) if f.type == "list" else f.name) for _, f in places
        )
        name = labels.most_common(1)[0][0]
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}{n}", n + 1
        taken.add(unique)
        out.append(Proposal(unique, len(places), first.fields, [w for w, _ in places]))
    return out


def _plain(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(f)
    if f.shape is not None:
        out.pop("fields", None)
    elif f.fields:
        out["fields"] = [_plain(c) for c in f.fields]
    return out


def _snippet(p: Proposal) -> str:
    fields = [_plain(f) for f in p.fields]
    body = yaml.safe_dump(fields, sort_keys=False, default_flow_style=None, width=90).rstrip()
    lines = [
        f"# {p.count} times, e.g. {p.where[0]}",
        f"- name: {p.name}",
        "  summary: TODO",
        "  fields:",
        *("  " + line for line in body.splitlines()),
    ]
    return "\n".join(lines)


# --- the rewrite -----------------------------------------------------------------------


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    dropped: list[str]
    """Descriptions the replaced fields had that the shape words differently."""


def _dropped(inline: list[Field], shape: list[Field], where: str) -> Iterator[str]:
    theirs = {f.name: f for f in shape}
    for f in inline:
        other = theirs.get(f.name)
        if other is None:
            continue
        for attr in ("summary", "unit"):
            mine, kept = getattr(f, attr), getattr(other, attr)
            if mine and mine != kept:
                yield f"{where}.{f.name}: {attr} {mine!r} (the shape says {kept!r})"
        if f.fields and other.fields and f.shape is None:
            yield from _dropped(f.fields, other.fields, f"{where}.{f.name}")


def _rewrites(
    text: str, path: Path, by_key: dict[bytes, str], shapes: dict[str, Shape]
) -> list[_Edit]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if not isinstance(root, yaml.MappingNode):
            return []
        edits: list[_Edit] = []
        for key, value in root.value:
            # A type's params and result; in shapes.yaml, the shapes' own nested fields.
            if key.value in ("types", "shapes") and isinstance(value, yaml.SequenceNode):
                for entry in value.value:
                    for ekey, evalue in _items(entry):
                        if ekey in ("params", "response", "fields"):
                            edits += _walk(loader, text, path, evalue, by_key, shapes)
        return edits
    finally:
        loader.dispose()


def _items(node: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield str(key.value), value


def _walk(
    loader: yaml.SafeLoader,
    text: str,
    path: Path,
    seq: yaml.Node,
    by_key: dict[bytes, str],
    shapes: dict[str, Shape],
) -> Iterator[_Edit]:
    if not isinstance(seq, yaml.SequenceNode):
        return
    for node in seq.value:
        data = loader.construct_object(node, deep=True)
        try:
            fld = msgspec.convert(data, Field, strict=True)
        except msgspec.ValidationError as exc:
            raise SpecError(f"{path}: line {node.start_mark.line + 1}: {exc}") from exc
        children = dict(_items(node)).get("fields")
        if children is None or not _object_decl(fld):
            continue
        expand_shapes(fld.fields, shapes, path, fld.name)
        assert fld.fields is not None
        name = by_key.get(match_key(fld.fields))
        if name is None:
            yield from _walk(loader, text, path, children, by_key, shapes)
            continue
        key_node = next(k for k, v in node.value if v is children)
        start, end = key_node.start_mark.index, children.end_mark.index
        # A block sequence ends where the next line's token starts: keep that whitespace.
        end = start + len(text[start:end].rstrip())
        where = f"{path.name}:{node.start_mark.line + 1} {fld.name}"
        dropped = list(_dropped(fld.fields, shapes[name].fields, where))
        yield _Edit(start, end, f"shape: {name}", dropped)


def _object_decl(f: Field) -> bool:
    return f.type == "object" or (f.type == "list" and f.items == "object")


@dataclass
class Rewrite:
    text: str
    """The file's new text."""
    count: int
    """Fields that now name their shape."""
    dropped: list[str]
    """Descriptions of the replaced fields that differ from the shape's (now the shape's)."""


def apply(spec_dir: Path) -> dict[Path, Rewrite]:
    """The rewrite of each spec file that changes (``shapes.yaml`` and ``types/*.yaml``)."""
    shapes = load_shapes(spec_dir)
    by_name = {s.name: s for s in shapes}
    by_key: dict[bytes, str] = {}
    for s in shapes:
        other = by_key.setdefault(match_key(s.fields), s.name)
        if other != s.name:
            raise SpecError(f"shapes {other} and {s.name} have the same structure")
    out: dict[Path, Rewrite] = {}
    for path in [spec_dir / "shapes.yaml", *sorted((spec_dir / "types").glob("*.yaml"))]:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        edits = list(_rewrites(text, path, by_key, by_name))
        if not edits:
            continue
        for e in sorted(edits, key=lambda e: e.start, reverse=True):
            text = text[: e.start] + e.text + text[e.end :]
        out[path] = Rewrite(text, len(edits), [line for e in edits for line in e.dropped])
    return out


def run(spec_dir: Path, *, write: bool = False) -> int:
    spec_dir = Path(spec_dir)
    try:
        if write:
            changes = apply(spec_dir)
            for path, change in changes.items():
                path.write_text(change.text, encoding="utf-8")
                print(f"{path}: {change.count} field(s) now name their shape")
            if not changes:
                print("shapes --apply: nothing to replace")
            dropped = [line for change in changes.values() for line in change.dropped]
            if dropped:
                # Nothing goes silently: these words were in spec/types and are not now.
                print(
                    f"\n{len(dropped)} description(s) of replaced fields differ from their "
                    "shape's and were replaced by it; move any better wording into "
                    "spec/shapes.yaml:"
                )
                for line in dropped:
                    print(f"  {line}")
        cat = load_catalogue(spec_dir)
    except SpecError as exc:
        print(f"shapes: {exc}", file=sys.stderr)
        return 2
    total, repeated = repeats(cat)
    share = repeated / total if total else 0.0
    print(
        f"{total} generated Structs, {repeated} ({share:.1%}) repeat another's fields exactly; "
        f"{len(cat.shapes)} shapes in spec/shapes.yaml"
    )
    if not write:
        pending = sum(change.count for change in apply(spec_dir).values())
        if pending:
            print(f"{pending} fields spell out a known shape: `--apply` replaces them")
    proposals = propose(cat)
    if proposals:
        print(f"\n# Proposed shapes (structures written out {MIN_REPEATS}+ times):")
        for p in proposals:
            print(_snippet(p))
    return 0
