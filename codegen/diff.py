"""``python -m codegen diff OLD [NEW]``: what a regeneration changes, and what it breaks.

OLD and NEW are spec folders or git revisions (a revision is read from the repository
that holds ``--spec``); NEW defaults to the working tree. Two catalogues are compared
type by type (matched on the wire name) and field by field at every nesting level, and
every difference is one :class:`Change`. A change is *breaking* when code written
against the old SDK can stop working against the new one:

- params are what callers send, so anything that refuses a call that used to pass breaks
  (removed or retyped param, newly required, fewer allowed values, tighter bounds);
- response fields and webhook payloads are what callers read, so anything that takes away
  a value or a shape they used to get breaks (removed or retyped field, fields no longer
  documented, a result that is no longer typed).

Everything else (new types, new optional params, documented error codes, rate limits,
deprecation notes...) is reported but does not break. Wording-only edits (summaries,
doc links, notes) are only counted: they change docstrings, not behaviour.

``make generate`` runs ``diff HEAD`` after generating, so the common case (nothing in the
catalogue changed) is decided on the spec hash alone, without parsing any YAML.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from codegen.load import SpecError, load_catalogue, spec_hash
from temu_async.catalogue import Catalogue, ErrorCode, Event, Field, Region, TypeSpec

__all__ = [
    "CatalogueDiff",
    "Change",
    "DiffError",
    "diff_catalogues",
    "main",
    "render_changelog",
    "render_text",
    "run",
]

Kind = Literal["added", "removed", "changed"]
_MARK: dict[Kind, str] = {"added": "+", "removed": "-", "changed": "~"}
_INTS = frozenset({"integer", "long"})
GATEWAY = "(gateway)"
"""Subject of changes to gateway.yaml: default rate limit, regions, gateway-wide codes."""


class DiffError(Exception):
    """A side of the diff cannot be read (not a folder, not a revision, spec does not load)."""


@dataclass(frozen=True)
class Change:
    """One difference between the catalogues, phrased for a reader."""

    subject: str
    """The type's wire name, ``event <code>`` or :data:`GATEWAY`."""
    kind: Kind
    text: str
    """What changed, e.g. ``param pageSize: type integer -> string``."""
    breaking: bool = False
    path: str = ""
    """The dotted field path the text names (empty for type-level changes)."""


@dataclass
class CatalogueDiff:
    old_version: str
    new_version: str
    changes: list[Change] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    """Subject -> how to name it in headings (``bg.order.list.v2.get (order.list_v2)``)."""
    reworded: int = 0
    """Wording-only edits (summaries, doc links, notes): counted, not listed."""

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    def summary(self) -> str:
        line = (
            f"{self.count('added')} added, {self.count('removed')} removed, "
            f"{self.count('changed')} changed, {len(self.breaking)} breaking"
        )
        if self.reworded:
            line += f" (+{self.reworded} wording-only edits)"
        return line


# --------------------------------------------------------------------------- comparing


class _Collector:
    """Appends changes for one subject, so the comparison code reads as rules."""

    def __init__(self, diff: CatalogueDiff, subject: str) -> None:
        self.diff = diff
        self.subject = subject

    def add(self, kind: Kind, text: str, *, breaking: bool = False, path: str = "") -> None:
        self.diff.changes.append(Change(self.subject, kind, text, breaking, path))

    def reworded(self) -> None:
        self.diff.reworded += 1


def _shape(f: Field) -> str:
    """A field's type in words: ``string``, ``list of long``, ``object``."""
    return f"list of {f.items}" if f.type == "list" else f.type


def _described(f: Field, is_input: bool) -> str:
    words = _shape(f)
    if f.fields:
        words += f" with {len(f.fields)} field{'s' if len(f.fields) != 1 else ''}"
    if is_input:
        words += ", required" if f.required else ", optional"
    return words


def _scalar(f: Field) -> str | None:
    return f.items if f.type == "list" else f.type


def _retype_breaks(old: Field, new: Field, is_input: bool) -> bool:
    """Whether a type change can fail code written against the old type."""
    if (old.type == "list") != (new.type == "list"):
        return True
    before, after = _scalar(old), _scalar(new)
    if before in _INTS and after in _INTS:
        # Both are Python ints. Only a param narrowing long -> integer refuses values
        # (the 32-bit range check) that used to pass.
        return is_input and before == "long" and after == "integer"
    # A param that now takes anything still takes what callers send.
    return not (is_input and after == "any")


def _values(values: Sequence[object]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _sorted_keys(keys: set[int | str]) -> list[int | str]:
    return sorted(keys, key=lambda k: (isinstance(k, str), str(k) if isinstance(k, str) else k))


def _compare_enum(
    old: Field, new: Field, at: str, path: str, is_input: bool, out: _Collector
) -> None:
    before, after = old.enum or {}, new.enum or {}
    # Only a closed param enum is enforced before sending: removing a value from it, or
    # closing it, refuses calls that used to go out. Response enums are never closed for
    # decoding (Temu adds values), so their values are documentation for readers.
    enforced = is_input and new.enum_closed
    if not before and after:
        out.add(
            "changed",
            f"{at}: now limited to documented values {_values(_sorted_keys(set(after)))}"
            if enforced
            else f"{at}: values now documented ({_values(_sorted_keys(set(after)))})",
            breaking=enforced,
            path=path,
        )
        return
    if before and not after:
        out.add("changed", f"{at}: no longer lists enum values", path=path)
        return
    gone = _sorted_keys(set(before) - set(after))
    new_values = _sorted_keys(set(after) - set(before))
    if gone:
        out.add(
            "removed",
            f"{at}: enum value{'s' if len(gone) > 1 else ''} "
            + ", ".join(f"{_values([v])} ({before[v]})" for v in gone)
            + " removed",
            breaking=enforced and old.enum_closed,
            path=path,
        )
    if new_values:
        out.add(
            "added",
            f"{at}: enum value{'s' if len(new_values) > 1 else ''} "
            + ", ".join(f"{_values([v])} ({after[v]})" for v in new_values)
            + " added",
            path=path,
        )
    relabelled = [v for v in before if v in after and before[v] != after[v]]
    if relabelled:
        # Labels are prose (and long); name the values so a reader can look, no more.
        out.add(
            "changed",
            f"{at}: enum labels reworded for {_values(_sorted_keys(set(relabelled)))}",
            path=path,
        )
    if before and after and old.enum_closed != new.enum_closed:
        closing = new.enum_closed
        out.add(
            "changed",
            f"{at}: enum is now {'closed (other values refused)' if closing else 'open'}",
            breaking=is_input and closing,
            path=path,
        )


# (attribute, which way is tighter): a larger lower bound or a smaller upper bound.
_BOUNDS: tuple[tuple[str, Literal["lower", "upper"]], ...] = (
    ("minimum", "lower"),
    ("maximum", "upper"),
    ("min_items", "lower"),
    ("max_items", "upper"),
    ("max_length", "upper"),
)


def _compare_bounds(
    old: Field, new: Field, at: str, path: str, is_input: bool, out: _Collector
) -> None:
    for attr, side in _BOUNDS:
        before: int | None = getattr(old, attr)
        after: int | None = getattr(new, attr)
        if before == after:
            continue
        if after is None:
            tighter = False
        elif before is None:
            tighter = True
        else:
            tighter = after > before if side == "lower" else after < before
        # Bounds on response fields are documentation; on params they are checked
        # before sending, so a tighter one refuses calls that used to pass.
        out.add(
            "changed",
            f"{at}: {attr} {'none' if before is None else before} -> "
            f"{'none' if after is None else after}" + (" (tightened)" if tighter else ""),
            breaking=is_input and tighter,
            path=path,
        )


def _child_prefix(path: str, f: Field) -> str:
    return f"{path}[]." if f.type == "list" else f"{path}."


def _compare_fields(
    old: list[Field] | None,
    new: list[Field] | None,
    *,
    noun: str,
    is_input: bool,
    out: _Collector,
    prefix: str = "",
) -> None:
    """Compare two sibling lists by name, then recurse into the pairs both sides have."""
    before = {f.name: f for f in old or ()}
    after = {f.name: f for f in new or ()}
    for f in old or ():
        if f.name not in after:
            path = prefix + f.name
            # Callers that send a removed param are refused; callers reading a removed
            # field get nothing. Its children go with it: one line, not one per leaf.
            out.add(
                "removed",
                f"{noun} {path}: removed ({_described(f, is_input)})",
                breaking=True,
                path=path,
            )
    for f in new or ():
        if f.name not in before:
            path = prefix + f.name
            out.add(
                "added",
                f"{noun} {path}: added ({_described(f, is_input)})",
                breaking=is_input and f.required,
                path=path,
            )
    for f in new or ():
        was = before.get(f.name)
        if was is None:
            continue
        path = prefix + f.name
        at = f"{noun} {path}"
        if (was.type, was.items) != (f.type, f.items):
            out.add(
                "changed",
                f"{at}: type {_shape(was)} -> {_shape(f)}",
                breaking=_retype_breaks(was, f, is_input),
                path=path,
            )
        if was.required != f.required:
            if is_input:
                text = f"{at}: now required" if f.required else f"{at}: now optional"
                breaks = f.required
            else:
                # Generated result Structs make every field optional (Temu omits fields
                # freely), so callers already handle absence: this is documentation.
                text = f"{at}: always present" if f.required else f"{at}: may now be absent"
                breaks = False
            out.add("changed", text, breaking=breaks, path=path)
        _compare_enum(was, f, at, path, is_input, out)
        _compare_bounds(was, f, at, path, is_input, out)
        if was.default != f.default:
            out.add("changed", f"{at}: server default {was.default} -> {f.default}", path=path)
        if was.summary != f.summary:
            out.reworded()
        if was.unit != f.unit:
            # The number means something else now: worth a line, though no call breaks.
            out.add("changed", f"{at}: unit {was.unit or 'none'} -> {f.unit or 'none'}", path=path)
        if was.shape != f.shape:
            # The fields are compared below; the shape decides which Struct holds them,
            # and the old Struct name stays importable as a deprecated alias.
            out.add(
                "changed", f"{at}: shape {was.shape or 'none'} -> {f.shape or 'none'}", path=path
            )
        _compare_rest(was, f, FIELD_ATTRS, f"{at}: ", out)
        nested_before = was.fields if was.type in ("object", "list") else None
        nested_after = f.fields if f.type in ("object", "list") else None
        if not nested_before and nested_after:
            # A bare object gains its shape: one line, not one per child.
            names = ", ".join(
                c.name + ("*" if is_input and c.required else "") for c in nested_after
            )
            out.add(
                "added",
                f"{at}: fields now documented ({names})",
                # A param gaining required children (starred) refuses calls that omit them.
                breaking=is_input and any(c.required for c in nested_after),
                path=path,
            )
        elif nested_before and not nested_after:
            # A result loses its typed shape (a plain dict comes back); a param just takes
            # any mapping now, which is looser.
            out.add(
                "removed",
                f"{at}: fields no longer documented",
                breaking=not is_input,
                path=path,
            )
        elif nested_before and nested_after:
            _compare_fields(
                nested_before,
                nested_after,
                noun=noun,
                is_input=is_input,
                out=out,
                prefix=_child_prefix(path, f),
            )


def _label(t: TypeSpec) -> str:
    return f"{t.type} ({t.group}.{t.method})"


def _pager(t: TypeSpec) -> str:
    p = t.paginate
    if p is None:
        return "none"
    total = f", total={p.total}" if p.total else ""
    if p.cursor is not None:
        return f"cursor={p.cursor} next={p.next} size={p.size} (max {p.max_size}) items={p.items}{total}"
    return (
        f"page={p.page} size={p.size} (max {p.max_size}, first {p.first_page}) "
        f"items={p.items}{total}"
    )


def _compare_errors(old: dict[int, str], new: dict[int, str], out: _Collector) -> None:
    for code in sorted(set(new) - set(old)):
        out.add("added", f"error {code}: documented ({new[code]})")
    for code in sorted(set(old) - set(new)):
        out.add("removed", f"error {code}: no longer documented ({old[code]})")
    for code in sorted(set(old) & set(new)):
        if old[code] != new[code]:
            out.add("changed", f"error {code}: message {old[code]!r} -> {new[code]!r}")


def _compare_retryable(old: TypeSpec, new: TypeSpec, out: _Collector) -> None:
    for code in sorted(set(new.retryable_errors) - set(old.retryable_errors)):
        out.add("changed", f"error {code}: now retried (transient)")
    for code in sorted(set(old.retryable_errors) - set(new.retryable_errors)):
        out.add("changed", f"error {code}: no longer retried")


# The model attributes the rules above compare; anything else a later version of the model
# adds is still reported (generically) by `_compare_rest`, never silently ignored.
TYPE_ATTRS = frozenset(
    {
        "type",
        "method",
        "group",
        "summary",
        "documented",
        "doc_url",
        "regions",
        "scope",
        "params",
        "response",
        "result_type",
        "errors",
        "retryable_errors",
        "rate_limit",
        "paginate",
        "idempotent",
        "idempotent_with",
        "deprecated",
        "replaced_by",
        "notes",
    }
)
FIELD_ATTRS = frozenset(
    {
        "name",
        "type",
        "items",
        "fields",
        "required",
        "summary",
        "unit",
        "shape",
        "enum",
        "enum_closed",
        "minimum",
        "maximum",
        "min_items",
        "max_items",
        "max_length",
        "default",
    }
)


def _compare_rest(
    old: TypeSpec | Field, new: TypeSpec | Field, known: frozenset[str], at: str, out: _Collector
) -> None:
    for attr in new.__struct_fields__:
        if attr not in known and getattr(old, attr, None) != getattr(new, attr, None):
            before, after = getattr(old, attr, None), getattr(new, attr, None)
            out.add("changed", f"{at}{attr} {before!r} -> {after!r}")


def _compare_type(old: TypeSpec, new: TypeSpec, out: _Collector) -> None:
    if (old.group, old.method) != (new.group, new.method):
        out.add(
            "changed",
            f"method renamed {old.group}.{old.method} -> {new.group}.{new.method}",
            breaking=True,
        )
    for region in [r for r in new.regions if r not in old.regions]:
        out.add("added", f"now offered in region {region}")
    for region in [r for r in old.regions if r not in new.regions]:
        out.add("removed", f"no longer offered in region {region}", breaking=True)
    if old.documented != new.documented:
        if new.documented:
            # The free-form escape hatch becomes a typed method; callers of an undocumented
            # type opted into raw data, so this is news, not breakage.
            out.add(
                "changed",
                f"now documented: {len(new.params)} params, "
                f"{len(new.response or [])} result fields",
            )
        else:
            out.add("changed", "no longer documented: params and result are untyped", breaking=True)
    if old.result_type != new.result_type:
        out.add("changed", f"result type {old.result_type} -> {new.result_type}", breaking=True)
    if old.documented and new.documented:
        _compare_fields(old.params, new.params, noun="param", is_input=True, out=out)
        if old.response is not None and new.response is None:
            out.add("changed", "result fields no longer documented (plain data)", breaking=True)
        elif old.response is None and new.response is not None:
            out.add("changed", f"result now typed ({len(new.response)} fields)")
        else:
            _compare_fields(
                old.response, new.response, noun="result field", is_input=False, out=out
            )
    _compare_errors(old.errors, new.errors, out)
    _compare_retryable(old, new, out)
    if old.rate_limit != new.rate_limit:
        before = f"{old.rate_limit.per_second}/s" if old.rate_limit else "gateway default"
        after = f"{new.rate_limit.per_second}/s" if new.rate_limit else "gateway default"
        out.add("changed", f"rate limit {before} -> {after}")
    if old.paginate != new.paginate:
        if old.paginate is None:
            out.add("added", f"now paginated: {_pager(new)}")
        elif new.paginate is None:
            # The generated pager for this type goes away with it.
            out.add("removed", f"no longer paginated (was {_pager(old)})", breaking=True)
        else:
            out.add("changed", f"pagination {_pager(old)} -> {_pager(new)}")
    if old.idempotent != new.idempotent:
        out.add(
            "changed",
            "now idempotent (retried after an ambiguous failure)"
            if new.idempotent
            else "no longer idempotent (not retried after an ambiguous failure)",
        )
    if old.idempotent_with != new.idempotent_with:
        out.add(
            "changed",
            f"safe to repeat when {new.idempotent_with} is sent"
            if new.idempotent_with
            else f"no longer safe to repeat when {old.idempotent_with} is sent",
        )
    if (old.deprecated, old.replaced_by) != (new.deprecated, new.replaced_by):
        if new.deprecated:
            instead = f", use {new.replaced_by}" if new.replaced_by else ""
            out.add("changed", f"deprecated{instead}")
        else:
            out.add("changed", "no longer deprecated")
    if old.scope != new.scope:
        out.add("changed", f"permission package {old.scope or 'none'} -> {new.scope or 'none'}")
    for attr in ("summary", "doc_url", "notes"):
        if getattr(old, attr) != getattr(new, attr):
            out.reworded()
    _compare_rest(old, new, TYPE_ATTRS, "", out)


def _compare_gateway(old: Catalogue, new: Catalogue, out: _Collector) -> None:
    if old.default_rate_limit != new.default_rate_limit:
        out.add(
            "changed",
            f"default rate limit {old.default_rate_limit}/s -> {new.default_rate_limit}/s",
        )
    regions_before: dict[str, Region] = {r.name: r for r in old.regions}
    regions_after: dict[str, Region] = {r.name: r for r in new.regions}
    for name in sorted(set(regions_after) - set(regions_before)):
        out.add("added", f"region {name}: added ({regions_after[name].url})")
    for name in sorted(set(regions_before) - set(regions_after)):
        out.add("removed", f"region {name}: removed", breaking=True)
    for name in sorted(set(regions_before) & set(regions_after)):
        if regions_before[name].url != regions_after[name].url:
            out.add(
                "changed",
                f"region {name}: url {regions_before[name].url} -> {regions_after[name].url}",
            )
    codes_before: dict[int, ErrorCode] = {e.code: e for e in old.errors}
    codes_after: dict[int, ErrorCode] = {e.code: e for e in new.errors}
    for code in sorted(set(codes_after) - set(codes_before)):
        e = codes_after[code]
        out.add("added", f"gateway error {code}: added ({e.name}, {e.category})")
    for code in sorted(set(codes_before) - set(codes_after)):
        out.add("removed", f"gateway error {code}: no longer documented")
    for code in sorted(set(codes_before) & set(codes_after)):
        a, b = codes_before[code], codes_after[code]
        if a.category != b.category:
            # The category picks the exception class: `except RateLimited` stops catching it.
            out.add(
                "changed",
                f"gateway error {code}: category {a.category} -> {b.category}",
                breaking=True,
            )
        if a.retryable != b.retryable:
            out.add(
                "changed",
                f"gateway error {code}: {'now' if b.retryable else 'no longer'} retried",
            )
        if (a.name, a.message, a.hint) != (b.name, b.message, b.hint):
            out.reworded()


def _compare_events(old: list[Event], new: list[Event], diff: CatalogueDiff) -> None:
    before = {e.code: e for e in old}
    after = {e.code: e for e in new}
    for code in sorted(set(before) | set(after)):
        out = _Collector(diff, f"event {code}")
        if code not in before:
            out.add("added", f"added ({len(after[code].fields)} payload fields)")
        elif code not in after:
            out.add("removed", "removed", breaking=True)
        else:
            _compare_fields(
                before[code].fields,
                after[code].fields,
                noun="payload field",
                is_input=False,
                out=out,
            )
            if before[code].summary != after[code].summary:
                out.reworded()


def diff_catalogues(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """Every difference from ``old`` to ``new``, with breaking ones flagged."""
    diff = CatalogueDiff(old_version=old.version, new_version=new.version)
    before, after = old.by_type(), new.by_type()
    for name in sorted(set(before) | set(after)):
        out = _Collector(diff, name)
        if name not in before:
            t = after[name]
            diff.labels[name] = _label(t)
            where = ", ".join(t.regions)
            out.add("added", f"new type: {t.summary} [{where}]")
        elif name not in after:
            diff.labels[name] = _label(before[name])
            out.add("removed", "type removed", breaking=True)
        else:
            diff.labels[name] = _label(after[name])
            _compare_type(before[name], after[name], out)
    _compare_gateway(old, new, _Collector(diff, GATEWAY))
    _compare_events(old.events, new.events, diff)
    return diff


# --------------------------------------------------------------------------- rendering


def _by_subject(diff: CatalogueDiff) -> Iterator[tuple[str, list[Change]]]:
    """Subjects in order (types by name, then events, then the gateway); breaking first."""
    subjects: dict[str, list[Change]] = {}
    for c in diff.changes:
        subjects.setdefault(c.subject, []).append(c)

    def order(subject: str) -> tuple[int, str]:
        rank = 2 if subject == GATEWAY else 1 if subject.startswith("event ") else 0
        return rank, subject

    for subject in sorted(subjects, key=order):
        changes = subjects[subject]
        yield subject, [c for c in changes if c.breaking] + [c for c in changes if not c.breaking]


def render_text(diff: CatalogueDiff, old_label: str, new_label: str) -> str:
    """The console report: one block per type, breaking lines tagged, a summary line last."""
    lines = [f"catalogue diff {old_label} ({diff.old_version}) -> {new_label} ({diff.new_version})"]
    for subject, changes in _by_subject(diff):
        lines.append("")
        lines.append(diff.labels.get(subject, subject))
        for c in changes:
            tag = "BREAKING" if c.breaking else ""
            lines.append(f"  {tag:<8} {_MARK[c.kind]} {c.text}")
    if not diff.changes:
        lines.append("no changes callers can see (wording only)")
    lines.append("")
    lines.append(diff.summary())
    return "\n".join(lines) + "\n"


def _changelog_line(diff: CatalogueDiff, c: Change) -> str:
    text = c.text
    if c.path:
        # Code-format the field path so Markdown keeps `[]` and underscores intact.
        text = text.replace(f" {c.path}:", f" `{c.path}`:", 1)
    label = diff.labels.get(c.subject)
    if label is not None:
        wire, _, method = label.partition(" ")
        subject = f"`{wire}` (`{method.strip('()')}`)"
    else:
        subject = c.subject
    return f"- {subject}: {text}"


def render_changelog(diff: CatalogueDiff) -> str:
    """A CHANGELOG section for the new catalogue: Breaking, Added, Changed (empty ones left out)."""
    lines = [f"### Catalogue {diff.new_version} (was {diff.old_version})", ""]
    breaking = [c for c in diff.changes if c.breaking]
    added = [c for c in diff.changes if not c.breaking and c.kind == "added"]
    # Removals that do not break (an error code no longer documented) read as changes.
    changed = [c for c in diff.changes if not c.breaking and c.kind != "added"]
    for title, items in (("Breaking", breaking), ("Added", added), ("Changed", changed)):
        if not items:
            continue
        lines.append(f"#### {title}")
        lines.append("")
        lines.extend(_changelog_line(diff, c) for c in items)
        lines.append("")
    if not diff.changes:
        lines.append("No API changes (wording only).")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading sides


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed: give both sides as spec folders") from None


def _checkout_spec(rev: str, spec_dir: Path, into: Path) -> tuple[Path, str]:
    """Extract ``spec_dir`` as it was at ``rev`` into ``into``; return it and the short commit."""
    where = spec_dir if spec_dir.is_dir() else spec_dir.parent
    top = _git(where, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise DiffError(f"{rev!r} is not a folder, and {where} is not in a git repository")
    root = Path(top.stdout.decode().strip())
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if commit.returncode != 0:
        raise DiffError(f"{rev!r} is neither a spec folder nor a git revision in {root}")
    sha = commit.stdout.decode().strip()
    rel = spec_dir.resolve().relative_to(root.resolve()).as_posix()
    # Only the files the catalogue is made of: the hash must match a working-tree read.
    archive = _git(root, "archive", "--format=tar", sha, "--", rel)
    if archive.returncode != 0:
        raise DiffError(f"{rev} has no {rel}/ folder: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # Regular files only, written by hand: no links, no paths outside `into`.
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not member.isfile() or Path(member.name).is_absolute() or ".." in parts:
                continue
            data = tar.extractfile(member)
            if data is None:
                continue
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.read())
    return into / rel, sha[:7]


def _resolve(ref: str | None, spec_dir: Path, stack: ExitStack) -> tuple[Path, str]:
    """A side of the diff as a folder on disk, and how to name it."""
    if ref is None:
        return spec_dir, "working tree"
    if Path(ref).is_dir():
        return Path(ref), ref
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="catalogue-diff-")))
    folder, short = _checkout_spec(ref, spec_dir, tmp)
    return folder, ref if ref == short else f"{ref} ({short})"


def _load(folder: Path, label: str) -> Catalogue:
    try:
        return load_catalogue(folder)
    except (SpecError, OSError) as exc:
        raise DiffError(f"{label}: the catalogue does not load: {exc}") from exc


def run(
    old: str,
    new: str | None,
    spec_dir: Path,
    *,
    changelog: bool = False,
    fail_on_breaking: bool = False,
) -> int:
    """Print the diff (or a CHANGELOG section). 0; 1 with ``fail_on_breaking`` and a break; 2 on error."""
    with ExitStack() as stack:
        try:
            old_dir, old_label = _resolve(old, Path(spec_dir), stack)
            new_dir, new_label = _resolve(new, Path(spec_dir), stack)
            if not (old_dir / "gateway.yaml").is_file():
                raise DiffError(f"{old_label}: {old_dir} holds no catalogue (no gateway.yaml)")
            if not (new_dir / "gateway.yaml").is_file():
                raise DiffError(f"{new_label}: {new_dir} holds no catalogue (no gateway.yaml)")
            # The hash covers every file the catalogue is read from: equal hashes, equal
            # catalogues, and no YAML needs parsing (this is the `make generate` path).
            if spec_hash(old_dir) == spec_hash(new_dir):
                same = (
                    f"catalogue unchanged since {old_label}"
                    if new is None
                    else f"catalogue unchanged: {old_label} and {new_label} are the same"
                )
                print(same, file=sys.stderr if changelog else sys.stdout)
                return 0
            diff = diff_catalogues(_load(old_dir, old_label), _load(new_dir, new_label))
        except DiffError as exc:
            print(f"diff: {exc}", file=sys.stderr)
            return 2
    if changelog:
        print(render_changelog(diff), end="")
        print(diff.summary(), file=sys.stderr)
    else:
        print(render_text(diff, old_label, new_label), end="")
    return 1 if fail_on_breaking and diff.breaking else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m codegen.diff``: the same command, with every option."""
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m codegen.diff", description=__doc__)
    parser.add_argument("--spec", type=Path, default=root / "spec", help="catalogue folder")
    parser.add_argument("old", help="a spec folder, or a git revision (e.g. HEAD)")
    parser.add_argument("new", nargs="?", help="a spec folder or revision (default: working tree)")
    parser.add_argument("--changelog", action="store_true", help="print a CHANGELOG section")
    parser.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 1 when a change breaks callers"
    )
    args = parser.parse_args(argv)
    return run(
        args.old,
        args.new,
        args.spec,
        changelog=args.changelog,
        fail_on_breaking=args.fail_on_breaking,
    )


if __name__ == "__main__":
    sys.exit(main())
