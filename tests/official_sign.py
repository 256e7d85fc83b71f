"""Test oracle: the official TestSign algorithm, ported plainly with the stdlib.

Kept deliberately naive (json.dumps per value, string concatenation) so that it
shares nothing with temu_async.signing but the rule itself. One documented
deviation from the Python example: quotes are stripped the way the official
JavaScript example does (one leading and one trailing), see PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def official_text(value: Any) -> str:
    dumped = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub(r'^"|"$', "", dumped)


def official_sign(params: dict[str, Any], app_secret: str) -> str:
    pieces = [
        key + official_text(value)
        for key, value in sorted(params.items())
        if key != "sign" and value is not None
    ]
    joined = app_secret + "".join(pieces) + app_secret
    return hashlib.md5(joined.encode("utf-8")).hexdigest().upper()


def python_example_text(value: Any) -> str:
    """What the official *Python* example does (strip every quote at both ends)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).strip('"')
