"""How a catalogue field reads in words: its type, unit and rules, in one line.

The one renderer of field rules: the code generator uses it for docstrings and
``docs/api.md``, and the CLI's ``describe`` can use it at runtime (it needs only the
catalogue model), so the three never word a rule differently.
"""

from __future__ import annotations

import json

from temu_async.catalogue import UNITS, Field

__all__ = ["describe", "enum_literal", "rule_text", "type_text", "unit_text", "with_unit"]


def type_text(f: Field) -> str:
    """The catalogue type as a reader sees it: ``long``, ``list[string]``, ``object``.

    A field with a named shape shows the shape: ``Money``, ``list[OrderSendInfo]``.
    """
    if f.type == "list":
        return f"list[{f.shape or f.items}]"
    return f.shape or f.type


def unit_text(unit: str | None) -> str:
    """``Unit: milliseconds since the Unix epoch.``, ``Format: yyyy-MM-dd.``; empty without one."""
    if not unit:
        return ""
    known = UNITS.get(unit)
    return f"Unit: {known}." if known else f"Format: {unit}."


def with_unit(f: Field) -> str:
    """The field's summary followed by its unit in words, for docstrings and docs/api.md."""
    text = f.summary.strip()
    said = unit_text(f.unit)
    if not said:
        return text
    if text and not text.endswith((".", "!", "?")):
        text += "."
    return f"{text} {said}" if text else said


def enum_literal(value: object) -> str:
    """An enum value as it is written in Python and JSON (strings quoted, booleans lower)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rule_text(f: Field, *, received: bool = False) -> str:
    """Every rule on a field in one line: enum and meanings, bounds, lengths, server default.

    ``received``: the field is read from an answer, where a closed enum's values are the
    known ones (a new value from Temu is never refused).
    """
    parts: list[str] = []
    if f.enum:
        values = ", ".join(
            f"{enum_literal(k)} ({v})" if v else enum_literal(k) for k, v in f.enum.items()
        )
        closed = f.enum_closed and not received
        parts.append(("one of " if closed else "known values ") + values)
    if f.minimum is not None and f.maximum is not None:
        parts.append(f"{f.minimum} to {f.maximum}")
    elif f.minimum is not None:
        parts.append(f">= {f.minimum}")
    elif f.maximum is not None:
        parts.append(f"<= {f.maximum}")
    if f.min_items is not None and f.max_items is not None:
        parts.append(f"{f.min_items} to {f.max_items} items")
    elif f.min_items is not None:
        parts.append(f"at least {f.min_items} item(s)")
    elif f.max_items is not None:
        parts.append(f"at most {f.max_items} items")
    if f.max_length is not None:
        parts.append(f"at most {f.max_length} characters")
    if f.default is not None:
        parts.append(f"server default {enum_literal(f.default)}")
    return "; ".join(parts)


def describe(f: Field, *, received: bool = False) -> str:
    """Summary, unit and rules: ``Page size (1 to 100; server default 10)``."""
    rule = rule_text(f, received=received)
    text = with_unit(f)
    if rule:
        text = f"{text} ({rule})" if text else rule[:1].upper() + rule[1:] + "."
    return text
