"""The README's quick start runs as written, against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

from temu_async.sandbox import Sandbox, SandboxConfig

README = Path(__file__).resolve().parent.parent / "README.md"


def quick_start() -> str:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


async def test_quick_start_runs_against_the_sandbox() -> None:
    code = quick_start()
    assert 'TemuApp("your-app-key", "your-app-secret", region="us")' in code
    async with Sandbox(SandboxConfig(seed=5, shops=1, orders=150)) as sb:
        creds = sb.credentials
        code = code.replace(
            'TemuApp("your-app-key", "your-app-secret", region="us")',
            f"TemuApp({creds.app_key!r}, {creds.app_secret!r}, region='us', base_url={sb.url!r})",
        ).replace('"the-seller-access-token"', repr(creds.shops[0].access_token))
        # Run main() in this loop instead of asyncio.run (we are inside one already).
        code = code.replace("asyncio.run(main())", "")
        scope: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), scope)
        await scope["main"]()  # type: ignore[operator]
