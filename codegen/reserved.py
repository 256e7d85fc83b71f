"""Names a generated group or method must not take, read from the hand-written classes.

A group becomes a property of :class:`temu_async.client.ShopClient` and a module in
``_generated/``; a method becomes an attribute of a :class:`temu_async.group.Group`
subclass. Asking those classes what they already hold keeps the refusal right when the
client grows a method or attribute, which a hand-kept list of names did not (it missed
``scopes``, ``token_info``).

The shop class is read from its source (methods, class attributes, the attributes its
``__init__`` sets, and the same for its hand-written bases) rather than imported: importing
the client pulls in aiohttp and sets up TLS, a quarter of a generator run.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

__all__ = ["group_attributes", "shop_attributes"]

_SHOP = ("temu_async.client", "ShopClient")
_GENERATED_BASES = frozenset({"Groups"})
"""Bases whose attributes are the generated groups themselves (never a clash)."""


@functools.lru_cache(maxsize=1)
def shop_attributes() -> frozenset[str]:
    """Every attribute of a shop client that is not one of the generated group properties."""
    names: set[str] = set()
    _collect(*_SHOP, names, set())
    return frozenset(n for n in names if not n.startswith("__"))


def _collect(module: str, name: str, into: set[str], seen: set[tuple[str, str]]) -> None:
    if (module, name) in seen:
        return
    seen.add((module, name))
    found = _class_def(module, name)
    if found is None:
        raise RuntimeError(f"codegen: cannot find class {name} through {module}")
    node, where = found
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            into.add(item.name)
            if item.name == "__init__":
                into.update(_self_attributes(item))
        elif isinstance(item, ast.Assign):
            into.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            into.add(item.target.id)
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id not in _GENERATED_BASES | {"object"}:
            _collect(where, base.id, into, seen)


def _class_def(module: str, name: str) -> tuple[ast.ClassDef, str] | None:
    """The class statement of ``name`` as ``module`` defines or imports it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node, module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = node.module
                    if node.level:  # a relative import
                        package = module.rsplit(".", node.level)[0]
                        source = f"{package}.{node.module}"
                    return _class_def(source, alias.name)
    return None


def _self_attributes(init: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Attributes ``__init__`` sets (``self.app = ...``): they exist only on instances."""
    names: set[str] = set()
    for node in ast.walk(init):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                names.add(target.attr)
    return names


@functools.lru_cache(maxsize=1)
def group_attributes() -> frozenset[str]:
    """Every attribute the base group class gives its generated subclasses."""
    from temu_async.group import Group

    names: set[str] = set(Group.__slots__)
    for cls in Group.__mro__:
        if cls is not object:
            names.update(vars(cls))
    return frozenset(n for n in names if not n.startswith("__"))
