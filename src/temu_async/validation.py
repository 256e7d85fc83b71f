"""Check a call's params against the catalogue before anything is sent.

The checks now run in the same walk that encodes the params (:mod:`temu_async.prepare`);
this module keeps the names it always offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temu_async.catalogue import TypeSpec
from temu_async.prepare import COMMON_PARAMS, Plan, check_type_name, prepare_params

__all__ = ["COMMON_PARAMS", "check_params", "check_type_name"]


def check_params(spec: TypeSpec, params: Mapping[str, Any], *, allow_unknown: bool = False) -> None:
    """Raise ParamError for the first broken rule; return None when the params are sound."""
    prepare_params(Plan(spec), params, api_type=spec.type, allow_unknown=allow_unknown)
