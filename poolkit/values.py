"""The rules the reader needs too: when a flag is on or off, when text is blank, when a pool
has a service and when a location answered. ``poolkit.model`` holds the rest of the domain's
rules and re-exports these; they live apart so that the reader (``tidy``, ``location_rows``)
can use them without importing the analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["answered", "blank", "has_service", "off", "on", "shown"]


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


def shown(names: pd.Series, ids: pd.Series) -> pd.Series:
    """The name to show of each pool or location: its name, its id where the name is blank
    (NA where it has neither)."""
    names = names.astype("string")
    return names.mask(blank(names)).fillna(ids.astype("string"))


def has_service(types: pd.Series) -> pd.Series:
    """Which rows (pools, held numbers) have an inbound call service, by their service
    ``types``: one whose type is given, not blank (any type, one called ``none`` too)."""
    if isinstance(types.dtype, pd.CategoricalDtype):  # a few categories: test those only
        given = np.append(~blank(pd.Series(types.cat.categories, dtype=object)), False)
        return pd.Series(given[types.cat.codes.to_numpy()], index=types.index)  # -1: NA
    return ~blank(types)


def answered(locations: pd.DataFrame) -> pd.Series:
    """The locations whose pools were read (``status`` ``ok``): the others were not fetched."""
    return pd.Series(
        locations["status"].astype(object).eq("ok").to_numpy(bool), index=locations.index
    )
