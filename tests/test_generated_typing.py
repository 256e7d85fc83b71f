"""The generated code type-checks for its users: mypy --strict accepts a realistic usage
example (tests/typed_usage_example.py) and refuses a snippet that misuses the typed API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = Path(__file__).with_name("typed_usage_example.py")

MISUSE = """\
from temu_async.client import ShopClient


async def f(shop: ShopClient) -> None:
    page = await shop.order.list_v2(page_size="ten")
    await shop.order.list_v2(parent_order_status=9)
    await shop.order.list_v2(pageSize=10)
    page.total_item_num.bit_length()
    async for item in shop.order.list_v2.items():
        item.no_such_field
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("mypy")
    misuse = tmp / "misuse.py"
    misuse.write_text(MISUSE, encoding="utf-8")
    # One run for both files: mypy's start-up dominates.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            f"--cache-dir={tmp / 'cache'}",
            str(EXAMPLE),
            str(misuse),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "error: " in proc.stdout, proc.stdout + proc.stderr  # the misuse must be caught
    return proc.stdout


@pytest.mark.slow
def test_the_usage_example_passes_mypy_strict(mypy_output: str) -> None:
    mine = [line for line in mypy_output.splitlines() if "typed_usage_example.py" in line]
    assert mine == []


@pytest.mark.slow
def test_mypy_refuses_misuse_of_the_typed_api(mypy_output: str) -> None:
    errors = [line for line in mypy_output.splitlines() if "misuse.py" in line]
    text = "\n".join(errors)
    assert ':5: error: Argument "page_size"' in text
    assert ':6: error: Argument "parent_order_status"' in text
    assert ':7: error: Unexpected keyword argument "pageSize"' in text
    assert ':8: error: Item "None" of "int | None" has no attribute "bit_length"' in text
    assert ':10: error: "OrderListV2PageItem" has no attribute "no_such_field"' in text
