"""Import cost: `import temu_async` loads no group module, `shop.<group>` loads only its own,
and the build-time tools (jinja2, pyyaml, the codegen package) never load at run time.

Each check runs in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import msgspec
import pytest

import temu_async.types as types
from temu_async._generated import GROUPS
from temu_async._generated.type_index import MODULES

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
    # The shared shapes module (Money, ...) is no group: it comes with whichever uses it.
    assert lines[0].replace(", 'shapes'", "") == "['groups', 'order']"
    # After a real call (catalogue read, checks, decode) still only the order group.
    assert lines[1].replace(", 'shapes'", "") == "['groups', 'order']"
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
    # A group module needs only the small core (options, group, pagination), not the client.
    assert out.replace(", 'shapes'", "") == "[] ['order']"


def test_one_name_from_temu_async_types_loads_only_its_group() -> None:
    out = _run(
        "import sys\n"
        + LOADED
        + """
import temu_async.types as types
print(loaded())
from temu_async.types import FulfillmentShipmentConfirmV2SendRequestParam as P
print(loaded(), P.__module__)
"""
    )
    lines = out.splitlines()
    assert lines[0] == "['type_index']"
    assert lines[1].replace(", 'shapes'", "") == (
        "['fulfillment', 'type_index'] temu_async._generated.fulfillment"
    )


def test_temu_async_types_holds_every_generated_struct_once() -> None:
    defined: dict[str, str] = {}
    for module_name in [*GROUPS.values(), "temu_async._generated.events"]:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            is_struct = isinstance(value, type) and issubclass(value, msgspec.Struct)
            if is_struct and value.__module__ == module_name:
                defined[name] = module_name
    assert defined, "no Structs found: the walk is broken"
    missing = sorted(set(defined) - set(MODULES))
    assert not missing, f"generated but not in temu_async.types: {missing[:5]}"
    # Old Struct names warn when used; here that is expected, and the only warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, module_name in MODULES.items():
            value = getattr(types, name)
            assert getattr(importlib.import_module(module_name), name) is value
            if name in defined:
                assert defined[name] == module_name
    unexpected = [
        w
        for w in caught
        if not (issubclass(w.category, DeprecationWarning) and "goes away in" in str(w.message))
    ]
    assert not unexpected, unexpected[:3]
    assert "OrderStatusChangeEvent" in MODULES  # webhook events are there too


def test_a_misspelt_name_in_temu_async_types_says_where_to_look() -> None:
    with pytest.raises(AttributeError, match=r"no attribute 'OrderListV2Reslt'.*docs/api\.md"):
        _ = types.OrderListV2Reslt


def test_generated_modules_import_only_the_small_core() -> None:
    # The generated layer depends on temu_async.options / group / pagination (and its own
    # siblings), never on the client: the client imports the generated groups, not the
    # other way round. (The package's lazy CATALOGUE_VERSION reads the catalogue module.)
    import ast

    import temu_async

    folder = Path(temu_async.__file__).parent / "_generated"
    core = {"temu_async.options", "temu_async.group", "temu_async.pagination"}
    imported: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            ours = {n for n in names if n.split(".")[0] == "temu_async"}
            imported.setdefault(path.name, set()).update(ours)
    assert imported["order.py"] >= {"temu_async.options", "temu_async.group"}
    for module, names in imported.items():
        assert not any(n.startswith("temu_async.client") for n in names), module
        outside = {n for n in names if not n.startswith("temu_async._generated")} - core
        if module == "__init__.py":
            outside -= {"temu_async.catalogue"}
        assert not outside, (module, outside)


def test_our_own_modules_use_no_deprecated_struct_name() -> None:
    # A Struct a shared shape replaced stays importable under its old name, with a warning;
    # the package itself must use the new name (after `codegen shapes --apply`, this names
    # what to rename).
    import re

    import temu_async
    from temu_async._generated.type_index import RENAMED

    package = Path(temu_async.__file__).parent
    used = {
        (str(path.relative_to(package)), name)
        for path in package.rglob("*.py")
        if "_generated" not in path.parts
        for name in set(re.findall(r"\b[A-Z]\w+", path.read_text(encoding="utf-8"))) & RENAMED
    }
    assert not used, sorted(used)
