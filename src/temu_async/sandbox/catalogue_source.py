"""Where the sandbox gets its catalogue when the caller does not hand one over."""

from __future__ import annotations

import functools
from pathlib import Path

import msgspec

from ..catalogue import Catalogue

__all__ = ["CATALOGUE_PATH", "CatalogueMissing", "load_catalogue"]

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "_generated" / "catalogue.json"


class CatalogueMissing(FileNotFoundError):
    pass


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> Catalogue:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogueMissing(
            f"no catalogue at {path}: run `make generate`, or pass SandboxConfig(catalogue=...)"
        ) from None
    return msgspec.json.decode(data, type=Catalogue)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Decode the generated catalogue (cached per path; the file is read once)."""
    return _load(Path(path).resolve() if path is not None else CATALOGUE_PATH)
