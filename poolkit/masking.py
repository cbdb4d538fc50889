"""Phone numbers masked for sharing outside the team: ``+14155552671`` -> ``+1 415 ***-**71``."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from .tables import PoolTables

_PHONE_TEXT = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_phone(number: object) -> object:
    """``+14155552671`` -> ``+1 415 ***-**71``: enough to tell numbers apart, not to dial."""
    if not isinstance(number, str) or len(number) < 6:
        return number
    digits = number.lstrip("+")
    if number.startswith("+1") and len(digits) == 11:
        return f"+1 {digits[1:4]} ***-**{digits[-2:]}"
    return f"+{digits[:2]} {'*' * max(0, len(digits) - 4)}{digits[-2:]}"


def mask_text(text: object) -> object:
    """Mask anything in ``text`` that looks like a phone number (seven characters or more of
    digits, spaces and ``+().-``, a date such as ``2026-11-27`` excepted), keeping its last
    two digits."""
    if not isinstance(text, str):
        return text

    def mask(match: re.Match) -> str:
        found = match.group()
        return found if _DATE.fullmatch(found) else "*" * (len(found) - 2) + found[-2:]

    return _PHONE_TEXT.sub(mask, text)


#: The columns that hold a phone number, in any table, the findings and the changes.
NUMBER_COLUMNS = ("phone_number", "e164", "forwarding_number", "number_forwarding_number")


def masked_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every phone number masked: whole in ``NUMBER_COLUMNS``, within the
    text of every other column of text (names, details, examples...), whatever its name."""
    text = [
        c
        for c in frame.columns
        if c not in NUMBER_COLUMNS
        and not isinstance(frame[c].dtype, pd.CategoricalDtype)  # kinds, not free text
        and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)
    ]
    columns = {c: frame[c].map(mask_phone) for c in NUMBER_COLUMNS if c in frame}
    columns.update({c: frame[c].map(mask_text) for c in text})
    return frame.assign(**{c: values.astype("string") for c, values in columns.items()})


def masked(tables: PoolTables) -> PoolTables:
    """The same tables with every phone number masked, in every column that can hold one."""
    return replace(tables, **{name: masked_frame(frame) for name, frame in tables})
