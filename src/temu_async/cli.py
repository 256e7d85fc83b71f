"""``temu-async``: call any type, browse the catalogue, run the sandbox, sync orders and prices.

Credentials come from the environment or a config file, never from the command
line (where shell history and ``ps`` would show them):

* ``TEMU_APP_KEY``, ``TEMU_APP_SECRET``, ``TEMU_REGION`` (us/eu/global), ``TEMU_BASE_URL``
  (e.g. a sandbox), ``TEMU_ACCESS_TOKEN`` (one shop) or ``TEMU_ACCESS_TOKENS``
  (``name=token,name2=token2``; bare tokens get a name from their fingerprint);
* ``--config FILE`` (or ``TEMU_CONFIG``): TOML (Python 3.11+) or JSON with the keys
  ``app_key``, ``app_secret`` or ``app_secret_env``, ``region``, ``base_url`` and a
  ``shops`` table of ``name = "token"`` or ``name = {access_token_env = "VAR"}``.
  The environment wins over the file.

Secrets are never printed: not in ``--help``, errors or logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from temu_async import catalogue
from temu_async.client import CallOptions, ShopClient, TemuApp
from temu_async.errors import TemuError
from temu_async.secret import Secret
from temu_async.sync.jsonl_sink import JsonlSink
from temu_async.sync.orders import DAY, OrderSync, OrderSyncOptions
from temu_async.sync.prices import (
    PricePull,
    PricePullOptions,
    push_prices,
    read_price_csv,
    report_text,
    write_report,
)
from temu_async.sync.progress import Progress, SyncSummary
from temu_async.sync.records import OrderSink
from temu_async.sync.report import ProgressPrinter, choose_mode, summary_json, summary_text
from temu_async.sync.sqlite_store import SqliteStore

__all__ = ["ConfigError", "Settings", "build_parser", "load_settings", "main"]

log = logging.getLogger("temu_async.cli")

DEFAULT_DB = "out/temu.sqlite"
REGIONS = ("us", "eu", "global")


class ConfigError(Exception):
    """Credentials or settings are missing or malformed (names the variable, never its value)."""


@dataclass
class Settings:
    app_key: str | None = None
    app_secret: Secret | None = field(default=None, repr=False)
    region: str = "us"
    base_url: str | None = None
    shops: list[tuple[str | None, Secret]] = field(default_factory=list, repr=False)
    """(name or None, token) in the order given."""


# ---- settings -------------------------------------------------------------------------


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"config file {path}: not valid JSON (line {exc})") from None
    elif sys.version_info >= (3, 11):
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            # The message names the line and column, not the content.
            raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    else:
        raise ConfigError(f"config file {path}: TOML needs Python 3.11+; use a .json file on 3.10")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a table/object")
    return data


def _env_secret(name: str, env: dict[str, str], where: str) -> Secret:
    value = env.get(name)
    if not value:
        raise ConfigError(f"{where} names the environment variable {name}, which is not set")
    return Secret(value)


def _parse_tokens(text: str) -> list[tuple[str | None, Secret]]:
    out: list[tuple[str | None, Secret]] = []
    for i, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, token = part.partition("=")
        if eq and (not name.strip() or not token.strip()):
            raise ConfigError(f"TEMU_ACCESS_TOKENS entry {i + 1}: expected name=token")
        out.append((name.strip(), Secret(token.strip())) if eq else (None, Secret(part)))
    return out


def load_settings(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Merge the config file, then the environment, then ``--region``/``--base-url``."""
    env = dict(os.environ) if env is None else env
    s = Settings()
    config = getattr(args, "config", None) or env.get("TEMU_CONFIG")
    if config:
        data = _read_config(Path(config))
        key = data.get("app_key")
        if key is not None and not isinstance(key, str):
            raise ConfigError("config: app_key must be a string")
        s.app_key = key
        if isinstance(data.get("app_secret"), str):
            s.app_secret = Secret(data["app_secret"])
        elif isinstance(data.get("app_secret_env"), str):
            s.app_secret = _env_secret(data["app_secret_env"], env, "config app_secret_env")
        if isinstance(data.get("region"), str):
            s.region = data["region"]
        if isinstance(data.get("base_url"), str):
            s.base_url = data["base_url"]
        shops = data.get("shops") or {}
        if not isinstance(shops, dict):
            raise ConfigError("config: shops must be a table of name = token")
        for name, value in shops.items():
            if isinstance(value, str):
                s.shops.append((name, Secret(value)))
            elif isinstance(value, dict) and isinstance(value.get("access_token_env"), str):
                where = f"config shops.{name}.access_token_env"
                s.shops.append((name, _env_secret(value["access_token_env"], env, where)))
            elif isinstance(value, dict) and isinstance(value.get("access_token"), str):
                s.shops.append((name, Secret(value["access_token"])))
            else:
                raise ConfigError(
                    f"config: shops.{name} must be a token string or {{access_token_env = VAR}}"
                )
    if env.get("TEMU_APP_KEY"):
        s.app_key = env["TEMU_APP_KEY"]
    if env.get("TEMU_APP_SECRET"):
        s.app_secret = Secret(env["TEMU_APP_SECRET"])
    if env.get("TEMU_REGION"):
        s.region = env["TEMU_REGION"]
    if env.get("TEMU_BASE_URL"):
        s.base_url = env["TEMU_BASE_URL"]
    if env.get("TEMU_ACCESS_TOKENS"):
        s.shops = _parse_tokens(env["TEMU_ACCESS_TOKENS"])
    elif env.get("TEMU_ACCESS_TOKEN"):
        s.shops = [(None, Secret(env["TEMU_ACCESS_TOKEN"]))]
    token_env = getattr(args, "token_env", None)
    if token_env:
        s.shops = [(getattr(args, "shop_name", None), _env_secret(token_env, env, "--token-env"))]
    if getattr(args, "region", None):
        s.region = args.region
    if getattr(args, "base_url", None):
        s.base_url = args.base_url
    if s.region not in REGIONS:
        raise ConfigError(f"region must be one of {', '.join(REGIONS)}, got {s.region!r}")
    return s


def _make_app(s: Settings, args: argparse.Namespace) -> TemuApp:
    if not s.app_key:
        raise ConfigError("no app key: set TEMU_APP_KEY or app_key in the config file")
    if s.app_secret is None:
        raise ConfigError("no app secret: set TEMU_APP_SECRET or app_secret_env in the config file")
    try:
        return TemuApp(
            s.app_key,
            s.app_secret.reveal(),
            region=s.region,  # type: ignore[arg-type]
            base_url=s.base_url,
            rate_limit=getattr(args, "rate_limit", None),
        )
    except ValueError as exc:
        # TemuApp's messages name the credential, never its value.
        raise ConfigError(str(exc)) from None


def _pick_shops(app: TemuApp, s: Settings, wanted: Sequence[str] | None) -> list[ShopClient]:
    if not s.shops:
        raise ConfigError(
            "no shop: set TEMU_ACCESS_TOKEN / TEMU_ACCESS_TOKENS, a [shops] table, or --token-env"
        )
    try:
        shops = [app.shop(token.reveal(), name=name) for name, token in s.shops]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if wanted:
        by_name = {shop.name: shop for shop in shops}
        missing = [w for w in wanted if w not in by_name]
        if missing:
            raise ConfigError(
                f"--shop {', '.join(missing)}: not configured (known: {', '.join(by_name)})"
            )
        shops = [by_name[w] for w in wanted]
    return shops


# ---- logging and progress ---------------------------------------------------------------


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": round(record.created, 3),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


@contextlib.contextmanager
def _cli_logging(args: argparse.Namespace) -> Iterator[None]:
    """Our loggers print to stderr for the length of one command, then are put back.

    ``main()`` also runs in-process (tests, scripts that embed the CLI); leaving the
    package logger muted or detached would silence the host's own logging afterwards.
    """
    root = logging.getLogger("temu_async")
    saved = (root.handlers[:], root.propagate, root.level)
    _setup_logging(args)
    try:
        yield
    finally:
        root.handlers[:], root.propagate, root.level = saved[0], saved[1], saved[2]


def _setup_logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if getattr(args, "log_format", "text") == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("temu_async")
    root.handlers[:] = [handler]
    root.propagate = False
    verbose = getattr(args, "verbose", 0)
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def _print_summary(args: argparse.Namespace, summary: SyncSummary, out: TextIO) -> None:
    if args.log_format == "json":
        out.write(summary_json(summary) + "\n")
    else:
        out.write(summary_text(summary) + "\n")
    out.flush()


async def _with_progress(
    args: argparse.Namespace, progress: Progress, job: Callable[[], Awaitable[SyncSummary]]
) -> SyncSummary:
    mode = choose_mode(quiet=args.quiet, log_format=args.log_format, stream=sys.stderr)
    async with ProgressPrinter(progress, mode=mode, interval=args.progress_interval):
        return await job()


# ---- commands -----------------------------------------------------------------------------


async def _cmd_call(args: argparse.Namespace) -> int:
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        raise ConfigError(f"--params: not valid JSON ({exc})") from None
    if not isinstance(params, dict):
        raise ConfigError("--params: must be a JSON object of wire-named params")
    s = load_settings(args)
    async with _make_app(s, args) as app:
        shops = _pick_shops(app, s, [args.shop] if args.shop else None)
        if len(shops) > 1:
            raise ConfigError("several shops are configured: choose one with --shop NAME")
        options = CallOptions(allow_unknown=args.allow_unknown)
        result = await shops[0].call(args.type, params, options=options)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def _cmd_types(args: argparse.Namespace) -> int:
    cat = catalogue.load()
    rows = [t for t in cat.types if not args.group or t.group == args.group]
    if not rows:
        groups = sorted({t.group for t in cat.types})
        raise ConfigError(f"no types in group {args.group!r} (groups: {', '.join(groups)})")
    width = max(len(t.type) for t in rows)
    for t in sorted(rows, key=lambda t: (t.group, t.type)):
        flags = " (deprecated)" if t.deprecated else ""
        flags += " (undocumented)" if not t.documented else ""
        print(f"{t.type:<{width}}  {t.group}.{t.method}  {t.summary}{flags}")
    return 0


def _describe_fields(fields: Sequence[catalogue.Field], indent: int, out: list[str]) -> None:
    for f in fields:
        kind = f"list[{f.items}]" if f.type == "list" else f.type
        rules = []
        if f.required:
            rules.append("required")
        for label, value in (
            ("min", f.minimum),
            ("max", f.maximum),
            ("min items", f.min_items),
            ("max items", f.max_items),
            ("max length", f.max_length),
        ):
            if value is not None:
                rules.append(f"{label} {value}")
        if f.enum:
            rules.append("one of " + ", ".join(f"{k} ({v})" for k, v in f.enum.items()))
        rule = f" [{'; '.join(rules)}]" if rules else ""
        summary = f" — {f.summary}" if f.summary else ""
        out.append(f"{' ' * indent}{f.name}: {kind}{rule}{summary}")
        if f.fields:
            _describe_fields(f.fields, indent + 2, out)


def _cmd_describe(args: argparse.Namespace) -> int:
    spec = catalogue.types_by_name().get(args.type)
    if spec is None:
        near = [t for t in catalogue.types_by_name() if args.type.split(".")[-1] in t][:5]
        hint = f" (similar: {', '.join(near)})" if near else ""
        raise ConfigError(f"unknown type {args.type!r}{hint}")
    out = [f"{spec.type} — {spec.summary}", f"  method: shop.{spec.group}.{spec.method}(...)"]
    out.append(f"  regions: {', '.join(spec.regions)}")
    if spec.scope:
        out.append(f"  permission: {spec.scope}")
    out.append(f"  idempotent: {'yes' if spec.idempotent else 'no (never retried when unsure)'}")
    if spec.rate_limit:
        out.append(f"  rate limit: {spec.rate_limit.per_second}/s per app_key")
    if spec.paginate:
        p = spec.paginate
        out.append(f"  pages: {p.page} / {p.size} (max {p.max_size}), items at {p.items}")
    if spec.deprecated:
        out.append(f"  deprecated{': use ' + spec.replaced_by if spec.replaced_by else ''}")
    if spec.doc_url:
        out.append(f"  docs: {spec.doc_url}")
    if not spec.documented:
        out.append("  params: not documented yet (free-form)")
    else:
        out.append("  params:")
        _describe_fields(spec.params, 4, out)
    if spec.response:
        out.append("  result:")
        _describe_fields(spec.response, 4, out)
    if spec.errors:
        out.append("  errors:")
        out += [f"    {code}: {msg}" for code, msg in sorted(spec.errors.items())]
    print("\n".join(out))
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from temu_async.sandbox import cli as sandbox_cli

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(sandbox_cli.serve(args))
    return 0


def _order_options(args: argparse.Namespace) -> OrderSyncOptions:
    try:
        return OrderSyncOptions(
            since=int(args.since_days * DAY),
            overlap=args.overlap,
            page_size=args.page_size,
            concurrency=args.concurrency,
            detail=args.detail,
            shipping=args.shipping,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def _cmd_sync_orders(args: argparse.Namespace) -> int:
    s = load_settings(args)
    options = _order_options(args)
    async with _make_app(s, args) as app:
        shops = _pick_shops(app, s, args.shop)
        sink: OrderSink
        if args.jsonl:
            sink = JsonlSink(args.jsonl)
            where = f"JSONL {args.jsonl}"
        else:
            sink = SqliteStore(args.db)
            where = f"SQLite {args.db}"
        try:
            sync = OrderSync(shops, sink, options)
            summary = await _with_progress(args, sync.progress, sync.run)
        finally:
            sink.close()
    _print_summary(args, summary, sys.stdout)
    if args.log_format != "json":
        print(f"orders in {where}")
    return 0 if summary.ok else 1


async def _cmd_prices_pull(args: argparse.Namespace) -> int:
    s = load_settings(args)
    async with _make_app(s, args) as app:
        shops = _pick_shops(app, s, args.shop)
        with SqliteStore(args.db) as store:
            try:
                pull = PricePull(
                    shops, store, PricePullOptions(goods_per_request=args.goods_per_request)
                )
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            summary = await _with_progress(args, pull.progress, pull.run)
    _print_summary(args, summary, sys.stdout)
    if args.log_format != "json":
        print(f"prices in SQLite {args.db} (table prices)")
    return 0 if summary.ok else 1


async def _cmd_prices_push(args: argparse.Namespace) -> int:
    s = load_settings(args)
    names = [n for n, _ in s.shops]
    default_shop = args.shop_name
    if default_shop is None and len(s.shops) == 1:
        default_shop = names[0]
    async with _make_app(s, args) as app:
        shops = {shop.name: shop for shop in _pick_shops(app, s, None)}
        if default_shop is None and len(shops) == 1:
            default_shop = next(iter(shops))
        try:
            changes = read_price_csv(args.csv, default_shop=default_shop)
        except OSError as exc:
            raise ConfigError(f"{args.csv}: cannot read it ({exc.strerror})") from None
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        with SqliteStore(args.db) as store:
            try:
                rows = await push_prices(shops, store, changes, dry_run=args.dry_run)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    fmt = args.report_format or ("json" if str(args.report or "").endswith(".json") else "csv")
    if args.report:
        with open(args.report, "w", newline="", encoding="utf-8") as fh:
            write_report(rows, fh, fmt)
    else:
        write_report(rows, sys.stdout, fmt)
    label = "dry run" if args.dry_run else "push"
    where = f"; report in {args.report}" if args.report else ""
    print(f"price {label}: {report_text(rows)}{where}", file=sys.stderr)
    bad = any(r.status in ("failed", "unknown — verify") for r in rows)
    return 1 if bad else 0


# ---- demo -------------------------------------------------------------------------------


async def _demo(args: argparse.Namespace) -> int:
    from temu_async.sandbox.process import SandboxProcess

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "demo.sqlite"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)  # the sandbox is new each time: so is its copy
    print(
        f"starting the sandbox: {args.shops} shops x {args.orders:,} orders, "
        f"{args.latency_ms:.0f} ms latency, 20 requests/s per app ...",
        file=sys.stderr,
    )
    # Its own process, as a remote gateway would be: nothing it does delays our requests.
    with SandboxProcess(
        seed=args.seed,
        shops=args.shops,
        orders=args.orders,
        goods=24,
        latency_ms=args.latency_ms,
    ) as sb:
        info = sb.info
        print(f"sandbox at {info.url}", file=sys.stderr)
        async with TemuApp(
            info.app_key, info.app_secret, region="global", base_url=info.url
        ) as app:
            shops = [app.shop(s.token, name=f"mall-{s.mall_id}") for s in info.shops]
            with SqliteStore(db) as store:
                print("\n1) order sync, first run (30 days of history):", file=sys.stderr)
                sync = OrderSync(shops, store)
                first = await _with_progress(args, sync.progress, sync.run)
                _print_summary(args, first, sys.stdout)
                print("\n2) order sync again: incremental from the checkpoint:", file=sys.stderr)
                again = OrderSync(shops, store)
                second = await _with_progress(args, again.progress, again.run)
                _print_summary(args, second, sys.stdout)
                print("\n3) price pull (every SKU's supply price):", file=sys.stderr)
                pull = PricePull(shops, store)
                prices = await _with_progress(args, pull.progress, pull.run)
                _print_summary(args, prices, sys.stdout)
                stored = store.order_count()
        expected = sb.order_count()
        rejected = sb.counters()["rejections"].get("4000004", 0)
    print(
        f"\nSQLite file: {db.resolve()}\n"
        f"  {stored:,} orders stored (the sandbox holds {expected:,}); "
        f"gateway rate-limit rejections: {rejected}\n"
        f"  try: sqlite3 {db} 'SELECT shop, COUNT(*) FROM orders GROUP BY shop'"
    )
    ok = first.ok and second.ok and prices.ok
    return 0 if ok else 1


# ---- parser -------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("connection and output")
    g.add_argument("--config", metavar="FILE", help="TOML/JSON config (default: $TEMU_CONFIG)")
    g.add_argument("--region", choices=REGIONS, help="default: $TEMU_REGION or us")
    g.add_argument("--base-url", metavar="URL", help="router URL override (e.g. a sandbox)")
    g.add_argument("--rate-limit", type=int, metavar="N", help="requests/s for the app")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    g.add_argument("--log-format", choices=("text", "json"), default="text")
    g.add_argument(
        "--progress-interval", type=float, metavar="S", help="seconds between progress lines"
    )
    g.add_argument("--verbose", "-v", action="count", default=0)
    return p


def _sync_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    p.add_argument("--shop", action="append", metavar="NAME", help="only this shop (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="temu-async",
        description="Temu Partner API from the command line: calls, catalogue, sandbox, syncs.",
        epilog="Credentials: TEMU_APP_KEY, TEMU_APP_SECRET, TEMU_ACCESS_TOKEN(S), TEMU_REGION,"
        " or --config FILE. They are never accepted as arguments.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("call", parents=[common], help="call one API type, print the result")
    p.add_argument("type", help="API type, e.g. bg.order.list.v2.get")
    p.add_argument("--params", default="{}", help="JSON object of wire-named params")
    p.add_argument("--shop", metavar="NAME", help="which configured shop")
    p.add_argument("--token-env", metavar="VAR", help="read the access token from $VAR")
    p.add_argument("--shop-name", help=argparse.SUPPRESS)
    p.add_argument("--allow-unknown", action="store_true", help="send params the catalogue lacks")
    p.set_defaults(run=_cmd_call, is_async=True)

    p = sub.add_parser("types", help="list the API types of the catalogue")
    p.add_argument("--group", help="only this group (order, goods, price, ...)")
    p.set_defaults(run=_cmd_types, is_async=False)

    p = sub.add_parser("describe", help="params, result, limits and errors of one type")
    p.add_argument("type")
    p.set_defaults(run=_cmd_describe, is_async=False)

    p = sub.add_parser("sandbox", help="run the local fake gateway and print its credentials")
    try:
        from temu_async.sandbox import cli as sandbox_cli

        sandbox_cli.add_arguments(p)
    except (ImportError, AttributeError):  # pragma: no cover - the sandbox ships its CLI
        p.set_defaults(run=lambda a: _fail("the sandbox CLI is not available"), is_async=False)
    else:
        p.set_defaults(run=_cmd_sandbox, is_async=False)

    p = sub.add_parser("sync", help="bulk sync: orders, prices")
    sync_sub = p.add_subparsers(dest="what", required=True, metavar="WHAT")

    o = sync_sub.add_parser("orders", parents=[common], help="incremental order sync")
    _sync_store_args(o)
    o.add_argument("--jsonl", metavar="FILE", help="write JSON Lines instead of SQLite")
    o.add_argument("--since-days", type=float, default=30.0, help="first run reaches back (30)")
    o.add_argument("--overlap", type=int, default=600, help="seconds re-walked (600)")
    o.add_argument("--page-size", type=int, default=100)
    o.add_argument("--concurrency", type=int, default=4, help="requests in flight per shop")
    o.add_argument("--detail", action="store_true", help="add bg.order.detail.v2.get per order")
    o.add_argument(
        "--shipping", action="store_true", help="add bg.order.shippinginfo.v2.get per order"
    )
    o.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    o.add_argument("--shop-name", metavar="NAME", help="name for the --token-env shop")
    o.set_defaults(run=_cmd_sync_orders, is_async=True)

    pr = sync_sub.add_parser("prices", help="SKU supply prices: pull, push")
    price_sub = pr.add_subparsers(dest="direction", required=True, metavar="pull|push")
    pull = price_sub.add_parser("pull", parents=[common], help="store every SKU's price")
    _sync_store_args(pull)
    pull.add_argument("--goods-per-request", type=int, metavar="N")
    pull.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    pull.add_argument("--shop-name", metavar="NAME", help="name for the --token-env shop")
    pull.set_defaults(run=_cmd_prices_pull, is_async=True)
    push = price_sub.add_parser(
        "push", parents=[common], help="send changed prices from a CSV (goodsId,skuId,price)"
    )
    push.add_argument("csv", help="CSV with goodsId, skuId, price [, currency] [, shop]")
    push.add_argument("--db", default=DEFAULT_DB, help="where pulled prices are")
    push.add_argument("--dry-run", action="store_true", help="show what would change, send none")
    push.add_argument("--report", metavar="FILE", help="per-row results (default: stdout)")
    push.add_argument("--report-format", choices=("csv", "json"))
    push.add_argument("--shop-name", metavar="NAME", help="shop for rows without a shop column")
    push.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    push.set_defaults(run=_cmd_prices_push, is_async=True)

    p = sub.add_parser("demo", parents=[common], help="sandbox + order sync + price pull")
    p.add_argument("--out", default="out", help="directory for demo.sqlite (default ./out)")
    p.add_argument("--shops", type=int, default=3)
    p.add_argument("--orders", type=int, default=1500, help="orders per shop")
    p.add_argument("--latency-ms", type=float, default=150.0)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(run=_demo, is_async=True)
    return parser


def _fail(message: str) -> int:
    print(f"temu-async: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name, value in (("quiet", False), ("log_format", "text"), ("verbose", 0)):
        if not hasattr(args, name):
            setattr(args, name, value)
    if not hasattr(args, "progress_interval"):
        args.progress_interval = None
    with _cli_logging(args):
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        code = int(asyncio.run(args.run(args)) if args.is_async else args.run(args))
    except ConfigError as exc:
        return _fail(str(exc))
    except RuntimeError as exc:
        if "make generate" in str(exc):  # the catalogue is missing
            return _fail(str(exc))
        raise
    except TemuError as exc:  # never carries a secret (see errors.py)
        return _fail(f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        print("\ninterrupted: the next run resumes from the last checkpoint", file=sys.stderr)
        return 130
    log.debug("finished in %.1f s", time.monotonic() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
