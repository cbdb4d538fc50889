"""Phone-number enrichment with Google's libphonenumber rules (the ``phonenumbers`` package).

``describe(number)`` is the reference: one call of ``phonenumbers`` per number (about 45 µs).
``enrich_numbers`` calls it once per distinct number and maps the answers back to every row,
and asks ``phonenumbers`` each question once per number (``_describe_fast``, whose answers
the tests compare with ``describe``'s); what it saves is the repeats (the same numbers in
many pools, locations and snapshots) and the checks ``phonenumbers`` would make twice.
``workers=2`` or more describes the distinct numbers in that many processes (the standard
library's ``ProcessPoolExecutor``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from .schemas import E164_PATTERN

__all__ = ["ENRICH_COLUMNS", "describe", "enrich_numbers", "is_valid", "to_e164", "valid_numbers"]

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
_PLUS_DIGITS = r"^\+[1-9][0-9]{1,19}$"


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


def _nanp(number: object) -> phonenumbers.PhoneNumber | None:
    """A North American number in E.164 form (``+1`` and ten digits, the first 2 to 9) as
    ``phonenumbers.parse`` makes it, without parsing: for anything else, None."""
    if (
        isinstance(number, str)
        and len(number) == 12
        and number.startswith("+1")
        and number[2:].isdigit()
        and number[2] not in "01"
    ):
        return phonenumbers.PhoneNumber(country_code=1, national_number=int(number[2:]))
    return None


def _describe_fast(number: object) -> tuple:
    """``describe(number)``, with each of ``phonenumbers``' checks made once: a number is
    valid when its type is known (what ``is_valid_number`` checks), the area is what
    ``geocoder.description_for_number`` gives for that type, and a North American number
    is built rather than parsed. Its answers are checked against ``describe``'s."""
    from phonenumbers import geocoder

    parsed = _nanp(number)
    if parsed is None:
        return describe(number)
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.UNKNOWN:
        area = ""
    elif not phonenumbers.is_number_type_geographical(kind, parsed.country_code):
        area = geocoder.country_name_for_number(parsed, "en")
    else:
        area = geocoder.description_for_valid_number(parsed, "en")
    valid = kind != PhoneNumberType.UNKNOWN
    return (
        1,
        phonenumbers.region_code_for_number(parsed),
        TYPE_NAMES[kind],
        valid,
        area or None,
        number,
    )


def _describe_all(numbers: list[str]) -> list[tuple]:
    return [_describe_fast(number) for number in numbers]


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


# ------------------------------------------------------------------------ validity, vectorised

#: The number types ``phonenumbers`` tries, in its order (``_number_type_helper``).
#: The number types ``phonenumbers`` tries (``_number_type_helper``), the commonest first:
#: a number is valid when it fits any of them, so the order changes only the time taken.
_TYPE_DESCS = (
    "fixed_line",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def is_valid(number: object) -> bool:
    """The reference: ``phonenumbers.is_valid_number`` of the number parsed with no default
    region (so only ``+``-prefixed numbers can be valid); False for what does not parse."""
    if not isinstance(number, str):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except NumberParseException:
        return False


def _matches(nsn: pa.Array, desc) -> np.ndarray:
    """``phonenumbers._is_number_matching_desc`` over an array of national numbers."""
    if desc is None or not desc.national_number_pattern:
        return np.zeros(len(nsn), dtype=bool)
    hit = pc.match_substring_regex(nsn, f"^(?:{desc.national_number_pattern})$")
    if desc.possible_length:
        lengths = pc.utf8_length(nsn)
        hit = pc.and_(hit, pc.is_in(lengths, pa.array(desc.possible_length, pa.int32())))
    return hit.to_numpy(zero_copy_only=False)


def _valid_in(metadata, nsn: pa.Array) -> np.ndarray:
    """Whether each national number has a type in ``metadata`` (``_number_type_helper`` is not
    UNKNOWN): it fits the general description, then the description of some type (each tried
    only on the numbers no earlier one fitted)."""
    descs = [getattr(metadata, name) for name in _TYPE_DESCS]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.insert(1, metadata.mobile)
    untyped = np.flatnonzero(_matches(nsn, metadata.general_desc))
    typed = np.zeros(len(nsn), dtype=bool)
    for desc in descs:
        if len(untyped):
            hit = untyped[_matches(_take(nsn, untyped), desc)]
            typed[hit] = True
            untyped = untyped[~typed[untyped]]
    return typed


def _confirmed_valid(numbers: pa.Array) -> np.ndarray:
    """Which of these ``+digits`` numbers libphonenumber's own patterns show to be valid, run
    by Arrow's RE2 a country code at a time and following ``region_code_for_number``'s walk
    through the regions that share a code. Conservative: a number whose national part could
    start with a national prefix, or of a non-geographic code, is left unconfirmed."""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

    known = pa.array(sorted(COUNTRY_CODE_TO_REGION_CODE), pa.int32())
    codes = np.where(pc.starts_with(numbers, "+1").to_numpy(zero_copy_only=False), 1.0, np.nan)
    others = np.flatnonzero(np.isnan(codes))  # +1 is North America's: most numbers here
    if len(others):
        rest, found = _take(numbers, others), pa.nulls(len(others), pa.int32())
        for width in (3, 2, 1):  # country codes are prefix-free: the one that is known
            prefix = pc.cast(pc.utf8_slice_codeunits(rest, 1, 1 + width), pa.int32())
            found = pc.if_else(pc.is_in(prefix, known), prefix, found)
        codes[others] = found.to_numpy(zero_copy_only=False)
    confirmed = np.zeros(len(numbers), dtype=bool)
    for code in np.unique(codes[~np.isnan(codes)]).astype(int):
        regions = COUNTRY_CODE_TO_REGION_CODE[code]
        main = PhoneMetadata.metadata_for_region(regions[0], None)
        if main is None or "001" in regions:
            continue
        rows = np.flatnonzero(codes == code)
        nsn = pc.utf8_slice_codeunits(_take(numbers, rows), 1 + len(str(code)))
        open_ = np.ones(len(rows), dtype=bool)  # not yet given a region
        if main.national_prefix_for_parsing:
            open_ &= ~_starts(nsn, main.national_prefix_for_parsing)
        for region in regions:
            metadata = PhoneMetadata.metadata_for_region(region, None)
            if metadata is None or not open_.any():
                continue
            waiting = np.flatnonzero(open_)
            by_digits = len(regions) > 1 and bool(metadata.leading_digits)
            if by_digits:  # the region claims the numbers its leading digits start
                waiting = waiting[_starts(_take(nsn, waiting), metadata.leading_digits)]
            typed = _valid_in(metadata, _take(nsn, waiting))
            confirmed[rows[waiting[typed]]] = True
            open_[waiting if by_digits or len(regions) == 1 else waiting[typed]] = False
    return confirmed


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """``values.take(rows)``, with no copy when ``rows`` are all of them."""
    return values if len(rows) == len(values) else values.take(rows)


def _starts(nsn: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(nsn, f"^(?:{pattern})").to_numpy(zero_copy_only=False)


def valid_numbers(numbers: pd.Series) -> pd.Series:
    """Whether each number is valid by libphonenumber: ``is_valid``'s answer for every value
    (NA stays NA). What the library's patterns confirm at once (run by Arrow) needs no call of
    ``phonenumbers``; only the rest, each distinct value once, is checked one by one."""
    values = pa.array(numbers, from_pandas=True).cast(pa.string())
    plain = pc.fill_null(pc.match_substring_regex(values, _PLUS_DIGITS), False)
    plain = np.flatnonzero(plain.to_numpy(zero_copy_only=False))
    answers = np.zeros(len(values), dtype=bool)
    answers[plain] = _confirmed_valid(_take(values, plain))
    todo = np.flatnonzero(~answers & numbers.notna().to_numpy())
    if len(todo):
        rest = pd.Series(numbers.iloc[todo].to_numpy(dtype=object))
        distinct = rest.unique()
        answers[todo] = rest.map(dict(zip(distinct, map(is_valid, distinct)))).to_numpy(bool)
    return pd.Series(answers, index=numbers.index, dtype="boolean").mask(numbers.isna())


def to_e164(numbers: pd.Series, regions: pd.Series | None = None) -> pd.Series:
    """Each number in E.164 (``+14155552671``) as libphonenumber reads it, a number without
    a ``+`` country code read as of its ``regions`` value (a country code such as ``US``);
    NA where it does not parse. Numbers already in E.164 form are kept as they are."""
    values = pa.array(numbers, from_pandas=True).cast(pa.string())
    done = pc.fill_null(pc.match_substring_regex(values, E164_PATTERN), True)
    out = numbers.astype(object).copy()
    for index in np.flatnonzero(~done.to_numpy(zero_copy_only=False)):
        region = None if regions is None else regions.iloc[index]
        try:
            parsed = phonenumbers.parse(
                out.iloc[index], region if isinstance(region, str) else None
            )
            out.iloc[index] = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
        except NumberParseException:
            out.iloc[index] = None
    return out.astype("string")
