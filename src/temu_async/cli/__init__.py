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

Layout: :mod:`.settings` (config, env, tokens), :mod:`.connect` (app and shops),
:mod:`.output` (logging, errors), :mod:`.registry` (the parser, built from one line
per command) and one module per command in :mod:`.commands`. Only the chosen
command's module is imported, so ``temu-async types`` never loads the sync code.
"""

from __future__ import annotations

from temu_async.cli.registry import build_parser
from temu_async.cli.run import main
from temu_async.cli.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "build_parser", "load_settings", "main"]
