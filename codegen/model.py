"""The catalogue turned into what the templates print: Structs, fields, methods, modules.

Everything a template needs is decided here (names, annotations, defaults, docstrings), so
the templates stay layout only. Nothing here reads or writes files.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from codegen.naming import PY_RESERVED, event_class, pascal, py_name, singular, type_base
from codegen.reserved import group_attributes, shop_attributes
from temu_async.catalogue import Catalogue, Event, Field, Shape, TypeSpec
from temu_async.field_rules import describe, enum_literal, rule_text, type_text, with_unit

__all__ = [
    "GenerateError",
    "MethodOut",
    "ModuleOut",
    "Shapes",
    "StructOut",
    "build_events",
    "build_module",
    "build_shapes",
    "py_str",
]

Kind = Literal["param", "result", "event"]
Path = tuple[str, ...]


_SCALAR_PY = {
    "integer": "int",
    "long": "int",
    "string": "str",
    "boolean": "bool",
    "number": "float",
    "any": "Any",
}
# ``item=`` of @paginated needs a runtime class, not an annotation.
_SCALAR_CLASS = {**_SCALAR_PY, "any": "object"}

_DOC_WIDTH = 92

# Names the body of a group class refers to (annotations, ``item=`` of @paginated).
_CLASS_BODY_NAMES = frozenset(
    {"int", "str", "bool", "float", "dict", "object", "paginated", "msgspec", "options"}
    | {"Any", "Literal", "Mapping", "Sequence", "CallOptions", "Group"}
)


class GenerateError(Exception):
    """The catalogue is sound but cannot be turned into code (a name clash, say)."""


@dataclass
class FieldOut:
    py: str
    wire: str
    ann: str
    default: str | None
    """The default expression, or None for a required field."""
    doc: str


@dataclass
class StructOut:
    name: str
    doc: str
    kind: Kind
    fields: list[FieldOut]
    gc: bool = True
    """False when no instance can be part of a reference cycle (see ``_gc_safe``)."""

    @property
    def options(self) -> str:
        opts = ["kw_only=True", "omit_defaults=True"]
        if self.kind == "event":
            opts.append("frozen=True")
        if not self.gc:
            opts.append("gc=False")
        return ", ".join(opts)


@dataclass
class ArgOut:
    py: str
    wire: str
    ann: str
    required: bool
    doc: str


@dataclass
class MethodOut:
    name: str
    type_name: str
    doc: str
    args: list[ArgOut]
    returns: str
    result_expr: str
    decorator: str | None
    documented: bool


@dataclass
class ModuleOut:
    group: str
    class_name: str
    doc: str
    structs: list[StructOut] = field(default_factory=list)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    methods: list[MethodOut] = field(default_factory=list)
    types: list[TypeSpec] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    """``"<type> params|result <dotted.path>"`` -> the Struct at that place of the tree."""
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """(old name, Struct it now is): deprecated aliases, served with a warning."""

    def record(self, type_name: str, kind: str, names: dict[Path, str]) -> None:
        for path, name in names.items():
            self.paths[f"{type_name} {kind} {'.'.join(path)}"] = name

    @property
    def summary(self) -> str:
        n = len(self.types)
        return f"The ``{self.group}`` group: {n} API type{'s' if n != 1 else ''}."


# --- text helpers --------------------------------------------------------------------


def py_str(text: str) -> str:
    """A double-quoted Python string literal (JSON escapes are valid Python escapes)."""
    return json.dumps(text, ensure_ascii=False)


def _doc_escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


@functools.lru_cache(maxsize=8192)  # the same words recur across Structs and types
def _wrap(text: str, indent: str = "") -> str:
    """Wrap one paragraph; the first line is not indented (it follows the opening quotes)."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=_DOC_WIDTH - len(indent),
        break_long_words=False,
        break_on_hyphens=False,
    )
    return ("\n" + indent).join(lines)


def docstring(paragraphs: list[str], indent: str) -> str:
    """Docstring body: paragraphs wrapped, blank lines between, escaped for triple quotes.

    A paragraph may hold pre-formatted lines (``\\n``); those are kept and only indented.
    """
    out: list[str] = []
    for para in paragraphs:
        if not para.strip():
            continue
        if "\n" in para:
            out.append(("\n" + indent).join(_doc_escape(line) for line in para.splitlines()))
        else:
            out.append(_doc_escape(_wrap(para, indent)))
    body = ("\n\n" + indent).join(out)
    if len(out) > 1 or "\n" in body:
        body += "\n" + indent
    return body


def _hanging(text: str, indent: str) -> list[str]:
    return list(_hanging_cached(text, indent))


@functools.lru_cache(maxsize=8192)
def _hanging_cached(text: str, indent: str) -> tuple[str, ...]:
    """Wrap ``text`` to lines where all but the first are indented by ``indent``."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=_DOC_WIDTH - 8,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return (lines[0], *(indent + line for line in lines[1:])) if lines else ("",)


def _field_doc(f: Field, kind: Kind = "param") -> str:
    return describe(f, received=kind != "param")


# --- nested Struct naming --------------------------------------------------------------


def _nested(f: Field) -> bool:
    return bool(f.fields) and (f.type == "object" or (f.type == "list" and f.items == "object"))


def _label(f: Field) -> str:
    return pascal(singular(f.name) if f.type == "list" else f.name)


@dataclass
class _Node:
    path: Path
    labels: tuple[str, ...]
    fld: Field
    shape: bytes
    depth: int = 1


def structure(fields: list[Field] | None) -> bytes:
    """A tree's structure, without the words: what a Struct's fields look like in code.

    Summaries and units only change docstrings, so editing them must never rename or
    split a Struct.
    """
    return msgspec.json.encode([_bare(f) for f in fields or ()])


def _bare(f: Field) -> dict[str, object]:
    out: dict[str, object] = msgspec.to_builtins(f, str_keys=True)
    out.pop("summary", None)
    out.pop("unit", None)
    if f.fields:
        out["fields"] = [_bare(c) for c in f.fields]
    return out


def _nodes(
    fields: list[Field] | None, path: Path = (), labels: tuple[str, ...] = ()
) -> Iterator[_Node]:
    for f in fields or ():
        if _nested(f) and f.shape is None:
            p, lab = (*path, f.name), (*labels, _label(f))
            yield _Node(p, lab, f, structure(f.fields))
            yield from _nodes(f.fields, p, lab)


ShapeNames = dict[str, str]
"""Shape name -> the Struct that stands for it (params and results may differ)."""


def _shaped(
    fields: list[Field] | None, shapes: ShapeNames, path: Path = ()
) -> Iterator[tuple[Path, str]]:
    """(path, shared Struct name) of every field that names a shape (not looking inside)."""
    for f in fields or ():
        p = (*path, f.name)
        if f.shape is not None:
            yield p, shapes.get(f.shape, f.shape)
        elif _nested(f):
            yield from _shaped(f.fields, shapes, p)


class _Namer:
    """Unique, readable class names for one module."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, name: str) -> str:
        unique, n = name, 2
        while unique in self.taken:
            unique, n = f"{name}{n}", n + 1
        self.taken.add(unique)
        return unique

    def tree(
        self,
        fields: list[Field] | None,
        prefix: str,
        suffix: str,
        shapes: ShapeNames | None = None,
    ) -> dict[Path, str]:
        """Names for the nested objects of one tree (path of wire names -> class name).

        A node is named by its own field (``pageItems`` -> ``PageItem``); when two different
        shapes would get the same name, both are qualified by their parents until they differ.
        Nodes with the same name and the same shape share one Struct. A field that names
        a shape gets the shared Struct (``shapes`` says which): its own tree is not
        named here.
        """
        nodes = list(_nodes(fields))

        def candidate(n: _Node) -> str:
            return prefix + "".join(n.labels[-n.depth :]) + suffix

        while True:
            groups: dict[str, list[_Node]] = {}
            for n in nodes:
                groups.setdefault(candidate(n), []).append(n)
            bumped = False
            for members in groups.values():
                if len({m.shape for m in members}) > 1:
                    for m in members:
                        if m.depth < len(m.labels):
                            m.depth += 1
                            bumped = True
            if not bumped:
                break
        names: dict[Path, str] = {}
        by_shape: dict[tuple[str, bytes], str] = {}
        for n in nodes:
            key = (candidate(n), n.shape)
            if key not in by_shape:
                name = key[0]
                if name in self.taken:
                    # ``result`` inside ``XResult``: say what the element is before numbering.
                    name += "Item" if n.fld.type == "list" else "Data"
                by_shape[key] = self.claim(name)
            names[n.path] = by_shape[key]
        names.update(_shaped(fields, shapes or {}))
        return names


# --- annotations -------------------------------------------------------------------------


def _literal(f: Field, scalar: str) -> str | None:
    if not f.enum or not f.enum_closed or scalar not in ("integer", "long", "string"):
        return None
    return "Literal[" + ", ".join(enum_literal(k) for k in f.enum) + "]"


def _param_ann(f: Field, names: dict[Path, str], path: Path) -> str:
    if f.type == "object":
        return f"{names[path]} | Mapping[str, Any]" if path in names else "Mapping[str, Any]"
    if f.type == "list":
        item = f.items or "any"
        if item == "object":
            inner = f"{names[path]} | Mapping[str, Any]" if path in names else "Mapping[str, Any]"
        elif item == "list":
            inner = "Sequence[Any]"
        else:
            inner = _literal(f, item) or _SCALAR_PY[item]
        return f"Sequence[{inner}]"
    return _literal(f, f.type) or _SCALAR_PY[f.type]


def _result_ann(f: Field, names: dict[Path, str], path: Path) -> str:
    # Closed or not, an enum stays a plain int/str here: a value Temu adds tomorrow must not
    # break decoding today.
    if f.type == "object":
        return names.get(path, "dict[str, Any]")
    if f.type == "list":
        item = f.items or "any"
        if item == "object":
            inner = names.get(path, "dict[str, Any]")
        elif item == "list":
            inner = "list[Any]"
        else:
            inner = _SCALAR_PY[item]
        return f"list[{inner}]"
    return _SCALAR_PY[f.type]


def _optional(ann: str) -> str:
    return ann if ann == "Any" else f"{ann} | None"


def _gc_safe(fields: list[Field]) -> bool:
    """True when the Struct can hold only scalars, lists of those, and other Structs.

    Decoded JSON is a tree, and such a Struct has no slot that could point back up the
    tree, so it can never sit in a reference cycle: the garbage collector need not track
    it (msgspec's ``gc=False``), which makes decoding large pages cheaper. A field of
    free-form data (``Any``, or an object without documented fields, kept as a dict) could
    be handed a cycle by the user, so such Structs stay tracked.
    """
    for f in fields:
        if f.type == "any" or (f.type == "object" and not f.fields):
            return False
        if f.type == "list" and (
            f.items in ("any", "list") or (f.items == "object" and not f.fields)
        ):
            return False
    return True


def _struct_fields(
    fields: list[Field], kind: Kind, names: dict[Path, str], path: Path
) -> list[FieldOut]:
    out: list[FieldOut] = []
    used: set[str] = {"msgspec"}  # the module name the field defaults refer to
    for f in fields:
        py = py_name(f.name, used)
        used.add(py)
        p = (*path, f.name)
        if kind == "param":
            ann = _param_ann(f, names, p)
            required = f.required
        else:
            ann = _result_ann(f, names, p)
            required = False
        if not required:
            ann = _optional(ann)
        if py == f.name:
            default = None if required else "None"
        elif required:
            default = f"msgspec.field(name={py_str(f.name)})"
        else:
            default = f"msgspec.field(default=None, name={py_str(f.name)})"
        out.append(FieldOut(py, f.name, ann, default, _field_doc(f, kind)))
    return out


def _structs(
    fields: list[Field] | None,
    kind: Kind,
    names: dict[Path, str],
    describe: str,
    path: Path = (),
    done: set[str] | None = None,
    where_prefix: str = "",
) -> Iterator[StructOut]:
    """The nested Structs of a tree, children before parents (no forward references)."""
    done = set() if done is None else done
    for f in fields or ():
        p = (*path, f.name)
        if f.shape is not None and kind != "event":
            continue  # a shared Struct of the shapes module
        if p in names and names[p] not in done:
            assert f.fields is not None
            where = where_prefix + f.name + ("[]" if f.type == "list" else "")
            yield from _structs(f.fields, kind, names, describe, p, done, where + ".")
            name = names[p]
            if name in done:
                continue
            done.add(name)
            doc = f"``{where}`` of {describe}."
            if f.summary.strip():
                doc = f"{f.summary.strip()} (``{where}`` of {describe}.)"
            yield StructOut(
                name,
                docstring([doc], "    "),
                kind,
                _struct_fields(f.fields, kind, names, p),
                gc=kind == "param" or not _gc_safe(f.fields),
            )


# --- one type ----------------------------------------------------------------------------


def _arg_doc(a: ArgOut, f: Field, struct: str | None) -> str:
    need = "required" if a.required else "optional"
    head = f"{a.py}: ``{a.wire}`` ({type_text(f)}, {need})."
    extra = [s[:1].upper() + s[1:] for s in (with_unit(f), rule_text(f)) if s]
    if struct:
        extra.append(f"Pass {struct} objects or plain dicts with wire names.")
    text = " ".join([head, *(e if e.endswith(".") else e + "." for e in extra)])
    return "\n".join(_hanging(text, "    "))


def _lookup_path(t: TypeSpec, dotted: str, typed: bool) -> tuple[tuple[str, ...], Field]:
    fields = t.response or []
    parts: list[str] = []
    found: Field | None = None
    for seg in dotted.split("."):
        used: set[str] = {"msgspec"}
        for f in fields:
            py = py_name(f.name, used)
            used.add(py)
            if f.name == seg:
                found = f
                parts.append(py if typed else f.name)
                fields = f.fields or []
                break
        else:
            raise GenerateError(f"{t.type}: paginate path {dotted!r} not in the response")
    assert found is not None
    return tuple(parts), found


def _decorator(
    t: TypeSpec, args: list[ArgOut], typed: bool, names: dict[Path, str]
) -> tuple[str, str]:
    """The ``@paginated(...)`` line and the item class it names."""
    pg = t.paginate
    assert pg is not None
    by_wire = {a.wire: a.py for a in args}
    items, items_field = _lookup_path(t, pg.items, typed)
    if items_field.type != "list":
        raise GenerateError(f"{t.type}: paginate items {pg.items!r} is not a list")
    item_path = tuple(pg.items.split("."))
    if not typed:
        item = "object"
    elif item_path in names:
        item = names[item_path]
    elif items_field.items == "object":
        item = "dict"
    elif items_field.items == "list":
        item = "list"
    else:
        item = _SCALAR_CLASS[items_field.items or "any"]
    if pg.cursor is not None:
        assert pg.next is not None
        nxt, _ = _lookup_path(t, pg.next, typed)
        parts = [
            f"cursor={py_str(by_wire[pg.cursor])}",
            f"next_cursor={_tuple(nxt)}",
        ]
    else:
        assert pg.page is not None
        parts = [f"page={py_str(by_wire[pg.page])}"]
    parts += [f"size={py_str(by_wire[pg.size])}", f"items={_tuple(items)}"]
    if pg.total:
        total, _ = _lookup_path(t, pg.total, typed)
        parts.append(f"total={_tuple(total)}")
    parts += [f"max_size={pg.max_size}"]
    if pg.page is not None:
        parts.append(f"first_page={pg.first_page}")
    parts.append(f"item={item}")
    return "@paginated(" + ", ".join(parts) + ")", item


def _tuple(parts: tuple[str, ...]) -> str:
    return "(" + ", ".join(py_str(p) for p in parts) + ",)"


def _method_doc(
    t: TypeSpec, cat: Catalogue, args: list[ArgOut], returns: str, typed_items: str | None
) -> str:
    indent = " " * 8
    paras = [t.summary.strip()]
    where = f"Wire type ``{t.type}``."
    if t.doc_url:
        where += f" Docs: {t.doc_url}"
    paras.append(where)
    if t.deprecated:
        text = "Deprecated: Temu retired this type"
        target = cat.by_type().get(t.replaced_by or "")
        if target is not None:
            text += f"; use ``shop.{target.group}.{target.method}`` (``{target.type}``) instead"
        paras.append(text + ". Calling it emits a DeprecationWarning.")
    if not t.documented:
        paras.append(
            "Its params are not documented yet: pass them as keyword arguments with their "
            "wire names; the result is plain data."
        )
    if t.notes.strip():
        paras.append(t.notes.strip())
    arg_lines = ["Args:"] + ["    " + a.doc.replace("\n", "\n    ") for a in args]
    if not t.documented:
        arg_lines.append("    **params: business params, wire names as keys.")
    arg_lines.append("    options: per-call overrides (timeout, retries, rate-limit wait).")
    paras.append("\n".join(arg_lines))
    ret = (
        f"Returns:\n    ``{returns}``: the ``result`` of the answer."
        if returns != "Any"
        else "Returns:\n    The ``result`` of the answer as plain data."
    )
    paras.append(ret)
    raises = ["Raises:", "    ParamError: a param breaks a catalogue rule (nothing is sent)."]
    if t.errors:
        raises.append("    ApiError: among others, this type's own codes:")
        for code, msg in sorted(t.errors.items()):
            raises += ["        " + line for line in _hanging(f"{code}: {msg}", "    ")]
    paras.append("\n".join(raises))
    facts = [
        f"Regions: {', '.join(t.regions)}.",
        "Safe to retry." if t.idempotent else "Not retried once it may have run.",
    ]
    if t.scope:
        facts.append(f"Permission: {t.scope}.")
    if t.rate_limit:
        facts.append(
            f"Rate limit: {t.rate_limit.per_second}/s per app_key for this type "
            f"(on top of the app-wide {cat.default_rate_limit}/s)."
        )
    paras.append(" ".join(facts))
    if t.paginate and typed_items is not None:
        pg = t.paginate
        how = (
            f"by cursor: ``{pg.cursor}`` carries it, each answer names the next at ``{pg.next}``"
            if pg.cursor is not None
            else f"by page number (``{pg.page}``)"
        )
        paras.append(
            f"Paginated {how}: ``.pages(...)`` yields each page and ``.items(...)`` each "
            f"``{typed_items}`` across pages (``{pg.items}``, up to {pg.max_size} per page)."
        )
    return docstring(paras, indent)


def _build_type(t: TypeSpec, cat: Catalogue, namer: _Namer, mod: ModuleOut, shapes: Shapes) -> None:
    base = type_base(t.group, t.method)
    if not t.documented:
        mod.methods.append(
            MethodOut(
                t.method,
                t.type,
                _method_doc(t, cat, [], "Any", None),
                [],
                "Any",
                "Any",
                None,
                documented=False,
            )
        )
        return
    param_names = namer.tree(t.params, base, "Param", shapes.params)
    mod.record(t.type, "params", param_names)
    mod.structs += _structs(t.params, "param", param_names, f"``{t.type}`` params")
    args: list[ArgOut] = []
    used = {"self", "options"}
    for f in t.params:
        py = py_name(f.name, used)
        used.add(py)
        p = (f.name,)
        a = ArgOut(py, f.name, _param_ann(f, param_names, p), f.required, "")
        a.doc = _arg_doc(a, f, param_names.get(p))
        if not f.required:
            a.ann = _optional(a.ann)
        args.append(a)
    typed = bool(t.response) and t.result_type in ("object", "list")
    returns, result_expr = "Any", "Any"
    result_names: dict[Path, str] = {}
    if typed:
        assert t.response is not None
        root = namer.claim(base + ("Result" if t.result_type == "object" else "Item"))
        result_names = namer.tree(t.response, base, "", shapes.results)
        mod.record(t.type, "result", result_names)
        describe = f"the ``{t.type}`` result"
        mod.structs += _structs(t.response, "result", result_names, describe)
        what = "The result" if t.result_type == "object" else "One element of the result list"
        mod.structs.append(
            StructOut(
                root,
                docstring([f"{what} of ``{t.type}``: {t.summary.strip()}"], "    "),
                "result",
                _struct_fields(t.response, "result", result_names, ()),
                gc=not _gc_safe(t.response),
            )
        )
        if t.result_type == "object":
            returns = result_expr = root
        else:
            # A module-level alias: the class body never spells ``list[...]``, because a
            # method named ``list`` would shadow the builtin there (for mypy as well).
            returns = result_expr = namer.claim(base + "Result")
            mod.aliases.append((result_expr, f"list[{root}]"))
    decorator = None
    typed_items = None
    if t.paginate is not None:
        decorator, typed_items = _decorator(t, args, typed, result_names)
    mod.methods.append(
        MethodOut(
            t.method,
            t.type,
            _method_doc(t, cat, args, returns, typed_items),
            args,
            returns,
            result_expr,
            decorator,
            documented=True,
        )
    )


def build_module(
    group: str,
    types: list[TypeSpec],
    cat: Catalogue,
    other_modules: frozenset[str] = frozenset(),
    shapes: Shapes | None = None,
) -> ModuleOut:
    """Everything the group template prints for one group.

    ``other_modules`` are the names of the generated modules that are not groups;
    ``shapes`` is what :func:`build_shapes` made of the catalogue (built when not given).
    """
    shapes = shapes if shapes is not None else build_shapes(cat)
    if group in shop_attributes():
        raise GenerateError(
            f"group {group!r} would hide a ShopClient attribute; rename it "
            f"(the shop client has: {', '.join(sorted(shop_attributes()))})"
        )
    if group in other_modules or group == "catalogue":
        raise GenerateError(
            f"group {group!r} would replace the generated module _generated/{group}; rename it"
        )
    namer = _Namer()
    class_name = namer.claim(pascal(group) + "Group")
    listed = ", ".join(f"``{t.method}``" for t in types)
    doc = docstring(
        [
            f"The ``{group}`` group of API types: ``shop.{group}.<method>(...)``.",
            f"Methods: {listed}.",
        ],
        "    ",
    )
    mod = ModuleOut(group, class_name, doc, types=types)
    for t in types:
        if t.method in _CLASS_BODY_NAMES or t.method in group_attributes():
            raise GenerateError(
                f"{t.type}: method name {t.method!r} would shadow a name the group class uses"
            )
        _build_type(t, cat, namer, mod, shapes)
    # Class-body names are bound in order: a method named after a builtin (``list``) goes
    # last so that no annotation or decorator after it sees the method instead.
    mod.methods.sort(key=lambda m: m.name in PY_RESERVED)
    return mod


def build_events(events: list[Event]) -> list[tuple[Event, StructOut, list[StructOut]]]:
    """Per event: its Struct and the nested Structs it needs (defined before it)."""
    namer = _Namer()
    out: list[tuple[Event, StructOut, list[StructOut]]] = []
    for ev in events:
        root = namer.claim(event_class(ev.code))
        # Events keep their own frozen Structs: a shape is written out here.
        fields = _unshaped(ev.fields)
        names = namer.tree(fields, root, "")
        nested = list(_structs(fields, "event", names, f"the ``{ev.code}`` payload"))
        struct = StructOut(
            root,
            docstring([f"Webhook event ``{ev.code}``: {ev.summary.strip()}"], "    "),
            "event",
            _struct_fields(fields, "event", names, ()),
            gc=not _gc_safe(fields),
        )
        out.append((ev, struct, nested))
    return out


def _unshaped(fields: list[Field]) -> list[Field]:
    return [
        msgspec.structs.replace(
            f, shape=None, fields=_unshaped(f.fields) if f.fields is not None else None
        )
        for f in fields
    ]


@dataclass
class Shapes:
    """The shapes module's Structs, and which one a param or a result field of a shape uses."""

    structs: list[StructOut]
    params: ShapeNames
    results: ShapeNames
    paths: dict[str, dict[str, str]] = field(default_factory=dict)
    """Shape Struct -> (dotted path inside it -> the Struct there)."""


def _uses(fields: list[Field] | None, by_name: dict[str, Shape], into: set[str]) -> None:
    for f in fields or ():
        if f.shape is not None and f.shape in by_name:
            if f.shape not in into:
                into.add(f.shape)
                _uses(by_name[f.shape].fields, by_name, into)
        else:
            _uses(f.fields, by_name, into)


def build_shapes(cat: Catalogue) -> Shapes:
    """The shared Structs of ``spec/shapes.yaml``.

    A shape that results use is a result Struct (``Money``: every field optional); one
    that request params use is a request Struct (required fields, closed enums as
    Literal). Used by both, it is one Struct when the two would read the same, else the
    request one is ``<Name>Param``. A shape nothing uses yet is generated as a result.
    """
    by_name = {sh.name: sh for sh in cat.shapes}
    in_params: set[str] = set()
    in_results: set[str] = set()
    for t in cat.types:
        _uses(t.params, by_name, in_params)
        _uses(t.response, by_name, in_results)
    out = Shapes([], {}, {})
    namer = _Namer()
    for sh in cat.shapes:
        namer.claim(sh.name)
    for sh in cat.shapes:
        kinds: list[Kind] = ["param"] if sh.name in in_params else []
        if sh.name in in_results or not kinds:
            kinds.insert(0, "result")
        for kind in kinds:
            name = sh.name if kind == "result" or len(kinds) == 1 else sh.name + "Param"
            names = namer.tree(sh.fields, name, "", out.params if kind == "param" else out.results)
            nested = list(_structs(sh.fields, kind, names, f"shape ``{sh.name}``"))
            struct = StructOut(
                name,
                docstring([sh.summary.strip()], "    "),
                kind,
                _struct_fields(sh.fields, kind, names, ()),
                gc=kind == "param" or not _gc_safe(sh.fields),
            )
            if kind == "param" and "result" in kinds and _same(struct, out.structs, sh.name):
                out.params[sh.name] = sh.name  # reads the same: one Struct for both
                continue
            if name != sh.name:
                namer.claim(name)
            out.paths[name] = {".".join(p): n for p, n in names.items()}
            out.structs += [*nested, struct]
            (out.params if kind == "param" else out.results)[sh.name] = name
    out.structs = _ordered(out.structs)
    return out


def _same(struct: StructOut, done: list[StructOut], name: str) -> bool:
    other = next(s for s in done if s.name == name)
    return [(f.py, f.ann, f.default) for f in struct.fields] == [
        (f.py, f.ann, f.default) for f in other.fields
    ]


def _ordered(structs: list[StructOut]) -> list[StructOut]:
    """Structs in an order where each one's field types are defined before it."""
    names = {s.name for s in structs}
    placed: list[StructOut] = []
    done: set[str] = set()
    pending = list(structs)
    while pending:
        rest = []
        for s in pending:
            needs = {n for f in s.fields for n in re.findall(r"\b[A-Z]\w*", f.ann)} & names
            if needs <= done | {s.name}:
                placed.append(s)
                done.add(s.name)
            else:
                rest.append(s)
        if len(rest) == len(pending):
            raise GenerateError(f"shapes refer to each other in a circle: {rest[0].name}")
        pending = rest
    return placed
