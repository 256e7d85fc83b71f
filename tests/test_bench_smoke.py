"""The bench scripts run and print their figures (no figure is judged: speed lives in bench/).

One subprocess runs ``bench/run_all.py --quick --only import,cpu``: it starts the sandbox
in its own process, calls it over loopback with temu-async, the reference client and
(when installed) temu-api, and times imports in fresh interpreters. Nothing is installed
(``--no-install``: tests never touch the internet) and no results file is written.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from golden import GOLDEN_SECRET, GOLDEN_SIGN, golden_params

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_client_signs_the_docs_golden_vector() -> None:
    # The baseline must be a correct client, or its figures compare nothing.
    reference = _load("reference_client")
    params = golden_params()
    assert reference.testsign(GOLDEN_SECRET, params) == GOLDEN_SIGN


@pytest.mark.slow
def test_run_all_quick_subset_prints_every_figure(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run_all.py"),
            "--quick",
            "--only",
            "import,cpu",
            "--no-install",
            "--no-results",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for label in (
        "small read, loopback",
        "100-order page, loopback",
        "nested write, loopback",
        "100-order page, no network",
    ):
        line = next((ln for ln in out.splitlines() if label in ln), None)
        assert line is not None, f"no row {label!r} in:\n{out}"
        # temu-async and the reference client always measure; temu-api may be absent.
        assert len(re.findall(r"\d+ µs", line)) >= 2, line
    imports = next(ln for ln in out.splitlines() if "import, wall" in ln)
    assert len(re.findall(r"\d+\.\d ms", imports)) >= 2, imports
    assert "results written" not in out  # a subset never overwrites RESULTS.md


@pytest.mark.slow
def test_hooks_overhead_bench_prints_every_configuration() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "hooks_overhead_bench.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for label in ("no hook support", "off", "no-op hook", "otel, no provider", "otel, SDK"):
        line = next((ln for ln in proc.stdout.splitlines() if ln.strip().startswith(label)), None)
        assert line is not None and re.search(r"\d+\.\d µs +\d\.\d{3}x", line), proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("flags", [(), ("--tuned", "--floor")], ids=["temu-async", "floor"])
def test_scale_bench_runs_with_the_sdk_and_with_aiohttp_alone(flags: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "scale_bench.py"), "--apps", "3", "--duration", "2", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = next((ln for ln in proc.stdout.splitlines() if ln.split()[:1] == ["3"]), "")
    assert ("aiohttp alone" in proc.stdout) == ("--floor" in flags), proc.stdout
    assert ("collector tuned" in proc.stdout) == ("--tuned" in flags), proc.stdout
    fields = row.split()
    assert fields[0] == "3", proc.stdout
    assert float(fields[2]) > 0  # calls went through, whichever client drove them
    if not flags:
        assert fields[3] == "0"  # the SDK's throttle: no 4000004 at 3 x 20/s
