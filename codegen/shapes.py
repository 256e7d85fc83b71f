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
field summaries live in ``spec/shapes.yaml``). ``integer`` and ``long`` do not match:
each type's own table says which it is, and the catalogue keeps what it says.
"""

from __future__ import annotations

import json
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
class _Word:
    """A summary or unit a replaced field had, and where it belongs in the shapes."""

    shape: str
    path: str
    """Dotted path of the field inside ``shape``."""
    attr: str
    value: str
    kept: str
    """What the shape says there ("" when it says nothing)."""
    where: str


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    words: list[_Word]
    """Descriptions on the replaced fields (kept by the shape, or reported)."""


def _words(
    inline: list[Field], theirs: list[Field], owner: str, prefix: str, where: str
) -> Iterator[_Word]:
    by_name = {f.name: f for f in theirs}
    for f in inline:
        other = by_name.get(f.name)
        if other is None:
            continue
        for attr in ("summary", "unit"):
            mine, kept = getattr(f, attr) or "", getattr(other, attr) or ""
            if mine and mine != kept:
                yield _Word(owner, prefix + f.name, attr, mine, kept, f"{where}.{f.name}")
        if f.fields and other.fields and f.shape is None:
            # Inside a nested shape, the words belong to that shape.
            inner, at = (other.shape, "") if other.shape else (owner, f"{prefix}{f.name}.")
            yield from _words(f.fields, other.fields, inner, at, f"{where}.{f.name}")


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


def _items(node: yaml.Node | None) -> Iterator[tuple[str, yaml.Node]]:
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
        words = list(_words(fld.fields, shapes[name].fields, name, "", where))
        yield _Edit(start, end, f"shape: {name}", words)


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
    filled: int = 0
    """In shapes.yaml: field summaries/units taken from the fields the shape replaced."""


def apply(spec_dir: Path) -> dict[Path, Rewrite]:
    """The rewrite of each spec file that changes (``types/*.yaml``, then ``shapes.yaml``).

    Where a shape's field has no summary (or unit) and a replaced field had one, the
    shape takes it (the first one met); every other description a replaced field had
    and the shape words differently is listed in ``dropped``.
    """
    shapes = load_shapes(spec_dir)
    by_name = {s.name: s for s in shapes}
    by_key: dict[bytes, str] = {}
    for s in shapes:
        other = by_key.setdefault(match_key(s.fields), s.name)
        if other != s.name:
            raise SpecError(f"shapes {other} and {s.name} have the same structure")
    out: dict[Path, Rewrite] = {}
    done: dict[Path, tuple[str, list[_Edit]]] = {}
    for path in sorted((spec_dir / "types").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        edits = list(_rewrites(text, path, by_key, by_name))
        if edits:
            done[path] = (text, edits)
    fill = _to_fill([w for _, edits in done.values() for e in edits for w in e.words])
    for path, (text, edits) in done.items():
        dropped: list[str] = []
        for w in (w for e in edits for w in e.words):
            said = w.kept or fill.get((w.shape, w.path, w.attr))
            if said != w.value:
                dropped.append(f"{w.where}: {w.attr} {w.value!r} (the shape says {said!r})")
        out[path] = Rewrite(_edited(text, edits), len(edits), dropped)
    path = spec_dir / "shapes.yaml"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        edits = list(_rewrites(text, path, by_key, by_name))
        fills = [e for e in _fills(text, fill) if not any(_inside(e, r) for r in edits)]
        if edits or fills:
            out[path] = Rewrite(_edited(text, edits + fills), len(edits), [], len(fills))
    return out


def _to_fill(words: list[_Word]) -> dict[tuple[str, str, str], str]:
    """The words a shape's silent fields take from the fields it replaced.

    A summary: the first one met (the others are reported). A unit only when every
    replaced field that states one states the same: a unit is a fact about all the uses.
    """
    seen: dict[tuple[str, str, str], list[str]] = {}
    for w in words:
        if not w.kept:
            seen.setdefault((w.shape, w.path, w.attr), []).append(w.value)
    return {
        key: values[0]
        for key, values in seen.items()
        if key[2] == "summary" or len(set(values)) == 1
    }


def _edited(text: str, edits: list[_Edit]) -> str:
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: e.start] + e.text + text[e.end :]
    return text


def _inside(e: _Edit, span: _Edit) -> bool:
    return span.start <= e.start < span.end


def _fills(text: str, fill: dict[tuple[str, str, str], str]) -> Iterator[_Edit]:
    """Insertions of ``summary:`` / ``unit:`` into the shape fields that lack them."""
    if not fill:
        return
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        for key, value in _items(root):
            if key == "shapes" and isinstance(value, yaml.SequenceNode):
                for entry in value.value:
                    entry_items = dict(_items(entry))
                    name = entry_items.get("name")
                    if isinstance(name, yaml.ScalarNode):
                        yield from _fill_fields(
                            text, entry_items.get("fields"), name.value, "", fill
                        )
    finally:
        loader.dispose()


def _fill_fields(
    text: str,
    seq: yaml.Node | None,
    shape: str,
    prefix: str,
    fill: dict[tuple[str, str, str], str],
) -> Iterator[_Edit]:
    if not isinstance(seq, yaml.SequenceNode):
        return
    for node in seq.value:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            continue
        items = dict(_items(node))
        name = items.get("name")
        if not isinstance(name, yaml.ScalarNode):
            continue
        path = prefix + str(name.value)
        for attr in ("summary", "unit"):
            value = fill.get((shape, path, attr))
            if value is None or attr in items:
                continue
            pair = f"{attr}: {json.dumps(value, ensure_ascii=False)}"
            if node.flow_style:
                at = node.end_mark.index - 1
                assert text[at] == "}", text[at - 20 : at + 1]
                yield _Edit(at, at, ", " + pair, [])
            else:
                last = node.value[-1][1]
                at = last.end_mark.index
                at = node.start_mark.index + len(text[node.start_mark.index : at].rstrip())
                indent = " " * node.value[0][0].start_mark.column
                yield _Edit(at, at, f"\n{indent}{pair}", [])
        if "shape" not in items:
            yield from _fill_fields(text, items.get("fields"), shape, path + ".", fill)


def run(spec_dir: Path, *, write: bool = False) -> int:
    spec_dir = Path(spec_dir)
    try:
        if write:
            changes = apply(spec_dir)
            for path, change in changes.items():
                path.write_text(change.text, encoding="utf-8")
                print(f"{path}: {change.count} field(s) now name their shape")
                if change.filled:
                    print(f"{path}: {change.filled} field description(s) taken from spec/types")
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
