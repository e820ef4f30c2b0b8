"""Strict JSON output shared by the commands: no ``NaN``/``Infinity`` tokens, which are not JSON."""

from __future__ import annotations

import json
import math


def finite(obj):
    """``obj`` with every non-finite float replaced by ``None`` (JSON ``null``), recursively.

    A command gives the logarithm of a value beyond float64 in a field of its own (``log_*``), so a
    ``null`` loses nothing that the output promises.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: finite(v) for key, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def dumps(obj) -> str:
    """Strict JSON text (``allow_nan=False``) of ``obj`` after :func:`finite`."""
    return json.dumps(finite(obj), indent=2, allow_nan=False)
