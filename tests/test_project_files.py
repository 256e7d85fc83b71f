"""What a new user reads before the code: the licence, the extras, the README's examples
that are not in the quick start (the pytest plugin, where carrier ids come from)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from temu_async.client import TemuApp
from temu_async.sandbox import Sandbox, SandboxConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 has no tomllib; the check below is skipped there
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_licence_file_is_the_mit_text_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n") and "temu-async authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    assert re.search(r'^license = "MIT"$', (ROOT / "pyproject.toml").read_text(), re.M)


def test_the_testing_extra_brings_pytest_asyncio() -> None:
    if tomllib is None:
        return
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    testing = project["optional-dependencies"]["testing"]
    assert any(req.startswith("pytest-asyncio") for req in testing)
    assert any(re.match(r"pytest\b(?!-)", req) for req in testing)
    assert "temu-async[testing]" in _section("The sandbox: a local Temu gateway")


def test_the_readme_pytest_plugin_example_passes_as_written(tmp_path: Path) -> None:
    section = _section("The sandbox: a local Temu gateway")
    block = next(b for b in re.findall(r"```python\n(.*?)```", section, re.S) if "conftest" in b)
    conftest, tests = block.split("# test_orders.py\n")
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_orders.py").write_text(tests)
    # A project of its own: no settings of ours (asyncio_mode = "auto") apply there.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout


async def test_the_ship_example_says_where_carrier_and_warehouse_ids_come_from() -> None:
    quick = _section("Quick start")
    assert "shop.logistics.companies(region_id=" in quick
    assert "shop.logistics.warehouses()" in quick
    # And those calls do give them, under the names the comment uses.
    async with Sandbox(SandboxConfig(seed=3, shops=1, orders=5)) as sb:
        c = sb.credentials.shops[0]
        async with TemuApp(
            sb.credentials.app_key, sb.credentials.app_secret, base_url=sb.url
        ) as app:
            shop = app.shop(c.access_token)
            carriers = await shop.logistics.companies(region_id=c.region_id)
            warehouses = await shop.logistics.warehouses()
    assert carriers and isinstance(carriers[0].logistics_service_provider_id, int)
    assert warehouses.warehouse_list and warehouses.warehouse_list[0].warehouse_id
