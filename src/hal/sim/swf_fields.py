"""How an SWF line's field text becomes a number: whole numbers, decimals rounded halves up where archives write
them (times), and which fields must be whole (job ids and processor counts)."""

from __future__ import annotations

import math


def strict_int(text: str) -> int:
    """A field of a line that is not plain ASCII or holds an underscore: int() and float() alone take "1_0" as
    10 and other scripts' digits as numbers (the line is checked first, so plain lines pay nothing per field)."""
    if "_" in text or not text.isascii():
        raise ValueError(text)
    return whole_int(text)


def whole_int(text: str) -> int:
    """A field as a whole number. Decimals (some archives write them in time fields) are rounded halves up, as
    --jobs-out writes times: round() took halves to even, so run times 100.5 and 101.5 both ran as even seconds.
    -1.0 stays -1 (unknown); a negative half goes up too (-1.5 is -1), one rule for every field and sign."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text) from None
        whole = math.floor(value)
        return whole + 1 if value - whole >= 0.5 else whole  # exact: floor(value + 0.5) took 0.49999999999999994 up


WHOLE = (0, 4, 7)  # job id and processor counts: counted, never measured, so a decimal there is a corrupt line


def is_whole(text: str) -> bool:
    """A whole number, also written with a zero fraction (5.0), as some archives write every field."""
    try:
        return float(text).is_integer()
    except ValueError:
        return False


def is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_number(text: str) -> bool:
    try:
        strict_int(text)
    except ValueError:
        return False
    return True
