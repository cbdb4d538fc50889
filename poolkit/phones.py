"""Phone-number enrichment with Google's libphonenumber rules (the ``phonenumbers`` package).

``describe(number)`` is the reference: one call of ``phonenumbers`` per number (about 45 µs).
``enrich_numbers`` calls it once per distinct number and maps the answers back to every row,
so its answers are ``describe``'s by construction; what it saves is the repeats (the same
numbers in many pools, locations and snapshots). ``workers=2`` or more describes the
distinct numbers in that many processes (the standard library's ``ProcessPoolExecutor``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

__all__ = ["ENRICH_COLUMNS", "describe", "enrich_numbers"]

#: Columns added to the numbers table, in order, with their dtypes.
ENRICH_COLUMNS = {
    "country_code": "Int64",
    "region_code": "string",
    "number_type": "category",
    "is_valid": "boolean",
    "area": "string",
    "e164": "string",
}
TYPE_NAMES = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
_NOTHING = (None, None, None, None, None, None)
_PER_TASK = 20_000  # distinct numbers per task when several processes describe them


def describe(number: object) -> tuple:
    """The reference answer for one number, straight from ``phonenumbers``:
    ``(country_code, region_code, number_type, is_valid, area, e164)``."""
    from phonenumbers import geocoder  # loads the geocoding tables (0.4 s): only when used

    if not isinstance(number, str):
        return _NOTHING
    try:
        parsed = phonenumbers.parse(number, None)
    except NumberParseException:
        return (None, None, None, False, None, None)
    return (
        parsed.country_code,
        phonenumbers.region_code_for_number(parsed),
        TYPE_NAMES[phonenumbers.number_type(parsed)],
        phonenumbers.is_valid_number(parsed),
        geocoder.description_for_number(parsed, "en") or None,
        phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
    )


def _describe_all(numbers: list[str]) -> list[tuple]:
    return [describe(number) for number in numbers]


def enrich_numbers(
    numbers: pd.DataFrame | pd.Series, column: str = "phone_number", *, workers: int = 1
) -> pd.DataFrame:
    """Add ``country_code``, ``region_code``, ``number_type``, ``is_valid``, ``area`` (the
    geographic description, such as a US state or city) and ``e164`` to a numbers table
    (or make them from a Series of numbers): ``describe``'s answers, one call per distinct
    number. ``workers`` > 1 spreads the calls over that many processes (worth it from about
    100,000 distinct numbers; a script that uses it needs the usual ``__main__`` guard)."""
    series = numbers if isinstance(numbers, pd.Series) else numbers[column]
    codes, distinct = pd.factorize(series.astype(object))  # NA -> -1: the last answer below
    distinct = list(distinct)
    if workers > 1 and len(distinct) > _PER_TASK:
        tasks = [distinct[i : i + _PER_TASK] for i in range(0, len(distinct), _PER_TASK)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            answers = [answer for part in pool.map(_describe_all, tasks) for answer in part]
    else:
        answers = _describe_all(distinct)
    answers.append(_NOTHING)
    frame = pd.DataFrame(
        {
            name: np.array([answer[i] for answer in answers], dtype=object)[codes]
            for i, name in enumerate(ENRICH_COLUMNS)
        },
        index=series.index,
    )
    frame = frame.astype({c: t for c, t in ENRICH_COLUMNS.items() if t != "category"})
    frame["number_type"] = frame["number_type"].astype(
        pd.CategoricalDtype(sorted(TYPE_NAMES.values()))
    )
    if isinstance(numbers, pd.Series):
        return frame
    return pd.concat(
        [numbers.drop(columns=[c for c in ENRICH_COLUMNS if c in numbers]), frame], axis=1
    )
