"""The catalogue model: what one Temu API type looks like as data.

The YAML files in ``spec/`` are decoded into these Structs by the code generator
(which adds a YAML loader on top); the generator then writes the whole catalogue
as ``_generated/catalogue.json`` so that the runtime (parameter checks, the
sandbox, the CLI's ``describe``) reads the same model without pyyaml.

A typo in the catalogue is a decode error here (``forbid_unknown_fields``), and
the cross-field rules live in :func:`problems`, so ``make check-spec`` fails long
before a user's call would.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

__all__ = [
    "SCALARS",
    "Catalogue",
    "ErrorCode",
    "Event",
    "Field",
    "Paginate",
    "Region",
    "Shape",
    "TypeSpec",
    "problems",
]

# Temu's documentation types, mapped to ours: 1 INTEGER -> integer, 2 LONG -> long,
# 4 STRING -> string, 5 BOOLEAN -> boolean, 6 OBJECT -> object, 8 LIST -> list.
# ``number`` exists for the odd decimal the docs show; ``any`` is for a value whose
# shape no source documents (it stays plain data).
FieldType = Literal["integer", "long", "string", "boolean", "number", "object", "list", "any"]
SCALARS = frozenset({"integer", "long", "string", "boolean", "number", "any"})

EnumValue = int | str

_WIRE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METHOD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPE_NAME = re.compile(r"^[a-z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)+$")
RegionName = Literal["us", "eu", "global"]
REGIONS: tuple[RegionName, ...] = ("us", "eu", "global")

# Units a field's ``unit`` may name. Times since the Unix epoch say which resolution
# (Temu mixes both, sometimes inside one type); money says whether amounts are in the
# currency's minor unit (cents) or its major unit.
UNITS = {
    "epoch_s": "seconds since the Unix epoch",
    "epoch_ms": "milliseconds since the Unix epoch",
    "s": "seconds",
    "ms": "milliseconds",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "minor_units": "the currency's minor unit (e.g. cents)",
    "major_units": "the currency's major unit (e.g. dollars)",
    "text": "text in a format no reference documents (a timestamp or an ISO 8601 time)",
}
_DATE_FORMAT = re.compile(r"^[yMdHhmsS:\-/ T.Zz]+$")


class Field(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """One request param or response field, possibly with nested fields."""

    name: str
    """The wire name, exactly as Temu spells it (``pageSize``, ``parentOrderSnList``)."""
    type: FieldType
    items: FieldType | None = None
    """Element type when ``type`` is ``list``."""
    fields: list[Field] | None = None
    """Children when ``type`` is ``object``, or ``list`` with ``items: object``."""
    shape: str | None = None
    """A named shape (``spec/shapes.yaml``) this object, or each object of this list, has.
    The spec gives either ``shape`` or ``fields``; the loader copies the shape's fields in,
    so ``fields`` is always there for the runtime, and the generator uses one shared Struct."""
    required: bool = False
    summary: str = ""
    """What the field means, in our own words (flows into docstrings and docs/api.md)."""
    unit: str | None = None
    """The unit of a time, duration or money value: one of ``UNITS``, or a date/time
    format such as ``yyyy-MM-dd HH:mm:ss`` for a time carried as text."""
    enum: dict[EnumValue, str] | None = None
    """Documented values and their meaning. Whether other values are refused is ``enum_closed``."""
    enum_closed: bool = True
    minimum: int | None = None
    maximum: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    max_length: int | None = None
    default: EnumValue | bool | None = None
    """The server's default when the param is not sent (documentation only: we never send it)."""

    def __post_init__(self) -> None:
        # JSON object keys are always strings: give integer enums their int keys back
        # after a round trip through catalogue.json.
        scalar = self.items if self.type == "list" else self.type
        if self.enum and scalar in ("integer", "long"):
            self.enum = {int(k): v for k, v in self.enum.items()}


class Shape(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A structure many fields share (money, a metric value): one Struct in the SDK."""

    name: str
    """PascalCase; the generated Struct's name (``Money``)."""
    summary: str
    fields: list[Field]


class Paginate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """How to walk a paged list type (all names are wire names / dotted result paths).

    By page number (``page``), or by a cursor (``cursor``: the param that carries it,
    ``next``: where the answer names the next one, e.g. ``pagination.nextToken``).
    """

    page: str | None = None
    """Request param holding the page number."""
    cursor: str | None = None
    """Request param holding the cursor (scroll id, page token) of the page to read."""
    next: str | None = None
    """Dotted path inside ``result`` to the cursor of the next page (absent or empty: the end)."""
    size: str
    """Request param holding the page size."""
    items: str
    """Dotted path inside ``result`` to the list of items (``pageItems``)."""
    total: str | None = None
    """Dotted path inside ``result`` to the total item count, when the type reports one."""
    max_size: int = 100
    first_page: int = 1


class RateLimit(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    per_second: int
    scope: Literal["app_key"] = "app_key"


class TypeSpec(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """One Temu API type (one value of the ``type`` common param)."""

    type: str
    method: str
    group: str = ""
    """Filled from the YAML file the type lives in."""
    summary: str
    documented: bool = True
    """False when only the name is known: the method takes free-form params."""
    doc_url: str | None = None
    regions: list[RegionName] = msgspec.field(default_factory=lambda: list(REGIONS))
    scope: str | None = None
    """The permission package the seller must grant (as the docs name it)."""
    params: list[Field] = msgspec.field(default_factory=list)
    response: list[Field] | None = None
    """The fields of ``result``; None when unknown (the result stays plain data)."""
    result_type: Literal["object", "list", "scalar", "any"] = "object"
    errors: dict[int, str] = msgspec.field(default_factory=dict)
    retryable_errors: list[int] = msgspec.field(default_factory=list)
    """Codes of ``errors`` the docs tell the caller to retry ("try again later"): transient."""
    rate_limit: RateLimit | None = None
    paginate: Paginate | None = None
    idempotent: bool
    """Safe to send again after an ambiguous failure (all reads; writes only when a repeat is harmless)."""
    idempotent_with: str | None = None
    """A param that makes a call safe to repeat when it is sent (a request key the gateway
    uses to refuse duplicates), for types that are not ``idempotent`` on their own."""
    deprecated: bool = False
    replaced_by: str | None = None
    notes: str = ""


class ErrorCode(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A gateway-wide error code and what it means for a client."""

    code: int
    name: str
    message: str
    category: Literal[
        "success",
        "business",
        "params",
        "signature",
        "type",
        "timestamp",
        "app",
        "token",
        "scope",
        "system",
        "rate_limited",
        "environment",
    ]
    retryable: bool = False
    """A retry with backoff may succeed."""
    pushes_back: bool = False
    """The gateway is shedding load: push the whole app's rate budget back."""
    may_have_run: bool = False
    """The answer does not say whether the request ran (every other code is a refusal
    made before anything ran). Read by :func:`temu_async.decide.decide`."""
    hint: str = ""
    """What the caller should do next, shown in the exception text."""


class Region(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: RegionName
    url: str
    summary: str = ""


class Event(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A webhook event and the fields of its decrypted payload."""

    code: str
    summary: str
    fields: list[Field] = msgspec.field(default_factory=list)


class Catalogue(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    version: str = ""
    """Hash of the spec files the catalogue was read from."""
    default_rate_limit: int = 20
    regions: list[Region] = msgspec.field(default_factory=list)
    errors: list[ErrorCode] = msgspec.field(default_factory=list)
    events: list[Event] = msgspec.field(default_factory=list)
    shapes: list[Shape] = msgspec.field(default_factory=list)
    types: list[TypeSpec] = msgspec.field(default_factory=list)

    def by_type(self) -> dict[str, TypeSpec]:
        return {t.type: t for t in self.types}


def walk(fields: list[Field] | None, prefix: str = "") -> Iterator[tuple[str, Field]]:
    """Yield ``(dotted.path, field)`` for every field in a tree, depth first."""
    for f in fields or ():
        path = f"{prefix}{f.name}"
        yield path, f
        if f.fields:
            yield from walk(f.fields, path + ".")


def _field_problems(
    where: str, fields: list[Field] | None, shapes: frozenset[str] = frozenset()
) -> Iterator[str]:
    seen: set[str] = set()
    for f in fields or ():
        at = f"{where}.{f.name}"
        if f.shape is not None:
            if f.shape not in shapes:
                yield f"{at}: shape {f.shape!r} is not one of spec/shapes.yaml"
            if not (f.type == "object" or (f.type == "list" and f.items == "object")):
                yield f"{at}: `shape` only goes with object or list of object"
        if not _WIRE_NAME.match(f.name):
            yield f"{at}: not a valid wire name"
        if f.name in seen:
            yield f"{at}: listed twice"
        seen.add(f.name)
        if f.type == "list" and f.items is None:
            yield f"{at}: a list needs `items`"
        if f.type != "list" and f.items is not None:
            yield f"{at}: `items` only goes with type list"
        nested = f.type == "object" or (f.type == "list" and f.items == "object")
        if f.fields and not nested:
            yield f"{at}: `fields` only goes with object or list of object"
        if f.enum:
            kinds = {type(v) for v in f.enum}
            scalar = f.items if f.type == "list" else f.type
            if scalar in ("integer", "long") and kinds != {int}:
                yield f"{at}: enum values of an integer field must be integers"
            if scalar == "string" and kinds != {str}:
                yield f"{at}: enum values of a string field must be strings"
        for lo, hi, what in (
            (f.minimum, f.maximum, "minimum/maximum"),
            (f.min_items, f.max_items, "min_items/max_items"),
        ):
            if lo is not None and hi is not None and lo > hi:
                yield f"{at}: {what} are the wrong way round"
        if (
            f.unit is not None
            and f.unit not in UNITS
            and not ("yyyy" in f.unit and _DATE_FORMAT.match(f.unit))
        ):
            yield f"{at}: unit {f.unit!r} is neither one of {sorted(UNITS)} nor a date format"
        if (f.min_items is not None or f.max_items is not None) and f.type != "list":
            yield f"{at}: list bounds on a non-list"
        yield from _field_problems(at, f.fields, shapes)


def _path_exists(fields: list[Field] | None, path: str) -> bool:
    return any(p == path for p, _ in walk(fields))


def problems(cat: Catalogue) -> list[str]:
    """Every rule the catalogue breaks, as readable lines (empty when it is sound)."""
    out: list[str] = []
    names = cat.by_type()
    shapes = frozenset(s.name for s in cat.shapes)
    if len(shapes) != len(cat.shapes):
        out.append("shapes: a shape is listed twice")
    for shape in cat.shapes:
        if not re.match(r"^[A-Z][A-Za-z0-9]*$", shape.name):
            out.append(f"shapes.{shape.name}: a shape's name is PascalCase")
        out.extend(_field_problems(f"shapes.{shape.name}", shape.fields, shapes))
    seen_types: set[str] = set()
    seen_methods: set[tuple[str, str]] = set()
    for t in cat.types:
        at = t.type
        if t.type in seen_types:
            out.append(f"{at}: type listed twice")
        seen_types.add(t.type)
        if not _TYPE_NAME.match(t.type):
            out.append(f"{at}: not a valid type name")
        if not _METHOD_NAME.match(t.method) or t.method.startswith("_"):
            out.append(f"{at}: method `{t.method}` is not a snake_case name")
        if (t.group, t.method) in seen_methods:
            out.append(f"{at}: method {t.group}.{t.method} is used twice")
        seen_methods.add((t.group, t.method))
        if not _METHOD_NAME.match(t.group):
            out.append(f"{at}: group `{t.group}` is not a snake_case name")
        if not t.summary.strip():
            out.append(f"{at}: summary is empty")
        if not t.regions:
            out.append(f"{at}: no region offers it")
        if t.replaced_by is not None and t.replaced_by not in names:
            out.append(f"{at}: replaced_by names unknown type {t.replaced_by}")
        if t.replaced_by is not None and not t.deprecated:
            out.append(f"{at}: replaced_by without deprecated: true")
        if not t.documented and (t.params or t.response):
            out.append(f"{at}: documented: false but params/response are given")
        for code in t.retryable_errors:
            if code not in t.errors:
                out.append(f"{at}: retryable_errors names {code}, which is not in errors")
        if t.idempotent_with is not None and not any(f.name == t.idempotent_with for f in t.params):
            out.append(
                f"{at}: idempotent_with names param {t.idempotent_with!r} that the type lacks"
            )
        if t.idempotent_with is not None and t.idempotent:
            out.append(f"{at}: idempotent_with only makes sense on a type that is not idempotent")
        out.extend(_field_problems(at + ".params", t.params, shapes))
        out.extend(_field_problems(at + ".response", t.response, shapes))
        pg = t.paginate
        if pg is not None:
            if (pg.page is None) == (pg.cursor is None):
                out.append(f"{at}: paginate needs either `page` or `cursor`")
            if (pg.cursor is None) != (pg.next is None):
                out.append(f"{at}: paginate `cursor` and `next` go together")
            for param in (pg.page, pg.cursor, pg.size):
                if param is not None and not _path_exists(t.params, param):
                    out.append(f"{at}: paginate names param {param!r} that the type lacks")
            for path in (pg.items, pg.total, pg.next):
                if path is not None and not _path_exists(t.response, path):
                    out.append(f"{at}: paginate names result path {path!r} that the type lacks")
    for e in cat.errors:
        if (e.pushes_back or e.may_have_run) and e.category == "success":
            out.append(f"errors: {e.code} is a success; it cannot push back or have run")
    codes = [e.code for e in cat.errors]
    if len(codes) != len(set(codes)):
        out.append("errors: a gateway code is listed twice")
    events = [e.code for e in cat.events]
    if len(events) != len(set(events)):
        out.append("events: an event is listed twice")
    return out


_CATALOGUE_FILE = "catalogue.json"


@functools.lru_cache(maxsize=1)
def load() -> Catalogue:
    """The catalogue the package was generated from (read once, on first use)."""
    path = Path(__file__).with_name("_generated") / _CATALOGUE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RuntimeError(
            f"{path} is missing: run `make generate` (it is written by the code generator)"
        ) from None
    return msgspec.json.decode(data, type=Catalogue)


@functools.lru_cache(maxsize=1)
def types_by_name() -> dict[str, TypeSpec]:
    return load().by_type()


@functools.lru_cache(maxsize=1)
def gateway_codes() -> dict[int, ErrorCode]:
    """Gateway-wide error codes by number; empty before the first ``make generate``."""
    try:
        cat = load()
    except RuntimeError:
        return {}
    return {e.code: e for e in cat.errors}
