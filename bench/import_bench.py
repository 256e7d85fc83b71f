"""Import cost: ``import temu_async`` (and the client) against ``import aiohttp``.

Each figure is the median over fresh interpreters (a warm import in one process says
nothing), timed inside the child around the import statement only, so interpreter
start-up is left out. Also: the first access to one API group (``shop.order`` imports
its module), and the first read of the catalogue (done on the first call).

Run: ``.venv/bin/python bench/import_bench.py [--runs 15]``. Target: ``import temu_async``
(with the client) within ``import aiohttp`` + 40 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "import aiohttp": ("", "import aiohttp"),
    "import temu_async": ("", "import temu_async"),
    "import temu_async.client (TemuApp)": ("", "from temu_async.client import TemuApp"),
    "first shop.order (group module)": (
        "from temu_async.client import TemuApp\nshop = TemuApp('key', 'secret').shop('token')",
        "shop.order",
    ),
    "first catalogue read (first call)": (
        "import temu_async.catalogue as c",
        "c.types_by_name()",
    ),
}

CHILD = """
import time
{setup}
c0, t0 = time.process_time(), time.perf_counter()
{stmt}
print((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
"""

# Children read compiled bytecode, as an installed package does (pip compiles on install):
# a fresh cache folder, written by one warm-up run per case. Without it (e.g. under
# PYTHONDONTWRITEBYTECODE) every run would also time the compiler.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def once(setup: str, stmt: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(setup=setup, stmt=stmt)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    ).stdout
    wall, cpu = out.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def measure_all(runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) per case."""
    for setup, stmt in CASES.values():
        once(setup, stmt)  # warm-up: writes the bytecode cache
    # Round robin over the cases, so that a burst of load on the machine hits all alike.
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, (setup, stmt) in CASES.items():
            times[name].append(once(setup, stmt))
    return {
        name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
        for name, ts in times.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as cache:
        _ENV["PYTHONPYCACHEPREFIX"] = cache
        results = measure_all(args.runs)
    width = max(map(len, results))
    print(
        f"median of {args.runs} fresh interpreters (Python {sys.version.split()[0]}, bytecode cached)"
    )
    print(f"  {'':<{width}}     wall       CPU")
    for name, (wall, cpu) in results.items():
        print(f"  {name:<{width}}  {wall:7.1f} ms {cpu:7.1f} ms")
    for label, index in (("wall", 0), ("CPU", 1)):
        base = results["import aiohttp"][index]
        for case in ("import temu_async", "import temu_async.client (TemuApp)"):
            ours = results[case][index]
            verdict = "within" if ours <= base + 40 else "OVER"
            print(
                f"  {label}: {case} {ours:.1f} ms vs aiohttp + 40 ms = {base + 40:.1f} ms: "
                f"{verdict} ({ours - base:+.1f} ms over aiohttp)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
