"""Round half up, as SAS and clinical tables do (Python's round() rounds half to even)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def round_half_up(x, digits: int = 0):
    """Vectorized half-up rounding that is exact on decimal ties such as 2.675 -> 2.68.

    Values are first rounded to 9 significant decimals to undo binary representation error
    (2.675 is stored as 2.67499999...), then rounded half away from zero.
    """
    arr = np.asarray(x, dtype="float64")
    scale = 10.0**digits
    cleaned = np.round(arr * scale, 9)
    out = np.sign(cleaned) * np.floor(np.abs(cleaned) + 0.5) / scale
    if np.ndim(x) == 0:
        return float(out)
    return out


def format_half_up(value: float | None, digits: int = 1) -> str:
    """Display string with half-up rounding; missing shows as an en dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    q = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


COMPARE_DECIMALS = 9


def at_compare_precision(x):
    """Derived numbers as compared with a definition's threshold: rounded to 9 decimals, which only
    removes binary representation error (SALT is recorded to one or two decimals), so a percent
    change that is -50 on paper is -50 in the comparison, not -49.99999999999999."""
    return np.round(np.asarray(x, dtype="float64"), COMPARE_DECIMALS)
