"""``temu-async webhooks list``: the inbox's events, newest first, with state counts."""

from temu_async.cli.commands.webhooks import add_list_arguments as add_arguments
from temu_async.cli.commands.webhooks import run_list as run

__all__ = ["add_arguments", "run"]
