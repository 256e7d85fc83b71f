"""Which catalogue fields hold a point in time, and so must say their unit.

Temu sends times as seconds or milliseconds since the epoch, or as formatted text, and
mixes them even inside one type; a caller cannot tell which from the value. Every time
field therefore carries ``unit`` (``epoch_s``, ``epoch_ms`` or a date format such as
``yyyy-MM-dd HH:mm:ss``). A time field is recognised by its name, because the catalogue
has no other mark of it:

- the name ends in ``Time``, ``At``, ``Date``, ``Millis``, ``Ms``, ``Timestamp`` or
  ``Month`` (or is ``time``/``date``/``timestamp``), optionally followed by a range word
  (``Start``, ``End``, ``Begin``, ``From``, ``To``): ``parentConfirmTimeStart``,
  ``createAtEnd``, ``orderTimeMillis``, ``operateExpireTimeMs``; or it is one of
  :data:`ALSO_TIMES`, times whose name puts the word first (``earliestTimeBuyShippingLabel``);
- and it holds a number or text (integer, long, number, string, or a list of those).

Durations and offsets (``expireDays``, ``shipmentLimitDay``, ``uspsMailingDateOffset``)
name their unit and are not times; neither are lists of slots or modes
(``availablePickupTimeSlotList``, ``pickUpTimeScheduleMode``) nor a zone name
(``userPickUpTimezone``). :data:`NOT_TIMES` lists names that match the rule but hold no time.
"""

from __future__ import annotations

import re

from temu_async.catalogue import Catalogue, Field, walk
from temu_async.field_rules import with_unit  # the one renderer of a unit in words

__all__ = ["ALSO_TIMES", "NOT_TIMES", "is_time_field", "missing_units", "with_unit"]

_TIME_NAME = re.compile(
    r"(?:^(?:time|date|timestamp)|(?:Time|At|Date|Millis|Ms|Timestamp|Month))"
    r"(?:Start|End|Begin|From|To)?$"
)
_SCALARS = frozenset({"integer", "long", "number", "string"})

# Names the rule matches that are not points in time (none so far in the catalogue; add
# a name here with the reason when one turns up, rather than loosening the rule).
NOT_TIMES: frozenset[str] = frozenset()
# Times the suffix rule misses because the name goes on after the time word.
ALSO_TIMES: frozenset[str] = frozenset(
    {"earliestTimeBuyShippingLabel", "earliestTimeGetShippingDocument"}
)


def is_time_field(f: Field) -> bool:
    scalar = f.items if f.type == "list" else f.type
    if scalar not in _SCALARS or f.name in NOT_TIMES:
        return False
    return f.name in ALSO_TIMES or _TIME_NAME.search(f.name) is not None


def missing_units(cat: Catalogue) -> list[str]:
    """A problem line for every time field (params and results, any depth) without a unit."""
    out: list[str] = []
    for t in cat.types:
        for part, fields in (("params", t.params), ("response", t.response)):
            for path, f in walk(fields):
                if f.unit is None and is_time_field(f):
                    out.append(
                        f"{t.type}.{part}.{path}: a time field without `unit` "
                        "(epoch_s, epoch_ms or a date format)"
                    )
    return out
