"""Every benchmark in one run, side by side, as one table (what ``make bench`` runs).

Sections (``--only`` picks some, comma-separated):

* ``cpu``: client CPU per call over loopback HTTP, temu-async vs the reference client
  (aiohttp + dicts + TestSign + json) vs ``temu-api`` (``loopback_cpu_bench.py``), plus
  the no-network pipeline figure of ``call_cpu_bench.py``;
* ``import``: fresh-interpreter import time of temu_async vs aiohttp vs temu_api
  (``import_bench.py``'s method);
* ``throughput``: 10 shops at a 20/s limit with 150 ms latency: temu-async vs a naive
  ``AsyncLimiter(20, 1)`` vs sequential calls (``throughput_bench.py``);
* ``sync``: the order sync over 10 shops at a 20/s limit with 150 ms latency, its wall
  time against the floor (requests ÷ rate) and the gateway's rejections (``sync_bench.py``);
* ``scale``: N apps x 2 shops in one process (N = 10, 100, 200), 20/s per app, 40 calls
  in flight per app, against a strict per-app_key window in another process: share of
  the limit, rejections from start-up on, the client's GC time; with Python's default
  collector and the tuned one the README advises, each beside aiohttp alone under the same
  load (``scale_bench.py``);
* ``workers``: 3 worker processes on PostgreSQL sharing one app's 20/s budget through Redis
  over 10 shops: wall ÷ floor and rejections, plus rows/s PostgreSQL vs SQLite
  (``workers_bench.py``);
* ``codegen``: ``python -m codegen generate --check`` over the whole catalogue
  (``codegen_bench.py``);
* ``memory``: peak RSS of a client syncing 100,000 orders (``memory_bench.py``);
* ``webhooks``: the durable receiver's acknowledgement latency at 200 deliveries/s, one in
  ten a repeat (``webhook_bench.py``; Temu's limit is 500 ms).

The sandbox always runs in a process of its own. Bench-only packages
(``bench/requirements.txt``) are installed into this interpreter's environment first
when missing (``--no-install`` skips that; what cannot run then shows as n/a).

A full run (no ``--only``, no ``--quick``) writes the figures, the date and the machine
into ``bench/RESULTS.md``; ``--results PATH`` writes them anywhere, ``--no-results`` never.

Run: ``.venv/bin/python bench/run_all.py [--quick] [--duration 60] [--only cpu,import]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
REQUIREMENTS = BENCH / "requirements.txt"
RESULTS = BENCH / "RESULTS.md"
SECTIONS = (
    "cpu",
    "import",
    "throughput",
    "sync",
    "workers",
    "scale",
    "codegen",
    "memory",
    "webhooks",
)
NA = "n/a"


# --- the table ----------------------------------------------------------------------------


@dataclass
class Block:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _ratio(value: float | None, base: float | None, unit: str, fmt: str = "{:.0f}") -> str:
    if value is None:
        return NA
    text = fmt.format(value) + f" {unit}"
    if base:
        text += f" ({value / base:.2f}x)"
    return text


def _cpu_block(quick: bool) -> Block:
    import call_cpu_bench
    import loopback_cpu_bench

    block = Block(
        "client CPU per call (µs; ratio to temu-async)",
        ("temu-async", "reference (aiohttp)", "temu-api (sync)"),
    )
    measured = loopback_cpu_bench.measure(quick)
    for scenario in loopback_cpu_bench.SCENARIOS:
        row = measured.us[scenario]
        base = row["temu-async"]
        block.rows.append(
            (
                f"{scenario}, loopback",
                _ratio(base, None, "µs"),
                _ratio(row["reference"], base, "µs"),
                _ratio(row["temu-api"], base, "µs"),
            )
        )
    # What each aiohttp client adds to aiohttp itself (the issue-14 target for the write).
    for scenario in loopback_cpu_bench.SCENARIOS:
        above = measured.above_floor[scenario]
        block.rows.append(
            (
                f"{scenario}, above the aiohttp floor",
                f"+{above['temu-async']:.0f} µs",
                f"+{above['reference']:.0f} µs",
                NA,
            )
        )
    # The same page without any socket: only signing, body and decoding (call_cpu_bench).
    from temu_async import TemuApp

    page = call_cpu_bench.canned_page()
    app = TemuApp(call_cpu_bench.APP_KEY, call_cpu_bench.APP_SECRET, region="us")
    seconds = 0.3 if quick else 1.0
    ours = call_cpu_bench.per_call_us(call_cpu_bench.ours(app, page), seconds=seconds)
    ref = call_cpu_bench.per_call_us(call_cpu_bench.reference(page), seconds=seconds)
    block.rows.append(
        ("100-order page, no network", _ratio(ours, None, "µs"), _ratio(ref, ours, "µs"), NA)
    )
    block.notes.extend(f"{client}: {note}" for client, note in measured.notes.items())
    if "temu-api" not in measured.notes:
        block.notes.append(
            "temu-api as published: requests.post without a session, so a new connection "
            "per call; it has no no-network path to time"
        )
    return block


_IMPORT_CASES = {
    "temu-async": ("", "import temu_async.client"),
    "aiohttp": ("", "import aiohttp"),
    "temu_api": ("", "import temu_api"),
}


def _import_block(quick: bool) -> Block:
    import import_bench

    runs = 5 if quick else 15
    cases = dict(_IMPORT_CASES)
    if not _installed("temu-api"):
        del cases["temu_api"]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="import-bench-") as cache:
        # import_bench's children read bytecode from a fresh cache, written by a warm-up.
        import_bench._ENV["PYTHONPYCACHEPREFIX"] = cache
        for setup, stmt in cases.values():
            import_bench.once(setup, stmt)
        for _ in range(runs):  # round robin: load bursts hit every case alike
            for name, (setup, stmt) in cases.items():
                times[name].append(import_bench.once(setup, stmt))
    # Wall time of the import statement (CPU time is within 1% of it: imports do no I/O wait).
    wall = {name: statistics.median(t[0] for t in ts) for name, ts in times.items()}
    block = Block(
        f"import time (ms, median of {runs} fresh interpreters; ratio to temu-async)",
        ("temu_async.client", "aiohttp", "temu_api"),
    )
    base = wall["temu-async"]
    block.rows.append(
        (
            "import, wall",
            _ratio(base, None, "ms", "{:.1f}"),
            _ratio(wall["aiohttp"], base, "ms", "{:.1f}"),
            _ratio(wall.get("temu_api"), base, "ms", "{:.1f}"),
        )
    )
    block.notes.append(
        "temu_async.client imports aiohttp itself; temu_api imports requests (the timed "
        "statement only, interpreter start-up excluded, bytecode cached)"
    )
    return block


def _throughput_block(duration: float) -> Block:
    import throughput_bench as tb

    results = {r.case: r for r in tb.measure(duration)}
    block = Block(
        f"throughput at the limit ({tb.SHOPS} shops, one app, {tb.LIMIT}/s, "
        f"{tb.LATENCY_MS:.0f} ms latency, {duration:.0f} s each)",
        tuple(tb.CASES),
    )

    def cell(case: str, fn: Callable[[Any], str]) -> str:
        r = results.get(case)
        return fn(r) if r is not None else NA

    block.rows.append(
        ("achieved rate ÷ limit", *(cell(c, lambda r: f"{r.share:.3f}") for c in tb.CASES))
    )
    block.rows.append(
        ("successful calls/s", *(cell(c, lambda r: f"{r.rate:.2f}") for c in tb.CASES))
    )
    block.rows.append(
        ("rejections (4000004)", *(cell(c, lambda r: str(r.rate_limited)) for c in tb.CASES))
    )
    block.rows.append(
        (
            "most requests sent in any 1 s",
            *(cell(c, lambda r: str(r.max_sent_in_window)) for c in tb.CASES),
        )
    )
    return block


def _sync_block(quick: bool) -> Block:
    import sync_bench

    r = sync_bench.measure(orders=300 if quick else 1100)
    block = Block(
        f"order sync at the limit ({r.shops} shops, one app, {r.rate}/s, "
        f"{r.latency_ms:.0f} ms latency, {r.expected:,} orders)",
        ("temu-async", "", ""),
    )
    block.rows.append(("wall ÷ floor (requests ÷ rate)", f"{r.ratio:.3f}", "", ""))
    block.rows.append(("  wall / floor", f"{r.wall_s:.1f} s / {r.floor_s:.1f} s", "", ""))
    block.rows.append(("  requests received / retries", f"{r.requests:,} / {r.retries}", "", ""))
    block.rows.append(("rejections (4000004)", str(r.rejections), "", ""))
    block.rows.append(("most admitted in any 1 s", str(r.max_in_window), "", ""))
    block.rows.append(("orders stored / in the sandbox", f"{r.stored:,} / {r.expected:,}", "", ""))
    if r.errors:
        block.notes.append("errors: " + "; ".join(r.errors))
    return block


def _scale_block(quick: bool) -> Block:
    import scale_bench as sc

    duration = 8.0 if quick else 20.0
    runs = sc.measure(sc.APPS, duration)
    # aiohttp alone at both collector settings: what the SDK's figures are compared with.
    runs += sc.measure((max(sc.APPS),), duration, floor=True)
    runs += sc.measure(tuple(n for n in sc.APPS if n >= 100), duration, tuned=True)
    runs += sc.measure((max(sc.APPS),), duration, tuned=True, floor=True)
    block = Block(
        f"many apps in one process ({sc.SHOPS} shops and {sc.IN_FLIGHT} calls in flight per app, "
        f"{sc.LIMIT}/s each, {sc.LATENCY_MS:.0f} ms latency, {duration:.0f} s each)",
        tuple(
            f"{r.apps} apps"
            + (", GC tuned" if r.tuned else "")
            + (": aiohttp alone" if r.floor else "")
            for r in runs
        ),
    )
    block.rows.append(("achieved rate ÷ limit", *(f"{r.share:.3f}" for r in runs)))
    block.rows.append(("successful calls/s", *(f"{r.ok / r.duration:.0f}" for r in runs)))
    block.rows.append(
        ("rejections (4000004), start-up included", *(str(r.rejections) for r in runs))
    )
    block.rows.append(
        (
            "most written by the client, one app, any 1 s",
            *(NA if r.floor else str(r.max_written_in_window) for r in runs),
        )
    )
    block.rows.append(
        (
            "most arrived at the gateway, one app, any 1 s",
            *(str(r.max_arrivals_in_window) for r in runs),
        )
    )
    block.rows.append(("client GC time, total", *(f"{r.gc_seconds:.2f} s" for r in runs)))
    block.rows.append(("  longest GC pause", *(f"{r.gc_longest * 1000:.0f} ms" for r in runs)))
    block.rows.append(("client CPU per call", *(f"{r.cpu_per_call_us:.0f} µs" for r in runs)))
    block.notes.append(
        f"GC tuned: the client process runs with gc.set_threshold{sc.TUNED_GC}, "
        "as the README advises for hundreds of apps per process"
    )
    block.notes.append(
        "aiohttp alone: the same load with no SDK: per app a session and the same callers "
        "POSTing a fixed body, paced (1 s + 25 ms) / 20 apart without counting at the wire "
        "(so the gateway may refuse some); what the transport itself allows on this machine"
    )
    for r in runs:
        if r.errors:
            who = ", aiohttp alone" if r.floor else ""
            block.notes.append(f"{r.apps} apps{who}, client errors: {r.errors}")
    return block


def _workers_block(quick: bool) -> Block:
    import workers_bench

    r = workers_bench.measure(orders=300 if quick else 1100)
    block = Block(
        f"order sync by {r.workers} workers on PostgreSQL, one app at {workers_bench.RATE}/s "
        f"through Redis ({r.shops} shops, {r.expected:,} orders, 150 ms latency)",
        ("temu-async", "", ""),
    )
    block.rows.append(("wall ÷ floor (requests ÷ rate)", f"{r.ratio:.3f}", "", ""))
    block.rows.append(("  wall / floor", f"{r.wall_s:.1f} s / {r.floor_s:.1f} s", "", ""))
    block.rows.append(("rejections (4000004)", str(r.rejections), "", ""))
    block.rows.append(("orders stored / in the sandbox", f"{r.stored:,} / {r.expected:,}", "", ""))
    block.rows.append(
        (
            "rows/s written: PostgreSQL / SQLite",
            f"{r.pg_rows_per_s:,.0f} / {r.sqlite_rows_per_s:,.0f}",
            "",
            "",
        )
    )
    if r.errors:
        block.notes.append("errors: " + "; ".join(r.errors))
    return block


def _codegen_block(quick: bool) -> Block:
    import codegen_bench

    r = codegen_bench.measure(1 if quick else 3)
    block = Block(
        f"codegen (python -m codegen generate --check, median of {r.runs})",
        ("temu-async", "", ""),
    )
    block.rows.append((f"whole catalogue ({r.types} types), wall", f"{r.wall_s:.2f} s", "", ""))
    block.rows.append(("  CPU incl. ruff formatting", f"{r.cpu_s:.2f} s", "", ""))
    if not r.up_to_date:
        block.notes.append("the working tree differs from the catalogue (timed all the same)")
    return block


def _webhook_block(quick: bool) -> Block:
    import webhook_bench

    r = webhook_bench.measure(rate=200.0, seconds=5.0 if quick else 20.0)
    block = Block(
        f"webhook receiver (WebhookReceiver, SQLite inbox), {r['deliveries']:,} deliveries "
        f"at {r['rate']:g}/s, one in ten a repeat",
        ("temu-async", "", ""),
    )
    block.rows.append(("acknowledgement p50", f"{r['p50_ms']:.1f} ms", "", ""))
    block.rows.append(("acknowledgement p99 (Temu allows 500 ms)", f"{r['p99_ms']:.1f} ms", "", ""))
    block.rows.append(("acknowledgement max", f"{r['max_ms']:.1f} ms", "", ""))
    block.rows.append(
        (
            "stored / repeats / processed",
            f"{r.get('stored')} / {r.get('repeats')} / {r.get('processed')}",
            "",
            "",
        )
    )
    if set(r["statuses"]) != {200}:
        block.notes.append(f"answers other than 200: {r['statuses']}")
    return block


def _memory_block(quick: bool) -> Block:
    import memory_bench

    per_shop = 2_000 if quick else 10_000
    r = memory_bench.measure(shops=10, orders_per_shop=per_shop)
    block = Block(
        f"order sync memory (10 shops, {r.orders:,} orders, SQLite store, 0 ms latency)",
        ("temu-async", "", ""),
    )
    block.rows.append(("peak RSS of the client", f"{r.peak_mib:.0f} MiB", "", ""))
    block.rows.append(("  of which during the sync", f"+{r.growth_mib:.0f} MiB", "", ""))
    block.rows.append(
        (
            "  orders stored / requests / wall",
            f"{r.stored:,} / {r.requests:,} / {r.wall_s:.1f} s",
            "",
            "",
        )
    )
    if r.stored < r.orders:
        block.notes.append(
            f"{r.orders - r.stored} order(s) changed status during the run; the sync leaves "
            "those to its next run (they moved past the run's end)"
        )
    return block


# --- machine, rendering, results file -------------------------------------------------------


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model,
        "nproc": str(cpus),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def render_text(blocks: list[Block], info: dict[str, str]) -> str:
    width = max([len(r[0]) for b in blocks for r in b.rows] + [30])
    # One width per column position, over every block that has that column.
    ncols = max(len(b.columns) for b in blocks)
    cells = [
        max([len(r[i]) for b in blocks for r in b.rows if len(r) > i] + [16])
        for i in range(1, ncols + 1)
    ]
    lines = [
        f"temu-async benchmarks, {info['date']}: {info['cpu']}, {info['nproc']} CPUs, "
        f"Python {info['python']}"
    ]
    for b in blocks:
        lines.append("")
        lines.append(b.title)
        lines.append(
            f"  {'':<{width}}  "
            + "  ".join(f"{c:>{w}}" for c, w in zip(b.columns, cells, strict=False))
        )
        for label, *values in b.rows:
            lines.append(
                f"  {label:<{width}}  "
                + "  ".join(f"{v:>{w}}" for v, w in zip(values, cells, strict=False))
            )
        for note in b.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines)


def render_markdown(blocks: list[Block], info: dict[str, str], argv: list[str]) -> str:
    out = [
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py` (`make bench`); the latest full run. How each figure is",
        "measured is in the docstring of its script in `bench/`.",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpu']}, {info['nproc']} CPUs (`nproc`), {info['os']}",
        f"- Python: {info['python']}",
        f"- command: `python bench/run_all.py{''.join(' ' + a for a in argv)}`",
        "",
    ]
    for b in blocks:
        out.append(f"## {b.title}")
        out.append("")
        cols = [c for c in b.columns if c]
        out.append("| figure | " + " | ".join(cols) + " |")
        out.append("|---|" + "---:|" * len(cols))
        for label, *values in b.rows:
            out.append(f"| {label.strip()} | " + " | ".join(values[: len(cols)]) + " |")
        out.append("")
        for note in b.notes:
            out.append(f"Note: {note}")
            out.append("")
    out.extend(
        [
            "## How to read it",
            "",
            "- Client CPU is `time.process_time()` in the client process while the sandbox",
            "  answers from another process, calls one at a time, median of repeats. The",
            "  reference client is ours (`bench/reference_client.py`): aiohttp, dict params,",
            "  Temu's TestSign algorithm, `json`, no checks, no typed results, no throttle.",
            "  `temu-api` 0.2.1 is the published sync package, pointed at the sandbox's base URL;",
            "  it opens a new connection per call (`requests.post` without a session).",
            "- Throughput: 40 calls in flight over 10 shops; the sandbox refuses anything",
            "  beyond 20 in any 1-second window with 4000004, as the gateway does.",
            "- Many apps: one client process, a lean gateway process counting each app_key",
            "  in a strict sliding 1-second window; rejections include the start-up.",
            "- Order sync: the floor is the time the requests need at the limit (requests ÷",
            "  rate); a ratio of 1.0 would leave no slot of the budget unused.",
            "- Import times are of the import statement in a fresh interpreter with cached",
            "  bytecode; interpreter start-up is not included.",
            "",
        ]
    )
    return "\n".join(out)


# --- setup --------------------------------------------------------------------------------


def _requirements() -> list[str]:
    lines = REQUIREMENTS.read_text().splitlines() if REQUIREMENTS.is_file() else []
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def _installed(requirement: str) -> bool:
    name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def ensure_requirements() -> None:
    missing = [r for r in _requirements() if not _installed(r)]
    if not missing:
        return
    print(f"installing bench requirements: {', '.join(missing)}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        print("  could not install them (figures that need them show n/a):", *tail, sep="\n  ")
    importlib.invalidate_caches()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 15 s throughput")
    parser.add_argument(
        "--duration", type=float, default=None, help="throughput seconds per case (default 60)"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--no-install", action="store_true", help="do not pip-install extras")
    parser.add_argument("--results", type=Path, default=None, help="write the results here")
    parser.add_argument("--no-results", action="store_true", help="write no results file")
    args = parser.parse_args(argv)
    raw_argv = sys.argv[1:] if argv is None else argv

    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    duration = args.duration if args.duration is not None else (15.0 if args.quick else 60.0)
    if not args.no_install:
        ensure_requirements()

    runners: dict[str, Callable[[], Block]] = {
        "cpu": lambda: _cpu_block(args.quick),
        "import": lambda: _import_block(args.quick),
        "throughput": lambda: _throughput_block(duration),
        "sync": lambda: _sync_block(args.quick),
        "scale": lambda: _scale_block(args.quick),
        "workers": lambda: _workers_block(args.quick),
        "codegen": lambda: _codegen_block(args.quick),
        "memory": lambda: _memory_block(args.quick),
        "webhooks": lambda: _webhook_block(args.quick),
    }
    blocks = []
    started = time.perf_counter()
    for name in SECTIONS:
        if name not in only:
            continue
        t0 = time.perf_counter()
        print(f"running {name} ...", flush=True)
        blocks.append(runners[name]())
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    info = machine()
    print()
    print(render_text(blocks, info))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")

    full = set(only) == set(SECTIONS) and not args.quick
    target = args.results or (RESULTS if full else None)
    if target is not None and not args.no_results:
        target.write_text(render_markdown(blocks, info, raw_argv))
        print(f"results written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
