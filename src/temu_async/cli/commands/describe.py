"""``temu-async describe TYPE``: params, result, limits and errors of one API type."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from temu_async import catalogue
from temu_async.cli.settings import ConfigError
from temu_async.cli.suggest import unknown_type_message
from temu_async.field_rules import describe, type_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("type")


def _describe_fields(
    fields: Sequence[catalogue.Field], indent: int, out: list[str], *, received: bool
) -> None:
    # The same words as the docstrings and docs/api.md: one renderer (field_rules).
    for f in fields:
        required = " [required]" if f.required and not received else ""
        text = describe(f, received=received)
        out.append(
            f"{' ' * indent}{f.name}: {type_text(f)}{required}{' — ' + text if text else ''}"
        )
        if f.fields:
            _describe_fields(f.fields, indent + 2, out, received=received)


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
        by = f"cursor {p.cursor} (next at {p.next})" if p.cursor else f"page {p.page}"
        out.append(f"  pages: {by}, size {p.size} (max {p.max_size}), items at {p.items}")
    if spec.deprecated:
        out.append(f"  deprecated{': use ' + spec.replaced_by if spec.replaced_by else ''}")
    if spec.doc_url:
        out.append(f"  docs: {spec.doc_url}")
    if not spec.documented:
        out.append("  params: not documented yet (free-form)")
    else:
        out.append("  params:")
        _describe_fields(spec.params, 4, out, received=False)
    if spec.response:
        out.append("  result:")
        _describe_fields(spec.response, 4, out, received=True)
    if spec.errors:
        out.append("  errors:")
        out += [f"    {code}: {msg}" for code, msg in sorted(spec.errors.items())]
    print("\n".join(out))
    return 0
