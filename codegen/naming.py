"""Wire names (``parentOrderSnList``) to Python names (``parent_order_sn_list``, ``OrderListV2``).

The word lists are fixed here rather than read from :mod:`keyword` / :mod:`builtins` at run
time: those differ between Python versions, and the generated code must be the same bytes
whichever interpreter runs ``make generate``.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "PY_RESERVED",
    "event_class",
    "pascal",
    "py_name",
    "singular",
    "snake",
    "type_base",
]

_KEYWORDS = frozenset(
    [
        "False",
        "None",
        "True",
        "and",
        "as",
        "assert",
        "async",
        "await",
        "break",
        "class",
        "continue",
        "def",
        "del",
        "elif",
        "else",
        "except",
        "finally",
        "for",
        "from",
        "global",
        "if",
        "import",
        "in",
        "is",
        "lambda",
        "nonlocal",
        "not",
        "or",
        "pass",
        "raise",
        "return",
        "try",
        "while",
        "with",
        "yield",
    ]
)

# Lowercase builtins of Python 3.10-3.13. A parameter named ``type`` or ``id`` would shadow the
# builtin inside the method body, and a Struct field named ``list`` would shadow the name
# msgspec looks up when it resolves the class's annotations.
_BUILTINS = frozenset(
    [
        "abs",
        "aiter",
        "all",
        "anext",
        "any",
        "ascii",
        "bin",
        "bool",
        "breakpoint",
        "bytearray",
        "bytes",
        "callable",
        "chr",
        "classmethod",
        "compile",
        "complex",
        "copyright",
        "credits",
        "delattr",
        "dict",
        "dir",
        "divmod",
        "enumerate",
        "eval",
        "exec",
        "exit",
        "filter",
        "float",
        "format",
        "frozenset",
        "getattr",
        "globals",
        "hasattr",
        "hash",
        "help",
        "hex",
        "id",
        "input",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "license",
        "list",
        "locals",
        "map",
        "max",
        "memoryview",
        "min",
        "next",
        "object",
        "oct",
        "open",
        "ord",
        "pow",
        "print",
        "property",
        "quit",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "setattr",
        "slice",
        "sorted",
        "staticmethod",
        "str",
        "sum",
        "super",
        "tuple",
        "type",
        "vars",
        "zip",
    ]
)

PY_RESERVED = _KEYWORDS | _BUILTINS
"""Names that get a trailing underscore when a wire name turns into them."""

_ACRONYM_BREAK = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BREAK = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@functools.cache  # a few thousand wire names, each converted many times
def snake(wire: str) -> str:
    """``parentOrderSnList`` -> ``parent_order_sn_list``; ``skuIDList`` -> ``sku_id_list``."""
    text = _ACRONYM_BREAK.sub(r"\1_\2", wire)
    text = _WORD_BREAK.sub(r"\1_\2", text).lower()
    text = _NON_WORD.sub("_", text).strip("_")
    if not text:
        return "field"
    if text[0].isdigit():
        return "f_" + text
    return text


def py_name(wire: str, reserved: frozenset[str] | set[str] = frozenset()) -> str:
    """The snake_case name for a wire name, with ``_`` appended when it would clash."""
    name = snake(wire)
    while name in PY_RESERVED or name in reserved:
        name += "_"
    return name


def pascal(name: str) -> str:
    """``list_v2`` or ``pageItems`` -> ``ListV2`` / ``PageItems``."""
    return "".join(part[:1].upper() + part[1:] for part in snake(name).split("_"))


def singular(wire: str) -> str:
    """The name of one element of a list field: ``orderList`` -> ``order``, ``pageItems`` -> ``pageItem``."""
    for suffix in ("List", "list", "Array", "s"):
        if wire.endswith(suffix) and len(wire) > len(suffix) + 1:
            stem = wire[: -len(suffix)]
            if suffix == "s":
                if stem.endswith("ie"):
                    return stem[:-2] + "y"
                if stem.endswith(("s", "u")):  # address, status: not a plural
                    return wire
            return stem
    return wire


def type_base(group: str, method: str) -> str:
    """The prefix of every Struct a type owns: group ``order``, method ``list_v2`` -> ``OrderListV2``."""
    return pascal(group) + pascal(method)


def event_class(code: str) -> str:
    """``bg_order_status_change_event`` -> ``OrderStatusChangeEvent``."""
    stem = code[3:] if code.startswith("bg_") else code
    name = pascal(stem)
    return name if name.endswith("Event") else name + "Event"
