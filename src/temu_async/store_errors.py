"""Errors a sync store raises: the file (or database) named, never a driver traceback.

A module of its own, outside ``temu_async.sync``, so the CLI can catch them without
importing the sync engines for every command.
"""

from __future__ import annotations

__all__ = ["StoreError", "StoreLocked"]


class StoreError(Exception):
    """The store cannot be opened or written; the message names it and what to do."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock and kept it past the wait."""

    def __init__(self, where: str, waited: float) -> None:
        super().__init__(
            f"{where}: another process holds the database's write lock (waited {waited:g} s);"
            " let that process finish or stop it, then run again"
        )
        self.where = where
        self.waited = waited
