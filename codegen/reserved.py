"""Names a generated group or method must not take, read from the hand-written classes.

A group becomes a property of :class:`temu_async.client.ShopClient` and a module in
``_generated/``; a method becomes an attribute of a :class:`temu_async.group.Group`
subclass. Asking those classes (and one shop instance, for the attributes ``__init__``
sets) what they already hold keeps the refusal right when the client grows a method or
attribute, which a hand-kept list of names did not (it missed ``scopes``, ``token_info``).
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["group_attributes", "shop_attributes"]


@functools.lru_cache(maxsize=1)
def shop_attributes() -> frozenset[str]:
    """Every attribute of a shop client that is not one of the generated group properties."""
    from temu_async._generated.groups import Groups
    from temu_async.client import ShopClient, TemuApp

    names: set[str] = set()
    for cls in ShopClient.__mro__:
        if cls not in (Groups, object):
            names.update(vars(cls))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Instance attributes (``app``, ``name``, ``scopes``...) exist only once built;
        # nothing is sent and no connection is opened by building one.
        app = TemuApp("codegen-introspection", "codegen-introspection")
        names.update(vars(ShopClient(app, "codegen-introspection")))
    return frozenset(n for n in names if not n.startswith("__"))


@functools.lru_cache(maxsize=1)
def group_attributes() -> frozenset[str]:
    """Every attribute the base group class gives its generated subclasses."""
    from temu_async.group import Group

    names: set[str] = set(Group.__slots__)
    for cls in Group.__mro__:
        if cls is not object:
            names.update(vars(cls))
    return frozenset(n for n in names if not n.startswith("__"))
