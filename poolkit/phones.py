"""Phone-number enrichment with Google's libphonenumber rules (the ``phonenumbers`` package).

``describe(number)`` is the reference: one call of ``phonenumbers`` per number (about 45 µs).
``enrich_numbers`` describes each distinct number once and maps the answers back to every
row; North American numbers, most numbers here, get their region and type from
libphonenumber's own patterns run by Arrow over all of them at once (``_describe_all``, whose
answers the tests compare with ``describe``'s), and only their area one by one.
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


def _area(parsed: phonenumbers.PhoneNumber, kind: int) -> str | None:
    """``geocoder.description_for_number`` of a number whose type is known to be ``kind``:
    nothing for an unknown type, the country for a non-geographic one."""
    from phonenumbers import geocoder  # loads the geocoding tables (0.4 s): only when used

    if kind == PhoneNumberType.UNKNOWN:
        return None
    if not phonenumbers.is_number_type_geographical(kind, parsed.country_code):
        return geocoder.country_name_for_number(parsed, "en") or None
    return geocoder.description_for_valid_number(parsed, "en") or None


def _describe_all(numbers: list[str]) -> list[tuple]:
    """``describe`` of each number. North American numbers in E.164 form (``+1`` and ten
    digits, the first 2 to 9), most numbers here, are not parsed one by one: their regions
    and types come from libphonenumber's own patterns run by Arrow over all of them at once
    (``_regions_and_types``), so only the area is asked number by number. The tests compare
    the answers with ``describe``'s."""
    values = pa.array([n if isinstance(n, str) else None for n in numbers], pa.string())
    nanp = pc.fill_null(pc.match_substring_regex(values, r"^\+1[2-9][0-9]{9}$"), False)
    rows = np.flatnonzero(nanp.to_numpy(zero_copy_only=False))
    regions, kinds = _regions_and_types(1, pc.utf8_slice_codeunits(_take(values, rows), 2))
    answers = dict.fromkeys(range(len(numbers)))
    for row, region, kind in zip(rows.tolist(), regions, kinds.tolist()):
        number = numbers[row]
        parsed = phonenumbers.PhoneNumber(country_code=1, national_number=int(number[2:]))
        valid = kind != PhoneNumberType.UNKNOWN
        answers[row] = (1, region, TYPE_NAMES[kind], valid, _area(parsed, kind), number)
    return [describe(numbers[row]) if a is None else a for row, a in answers.items()]


def enrich_numbers(
    numbers: pd.DataFrame | pd.Series, column: str = "phone_number", *, workers: int = 1
) -> pd.DataFrame:
    """Each phone number's country, region, type, validity and area, by libphonenumber.

    One call per distinct number; North American numbers are worked out all at once.

    Parameters
    ----------
    numbers : pandas.DataFrame or pandas.Series
        A numbers table (``tables.numbers``), or a Series of numbers.
    column : str, default "phone_number"
        The column that holds the numbers.
    workers : int, default 1
        More than 1 spreads the calls over that many processes (worth it from about 100,000
        distinct numbers; a script that uses it needs the usual ``__main__`` guard).

    Returns
    -------
    pandas.DataFrame
        The table with ``country_code``, ``region_code``, ``number_type``, ``is_valid``,
        ``area`` (such as a US state or city) and ``e164`` added.

    Examples
    --------
    >>> import pandas as pd
    >>> row = poolkit.enrich_numbers(pd.Series(["+14155552671"])).iloc[0]
    >>> row["region_code"], row["number_type"], row["area"]
    ('US', 'fixed_line_or_mobile', 'San Francisco, CA')
    """
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

#: The number types ``_number_type_helper`` tries before fixed line and mobile, in its order.
_TYPE_ORDER = (
    "premium_rate",
    "toll_free",
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


def _types_in(metadata, nsn: pa.Array) -> np.ndarray:
    """``_number_type_helper``'s answer for each national number against ``metadata``, its
    checks made in its order, each only on the numbers no earlier check typed."""
    kinds = np.full(len(nsn), PhoneNumberType.UNKNOWN, dtype=np.int8)

    def fits(rows: np.ndarray, desc) -> np.ndarray:
        return rows[_matches(_take(nsn, rows), desc)] if len(rows) else rows

    open_ = np.flatnonzero(_matches(nsn, metadata.general_desc))
    for name in _TYPE_ORDER:
        typed = fits(open_, getattr(metadata, name))
        kinds[typed] = getattr(PhoneNumberType, name.upper())
        open_ = np.setdiff1d(open_, typed, assume_unique=True)
    fixed = fits(open_, metadata.fixed_line)
    if metadata.same_mobile_and_fixed_line_pattern:
        kinds[fixed] = PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kinds
    kinds[fixed] = PhoneNumberType.FIXED_LINE
    kinds[fits(fixed, metadata.mobile)] = PhoneNumberType.FIXED_LINE_OR_MOBILE
    kinds[fits(np.setdiff1d(open_, fixed, assume_unique=True), metadata.mobile)] = (
        PhoneNumberType.MOBILE
    )
    return kinds


def _regions_and_types(code: int, nsn: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``region_code_for_number`` and ``number_type`` of each national number of the country
    code ``code``, following the walk ``region_code_for_number`` makes through the regions
    that share a code: a region claims the numbers its leading digits start, or else those
    its patterns type."""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

    names = COUNTRY_CODE_TO_REGION_CODE[code]
    regions = np.full(len(nsn), None, dtype=object)
    kinds = np.full(len(nsn), PhoneNumberType.UNKNOWN, dtype=np.int8)
    open_ = np.arange(len(nsn))  # not yet given a region
    for name in names:
        metadata = PhoneMetadata.metadata_for_region(name, None)
        if not len(open_):
            break
        if metadata is None:  # never for the codes asked here (checked by the callers)
            continue
        waiting, by_digits = open_, len(names) > 1 and metadata.leading_digits is not None
        if by_digits:
            waiting = waiting[_starts(_take(nsn, waiting), metadata.leading_digits)]
        typed = _types_in(metadata, _take(nsn, waiting))
        claimed = by_digits or len(names) == 1 or typed != PhoneNumberType.UNKNOWN
        claimed = np.broadcast_to(claimed, typed.shape)
        regions[waiting[claimed]], kinds[waiting[claimed]] = name, typed[claimed]
        open_ = np.setdiff1d(open_, waiting[claimed], assume_unique=True)
    return regions, kinds


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
        if main is None or "001" in regions:  # non-geographic: left to phonenumbers
            continue
        rows = np.flatnonzero(codes == code)
        nsn = pc.utf8_slice_codeunits(_take(numbers, rows), 1 + len(str(code)))
        if main.national_prefix_for_parsing:
            rows = rows[~_starts(nsn, main.national_prefix_for_parsing)]
            nsn = pc.utf8_slice_codeunits(_take(numbers, rows), 1 + len(str(code)))
        _, kinds = _regions_and_types(code, nsn)
        confirmed[rows[kinds != PhoneNumberType.UNKNOWN]] = True
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
