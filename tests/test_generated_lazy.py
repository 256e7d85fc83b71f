"""Import cost: `import temu_async` loads no group module, `shop.<group>` loads only its own,
and the build-time tools (jinja2, pyyaml, the codegen package) never load at run time.

Each check runs in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from temu_async._generated import GROUPS

REPO = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


LOADED = """
def loaded():
    prefix = "temu_async._generated."
    return sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix))
"""


def test_importing_the_package_and_client_loads_no_group() -> None:
    out = _run(
        "import sys\n"
        + LOADED
        + """
import temu_async
import temu_async.client
print(loaded())
"""
    )
    assert out == "['groups']"  # the property mixin only: no Structs, no group classes


def test_a_group_loads_alone_on_first_use_and_no_build_tool_loads() -> None:
    assert "order" in GROUPS
    out = _run(
        "import sys\n"
        + LOADED
        + """
import asyncio
from aiohttp import web
from temu_async.client import TemuApp


async def main():
    async def answer(request):
        body = await request.json()
        assert body["type"] == "bg.order.list.v2.get", body["type"]
        return web.json_response(
            {"success": True, "errorCode": 1000000, "result": {"totalItemNum": 3}}
        )

    app = web.Application()
    app.router.add_post("/openapi/router", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with TemuApp("key", "secret", base_url=f"http://127.0.0.1:{port}/openapi/router") as temu:
        shop = temu.shop("token")
        group = shop.order
        print(loaded())
        page = await group.list_v2(page_number=1, page_size=10)
        assert page.total_item_num == 3, page
    await runner.cleanup()
    print(loaded())
    print([m for m in ("jinja2", "yaml", "codegen", "markupsafe") if m in sys.modules])


asyncio.run(main())
"""
    )
    lines = out.splitlines()
    assert lines[0] == "['groups', 'order']"
    # After a real call (catalogue read, checks, decode) still only the order group.
    assert lines[1] == "['groups', 'order']"
    assert lines[2] == "[]"


def test_generated_package_attribute_access_imports_on_demand() -> None:
    out = _run(
        "import sys\n"
        + LOADED
        + """
import temu_async._generated as gen
before = loaded()
gen.order
print(before, loaded())
"""
    )
    assert out == "[] ['groups', 'order']"  # order imports the client, which imports groups
