"""``temu-async webhooks replay EVENT_ID...``: make dead (or done) events due again."""

from temu_async.cli.commands.webhooks import add_replay_arguments as add_arguments
from temu_async.cli.commands.webhooks import run_replay as run

__all__ = ["add_arguments", "run"]
