"""``python -m codegen new-type`` on a type the catalogue has: the refusal comes first,
not after a page of draft YAML that hides it (issue 21)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGE = """# {type}

List widgets.

## Request Parameters

| Parameter | Type | Required | Description | Example |
|---|---|---|---|---|
| pageNumber | 1 | No |  |  |
| pageSize | 1 | No |  |  |
"""


def _new_type(tmp_path: Path, api_type: str, *extra: str) -> subprocess.CompletedProcess[str]:
    page = tmp_path / "page.md"
    page.write_text(PAGE.format(type=api_type))
    return subprocess.run(
        [sys.executable, "-m", "codegen", "new-type", str(page), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_known_type_is_refused_before_any_draft(tmp_path: Path) -> None:
    for extra in ((), ("--write",)):
        proc = _new_type(tmp_path, "bg.order.list.v2.get", *extra)
        assert proc.returncode == 1, proc.stderr
        assert proc.stdout == ""  # no draft printed
        assert "already in spec/types/order.yaml" in proc.stderr


def test_a_new_type_still_prints_its_draft(tmp_path: Path) -> None:
    proc = _new_type(tmp_path, "bg.demo.gadget.list.get")
    assert proc.returncode == 0, proc.stderr
    assert "type: bg.demo.gadget.list.get" in proc.stdout
