"""Read ``spec/`` into the :class:`~temu_async.catalogue.Catalogue` model.

The YAML is only a carrier: every mapping goes through ``msgspec.convert`` into the
model, so an unknown key (a typo) or a wrong value type stops the build with the
file's name in the message instead of producing a quietly wrong SDK.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import msgspec
import yaml

from temu_async.catalogue import Catalogue, ErrorCode, Event, Field, Region, Shape, TypeSpec

# libyaml's loader is about five times faster on the whole catalogue, when installed.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["SpecError", "expand_shapes", "load_catalogue", "load_shapes", "spec_files", "spec_hash"]


class SpecError(Exception):
    """The catalogue cannot be read: the message names the file and what is wrong."""


def spec_files(spec_dir: Path) -> list[Path]:
    """Every file that makes up the catalogue, in a stable order."""
    files = [spec_dir / "gateway.yaml", spec_dir / "events.yaml", spec_dir / "shapes.yaml"]
    files += sorted((spec_dir / "types").glob("*.yaml"))
    return sorted(f for f in files if f.is_file())


def spec_hash(spec_dir: Path) -> str:
    """First 16 hex digits of a sha256 over the spec files (paths and bytes, sorted by path)."""
    digest = hashlib.sha256()
    for path in spec_files(spec_dir):
        # The relative path goes in too, so moving a type to another group changes the hash.
        digest.update(path.relative_to(spec_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc


def _convert(value: Any, model: Any, path: Path, what: str) -> Any:
    try:
        return msgspec.convert(value, model, strict=True)
    except msgspec.ValidationError as exc:
        # msgspec names the offending key path (e.g. `$.types[3].params[0].requried`).
        raise SpecError(f"{path}: {what}: {exc}") from exc


def _mapping(doc: Any, path: Path, keys: set[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    unknown = sorted(set(doc) - keys)
    if unknown:
        raise SpecError(f"{path}: unknown top-level key(s) {unknown}; allowed: {sorted(keys)}")
    return doc


def _load_gateway(path: Path) -> dict[str, Any]:
    doc = _mapping(_read_yaml(path), path, {"default_rate_limit", "regions", "errors"})
    out: dict[str, Any] = {}
    if "default_rate_limit" in doc:
        out["default_rate_limit"] = _convert(
            doc["default_rate_limit"], int, path, "default_rate_limit"
        )
    out["regions"] = _convert(doc.get("regions") or [], list[Region], path, "regions")
    out["errors"] = _convert(doc.get("errors") or [], list[ErrorCode], path, "errors")
    return out


def _load_group(path: Path) -> list[TypeSpec]:
    doc = _mapping(_read_yaml(path), path, {"group", "types"})
    group = doc.get("group")
    if group != path.stem:
        raise SpecError(f"{path}: `group: {group}` must match the file name ({path.stem!r})")
    types: list[TypeSpec] = _convert(doc.get("types") or [], list[TypeSpec], path, "types")
    for t in types:
        if t.group and t.group != group:
            raise SpecError(f"{path}: {t.type} says group {t.group!r} inside group {group!r}")
        t.group = group
    return types


def _load_events(path: Path) -> list[Event]:
    doc = _read_yaml(path)
    # Accept either a bare list or `events: [...]`: the events file is written by someone else.
    if isinstance(doc, dict):
        doc = _mapping(doc, path, {"events"}).get("events")
    events: list[Event] = _convert(doc or [], list[Event], path, "events")
    return events


def load_shapes(spec_dir: Path) -> list[Shape]:
    """The named shapes of ``spec/shapes.yaml`` (none when the file is absent), expanded."""
    path = Path(spec_dir) / "shapes.yaml"
    if not path.is_file():
        return []
    doc = _mapping(_read_yaml(path), path, {"shapes"})
    shapes: list[Shape] = _convert(doc.get("shapes") or [], list[Shape], path, "shapes")
    by_name = {s.name: s for s in shapes}
    resolving: list[str] = []
    resolved: set[str] = set()

    def resolve(shape: Shape) -> None:
        if shape.name in resolved:
            return
        if shape.name in resolving:
            chain = " -> ".join([*resolving, shape.name])
            raise SpecError(f"{path}: shapes refer to each other in a circle: {chain}")
        resolving.append(shape.name)
        for f in shape.fields:
            inner = by_name.get(f.shape or "")
            if inner is not None:
                resolve(inner)
        expand_shapes(shape.fields, by_name, path, f"shapes.{shape.name}")
        resolving.pop()
        resolved.add(shape.name)

    for shape in shapes:
        resolve(shape)
    return shapes


def expand_shapes(
    fields: list[Field] | None, shapes: dict[str, Shape], path: Path, where: str
) -> None:
    """Copy each named shape's fields into the fields that name it (in place).

    The runtime (param checks, the sandbox) then sees plain nested fields, whatever the
    spec wrote; an unknown shape stays empty here and is reported by ``problems()``.
    """
    for f in fields or ():
        at = f"{where}.{f.name}"
        if f.shape is not None:
            if f.fields:
                raise SpecError(f"{path}: {at}: give either `shape` or `fields`, not both")
            shape = shapes.get(f.shape)
            if shape is not None:
                f.fields = copy.deepcopy(shape.fields)
                continue
        expand_shapes(f.fields, shapes, path, at)


def load_catalogue(spec_dir: Path) -> Catalogue:
    """Decode every file under ``spec_dir`` into one validated :class:`Catalogue`.

    Raises :class:`SpecError` naming the file on any decode problem. Cross-field rules
    (unique names, paginate paths, ...) are :func:`temu_async.catalogue.problems`.
    """
    spec_dir = Path(spec_dir)
    gateway = spec_dir / "gateway.yaml"
    if not gateway.is_file():
        raise SpecError(f"{gateway}: missing (default rate limit, regions, gateway errors)")
    fields = _load_gateway(gateway)
    shapes = load_shapes(spec_dir)
    by_name = {s.name: s for s in shapes}
    types: list[TypeSpec] = []
    for path in sorted((spec_dir / "types").glob("*.yaml")):
        for t in _load_group(path):
            expand_shapes(t.params, by_name, path, f"{t.type}.params")
            expand_shapes(t.response, by_name, path, f"{t.type}.response")
            types.append(t)
    types.sort(key=lambda t: (t.group, t.method, t.type))
    events_path = spec_dir / "events.yaml"
    events = _load_events(events_path) if events_path.is_file() else []
    for ev in events:
        expand_shapes(ev.fields, by_name, events_path, ev.code)
    return Catalogue(
        version=spec_hash(spec_dir), types=types, events=events, shapes=shapes, **fields
    )
