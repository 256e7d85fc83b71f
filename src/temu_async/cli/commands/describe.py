"""``temu-async describe TYPE``: params, result, limits and errors of one API type."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from temu_async import catalogue
from temu_async.cli.settings import ConfigError
from temu_async.cli.suggest import unknown_type_message


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("type")


def _describe_fields(fields: Sequence[catalogue.Field], indent: int, out: list[str]) -> None:
    for f in fields:
        kind = f"list[{f.items}]" if f.type == "list" else f.type
        rules = []
        if f.required:
            rules.append("required")
        for label, value in (
            ("min", f.minimum),
            ("max", f.maximum),
            ("min items", f.min_items),
            ("max items", f.max_items),
            ("max length", f.max_length),
        ):
            if value is not None:
                rules.append(f"{label} {value}")
        if f.enum:
            rules.append("one of " + ", ".join(f"{k} ({v})" for k, v in f.enum.items()))
        rule = f" [{'; '.join(rules)}]" if rules else ""
        summary = f" — {f.summary}" if f.summary else ""
        out.append(f"{' ' * indent}{f.name}: {kind}{rule}{summary}")
        if f.fields:
            _describe_fields(f.fields, indent + 2, out)


def run(args: argparse.Namespace) -> int:
    spec = catalogue.types_by_name().get(args.type)
    if spec is None:
        raise ConfigError(unknown_type_message(args.type))
    out = [f"{spec.type} — {spec.summary}", f"  method: shop.{spec.group}.{spec.method}(...)"]
    out.append(f"  regions: {', '.join(spec.regions)}")
    if spec.scope:
        out.append(f"  permission: {spec.scope}")
    out.append(f"  idempotent: {'yes' if spec.idempotent else 'no (never retried when unsure)'}")
    if spec.rate_limit:
        out.append(f"  rate limit: {spec.rate_limit.per_second}/s per app_key")
    if spec.paginate:
        p = spec.paginate
        out.append(f"  pages: {p.page} / {p.size} (max {p.max_size}), items at {p.items}")
    if spec.deprecated:
        out.append(f"  deprecated{': use ' + spec.replaced_by if spec.replaced_by else ''}")
    if spec.doc_url:
        out.append(f"  docs: {spec.doc_url}")
    if not spec.documented:
        out.append("  params: not documented yet (free-form)")
    else:
        out.append("  params:")
        _describe_fields(spec.params, 4, out)
    if spec.response:
        out.append("  result:")
        _describe_fields(spec.response, 4, out)
    if spec.errors:
        out.append("  errors:")
        out += [f"    {code}: {msg}" for code, msg in sorted(spec.errors.items())]
    print("\n".join(out))
    return 0
