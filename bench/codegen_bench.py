"""Code generation time for the whole catalogue.

Runs ``python -m codegen generate --check`` in a fresh interpreter: it loads and checks
every spec file, renders every group module, ``catalogue.json``, the events module and
``docs/api.md``, formats them with ruff (as a write does), and compares them with the
files on disk, writing nothing. So it costs what ``make generate`` costs, minus the
writes, and is safe to run in a working tree others are editing. Wall time is the median
of ``--runs``; CPU is the child's plus its ruff processes' (``RUSAGE_CHILDREN``).

Run: ``.venv/bin/python bench/codegen_bench.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "src" / "temu_async" / "_generated" / "catalogue.json"


@dataclass
class CodegenResult:
    wall_s: float
    cpu_s: float
    runs: int
    types: int
    files: int
    up_to_date: bool


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once() -> tuple[float, float, str, int]:
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: the tree differs from the catalogue (still timed)
        raise RuntimeError(f"codegen generate --check failed:\n{proc.stderr.strip()}")
    return wall, _children_cpu() - cpu0, proc.stdout, proc.returncode


def measure(runs: int = 3) -> CodegenResult:
    samples = [once() for _ in range(runs)]
    out, code = samples[-1][2], samples[-1][3]
    found = re.search(r"(\d+) files up to date", out)
    files = int(found.group(1)) if found else len(re.findall(r"would write", out))
    try:
        types = len(json.loads(CATALOGUE.read_text())["types"])
    except (OSError, KeyError, ValueError):
        types = 0
    return CodegenResult(
        wall_s=statistics.median(s[0] for s in samples),
        cpu_s=statistics.median(s[1] for s in samples),
        runs=runs,
        types=types,
        files=files,
        up_to_date=code == 0,
    )


def print_result(r: CodegenResult) -> None:
    state = "up to date" if r.up_to_date else "the tree differs from the catalogue"
    print(
        f"codegen (generate --check, whole catalogue: {r.types} types): "
        f"{r.wall_s:.2f} s wall, {r.cpu_s:.2f} s CPU incl. ruff (median of {r.runs}; {state})"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print_result(measure(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
