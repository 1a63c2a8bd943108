"""Reading JSON-bearing columns whichever way they are stored (a JSON column, or JSON text)."""

from __future__ import annotations

import json
from typing import Any


def decoded(value: Any, default: Any) -> Any:
    """The value of a JSON column, or of a text column holding JSON; ``default`` when empty."""
    if value is None or value == "":
        return default
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value
