"""argparse ``type=`` checks for numeric flags: a bad number is refused while parsing,
with the flag named and the rule stated, before settings are read or anything is sent.

``float("nan")`` and ``float("inf")`` parse as floats, and ``int(nan)`` fails deep in
a sync with "cannot convert float NaN to integer"; these checks say it up front.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["finite", "whole"]


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An integer in ``[minimum, maximum]``."""
    rule = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {rule}, got {text!r}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def finite(minimum: float, *, above: bool = False) -> Callable[[str], float]:
    """A finite number ``>= minimum`` (``> minimum`` with ``above=True``)."""
    rule = f"{'>' if above else '>='} {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {rule}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number {rule}, got {text!r}")
        if value < minimum or (above and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    parse.__name__ = "number"
    return parse
