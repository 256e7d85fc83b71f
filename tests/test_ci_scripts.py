"""`.ci/install-redis`: a user without root or sudo gets a note and a run that goes on
(the Redis tests then skip with their reason); root still installs, and fails loudly."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "install-redis"
NOBODY = 65534


@pytest.fixture
def bare_path() -> Iterator[str]:
    """A PATH holding bash and id only: no redis-server, no sudo, no apt-get."""
    where = tempfile.mkdtemp(prefix="temu-ci-")
    os.chmod(where, 0o755)  # readable by the unprivileged user the test may switch to
    try:
        for tool in ("bash", "id", "env"):
            found = shutil.which(tool)
            assert found is not None, tool
            os.symlink(found, os.path.join(where, tool))
        yield where
    finally:
        shutil.rmtree(where)


def _run(path: str, as_nobody: bool) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    command = [bash, str(SCRIPT)]
    if as_nobody:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
        command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    return subprocess.run(
        command,
        env={"PATH": path, "HOME": "/"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_root_or_sudo_it_notes_the_skip_and_succeeds(bare_path: str) -> None:
    if not os.access(SCRIPT, os.R_OK) or (os.getuid() == 0 and not _world_readable(SCRIPT)):
        pytest.skip("the checkout is not readable by an unprivileged user")
    proc = _run(bare_path, as_nobody=os.getuid() == 0)
    assert proc.returncode == 0, proc.stderr
    assert "needs root or password-less sudo" in proc.stderr
    assert "Redis tests will be skipped" in proc.stderr
    assert "sudo: command not found" not in proc.stderr


def test_as_root_it_still_installs_and_a_failed_install_fails(bare_path: str) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root: CI's case")
    proc = _run(bare_path, as_nobody=False)
    # No apt-get on this PATH: root must try to install (and fail), never skip quietly.
    assert proc.returncode != 0
    assert "will be skipped" not in proc.stderr
    assert "apt-get" in proc.stderr


def _world_readable(path: Path) -> bool:
    for part in (path, *path.parents):
        mode = part.stat().st_mode
        if not mode & 0o004 or (part != path and not mode & 0o001):
            return False
    return True
