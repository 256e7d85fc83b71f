"""``temu-async types [--group G]``: the catalogue's API types, one per line."""

from __future__ import annotations

import argparse

from temu_async import catalogue
from temu_async.cli.settings import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group", help="only this group (order, goods, price, ...)")


def run(args: argparse.Namespace) -> int:
    cat = catalogue.load()
    rows = [t for t in cat.types if not args.group or t.group == args.group]
    if not rows:
        groups = sorted({t.group for t in cat.types})
        raise ConfigError(f"no types in group {args.group!r} (groups: {', '.join(groups)})")
    rows.sort(key=lambda t: (t.group, t.type))
    methods = [f"{t.group}.{t.method}" for t in rows]
    # Both name columns padded, so the summaries start in one column.
    type_width = max(len(t.type) for t in rows)
    method_width = max(len(m) for m in methods)
    for t, method in zip(rows, methods, strict=True):
        flags = " (deprecated)" if t.deprecated else ""
        flags += " (undocumented)" if not t.documented else ""
        print(f"{t.type:<{type_width}}  {method:<{method_width}}  {t.summary}{flags}")
    return 0
