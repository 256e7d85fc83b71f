"""``python -m codegen <command>``: the catalogue's command line.

Each command lives in its own module and is imported only when asked for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen")
    parser.add_argument("--spec", type=Path, default=ROOT / "spec", help="catalogue folder")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("check", help="validate the catalogue and print a coverage report")

    gen = sub.add_parser("generate", help="write src/temu_async/_generated and docs/api.md")
    gen.add_argument(
        "--check", action="store_true", help="write nothing; fail if the output would change"
    )

    new = sub.add_parser("new-type", help="turn one Temu doc page into a catalogue entry")
    new.add_argument("doc", type=Path, help="a page as published (markdown)")
    new.add_argument("--group", help="client namespace to file it under (guessed if absent)")
    new.add_argument("--write", action="store_true", help="append to spec/types/<group>.yaml")

    diff = sub.add_parser("diff", help="what changed between two catalogues")
    diff.add_argument("old", help="a spec folder, or a git revision (e.g. HEAD)")
    diff.add_argument("new", nargs="?", help="a spec folder (default: the working tree)")
    diff.add_argument("--changelog", action="store_true", help="print a CHANGELOG section")
    diff.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 1 when a change breaks callers"
    )

    shapes = sub.add_parser("shapes", help="report repeated structures, propose named shapes")
    shapes.add_argument(
        "--apply",
        action="store_true",
        help="rewrite spec/types/*.yaml: fields matching a shape of spec/shapes.yaml name it",
    )

    args = parser.parse_args(argv)
    if args.command == "check":
        from codegen.check import run as run_check

        return run_check(args.spec)
    if args.command == "generate":
        from codegen.generate import run as run_generate

        return run_generate(args.spec, ROOT, check_only=args.check)
    if args.command == "new-type":
        from codegen.importer import run as run_import

        return run_import(args.doc, args.spec, group=args.group, write=args.write)
    if args.command == "diff":
        from codegen.diff import run as run_diff

        return run_diff(
            args.old,
            args.new,
            args.spec,
            changelog=args.changelog,
            fail_on_breaking=args.fail_on_breaking,
        )
    if args.command == "shapes":
        from codegen.shapes import run as run_shapes

        return run_shapes(args.spec, write=args.apply)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
