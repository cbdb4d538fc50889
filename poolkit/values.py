"""The rules for one value of a response: when a flag is on or off, and when text is blank.
``poolkit.model`` holds the rest of the domain's rules and re-exports these; they live apart
so that the reader (``location_rows``) can count with them without importing the analysis."""

from __future__ import annotations

import pandas as pd

__all__ = ["blank", "off", "on"]


def on(values: pd.Series) -> pd.Series:
    """A flag that is exactly true (NA, a value that did not parse, counts as not)."""
    return values.eq(True).fillna(False).astype(bool)


def off(values: pd.Series) -> pd.Series:
    """A flag that is exactly false (NA is not off: it is unknown)."""
    return values.eq(False).fillna(False).astype(bool)


def blank(values: pd.Series) -> pd.Series:
    """Missing, empty or only white space."""
    text = values.astype("string")
    return (text.isna() | text.str.strip().eq("")).fillna(True).astype(bool)
