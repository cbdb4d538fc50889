"""Phone-number enrichment with Google's libphonenumber rules (the ``phonenumbers`` package).

``describe(number)`` is the reference: one call of ``phonenumbers`` per number (about 60 µs).
``enrich_numbers`` gives exactly the same answers, faster: numbers that share a prefix share
every answer whenever libphonenumber's own metadata says the remaining digits cannot matter.
For each country code and length that bound is derived from the metadata itself:

- every number pattern (general, fixed line, mobile, toll free, ...) is parsed, and the
  number of trailing digits it matches with a plain ``\\d`` in every alternative is how many
  final digits cannot change whether it matches;
- the national-prefix and leading-digit patterns are matched at the start, so only their
  maximum width counts;
- the geocoder looks up at most the longest prefix it holds for the country code.

One number per prefix group is described, and a second one is described as a check; a
group whose two answers differ (or whose country was not analysable) is described number
by number. Nothing is guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from .tidy import E164_PATTERN

try:  # CPython's regular-expression parser (public as sre_parse before 3.11)
    import re._parser as _sre
    import re._constants as _C
except ImportError:  # pragma: no cover
    import sre_constants as _C
    import sre_parse as _sre

__all__ = ["ENRICH_COLUMNS", "describe", "enrich_numbers"]

#: Columns added to the numbers table, in order, with their dtypes.
ENRICH_COLUMNS = {"country_code": "Int64", "region_code": "string", "number_type": "category",
                  "is_valid": "boolean", "area": "string", "e164": "string"}
TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items()
              if name.isupper() and isinstance(value, int)}
_DESCS = ("general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
          "personal_number", "voip", "pager", "uan", "voicemail", "no_international_dialling")


def describe(number: object) -> tuple:
    """The reference answer for one number, straight from ``phonenumbers``:
    ``(country_code, region_code, number_type, is_valid, area, e164)``."""
    from phonenumbers import geocoder  # loads the geocoding tables (0.4 s): only when used

    if not isinstance(number, str):
        return (None, None, None, None, None, None)
    try:
        parsed = phonenumbers.parse(number, None)
    except NumberParseException:
        return (None, None, None, False, None, None)
    return (parsed.country_code, phonenumbers.region_code_for_number(parsed),
            TYPE_NAMES[phonenumbers.number_type(parsed)], phonenumbers.is_valid_number(parsed),
            geocoder.description_for_number(parsed, "en") or None,
            phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


# ----------------------------------------------------------------------------- metadata analysis

def _free_tail(items) -> int:
    """How many final characters every match of this concatenation takes with a bare digit class."""
    count = 0
    for op, av in reversed(list(items)):
        if op is _C.IN and _any_digit(av):
            count += 1
            continue
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            low, high, body = av
            if len(body) == 1 and body[0][0] is _C.IN and _any_digit(body[0][1]):
                count += low
                if low == high:
                    continue
            return count
        if op is _C.SUBPATTERN:
            return count + _free_tail(av[-1])
        if op is _C.BRANCH:
            return count + min(_free_tail(alternative) for alternative in av[1])
        return count
    return count


def _any_digit(av) -> bool:
    return av in ([(_C.CATEGORY, _C.CATEGORY_DIGIT)], [(_C.RANGE, (48, 57))])


def _has_lookaround(items) -> bool:
    for op, av in items:
        if op in (_C.ASSERT, _C.ASSERT_NOT, _C.GROUPREF, _C.GROUPREF_EXISTS, _C.AT):
            return True
        children = (av[-1],) if op in (_C.SUBPATTERN, _C.MAX_REPEAT, _C.MIN_REPEAT) else \
            av[1] if op is _C.BRANCH else ()
        if any(_has_lookaround(child) for child in children):
            return True
    return False


def _free_tail_of(pattern: str | None) -> int:
    if pattern is None:
        return 99
    tree = _sre.parse(pattern)
    return 0 if _has_lookaround(tree) else _free_tail(tree)


def _head_width(pattern: str | None, length: int) -> int:
    """How many leading characters a start-anchored pattern can look at in a string of
    ``length`` digits (99: unknown). An alternative that must end at ``$`` but is shorter
    than ``length`` can never match, so it does not count."""
    if pattern is None:
        return 0
    tree = _sre.parse(pattern)
    items = list(tree)
    alternatives = items[0][1][1] if len(items) == 1 and items[0][0] is _C.BRANCH else [items]
    widest = 0
    for alternative in alternatives:
        alternative = list(alternative)
        if alternative and alternative[-1] == (_C.AT, _C.AT_END):
            body = _sre.SubPattern(tree.state, alternative[:-1])
            if not _has_lookaround(body) and body.getwidth()[1] < length:
                continue
            return 99
        if _has_lookaround(alternative):
            return 99
        widest = max(widest, _sre.SubPattern(tree.state, alternative).getwidth()[1])
    return min(widest, 99)


@lru_cache(maxsize=None)
def _country(country_code: int):
    """``(main region metadata, [(leading digits, metadata)], lead width, geocoder prefix)``
    for a country code, or ``None`` when its numbers must be described one by one."""
    if phonenumbers.country_mobile_token(country_code):
        return None  # the geocoder re-parses such numbers (Argentina, Mexico)
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    metadata = [PhoneMetadata.metadata_for_nongeo_region(country_code) if region == "001"
                else PhoneMetadata.metadata_for_region(region) for region in regions]
    if any(m is None for m in metadata):
        return None
    try:
        lead = max(_head_width(m.leading_digits, 99) for m in metadata)
    except Exception:
        return None
    prefix = str(country_code)
    geo = max((len(key) for key in _geo_keys(prefix[0]) if key.startswith(prefix)), default=0)
    return metadata[0], [(m.leading_digits, m) for m in metadata], lead, geo


@lru_cache(maxsize=None)
def _geo_keys(first_digit: str) -> tuple[str, ...]:
    from phonenumbers.geodata import GEOCODE_DATA

    return tuple(key for key in GEOCODE_DATA if key.startswith(first_digit))


@lru_cache(maxsize=None)
def _shared_tail(country: str, national_length: int, lead: str) -> int:
    """How many final digits of ``+<country><national>`` cannot change any answer, for
    national numbers of that length starting with ``lead``.

    parse() strips a national prefix with the main region's pattern; region detection
    tries each region of the country code (by its leading digits when it has them, else
    by its patterns); validity, type and geocoding then use that region's patterns and
    the geocoder's prefixes. Every pattern that can be reached counts."""
    info = _country(int(country))
    if info is None or len(lead) < info[2] or info[2] >= 99:
        return 0
    main, regions, lead_width, geo = info
    try:
        reachable = [m for digits, m in regions if digits is None or re.match(digits, lead)]
        tail = min(_free_tail_of(getattr(getattr(m, name), "national_number_pattern", None))
                   for m in reachable for name in _DESCS if getattr(m, name) is not None)
        head = _head_width(main.national_prefix_for_parsing, national_length)
        # a national prefix can only be stripped if its pattern matches the leading digits
        stripped = head > 0 and (head > len(lead) or re.match(main.national_prefix_for_parsing, lead))
    except Exception:  # a pattern this analysis does not understand: no shortcut
        return 0
    shortest = national_length - head if stripped else national_length
    return max(0, min(tail, shortest, len(country) + shortest - geo, national_length - lead_width,
                      national_length - 1))


@lru_cache(maxsize=4096)
def _country_of(prefix3: str) -> str | None:
    for size in (1, 2, 3):
        if int(prefix3[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return prefix3[:size]
    return None


# ----------------------------------------------------------------------------- enrichment

def enrich_numbers(numbers: pd.DataFrame | pd.Series, column: str = "phone_number") -> pd.DataFrame:
    """Add ``country_code``, ``region_code``, ``number_type``, ``is_valid``, ``area`` (the
    geographic description, such as a US state or city) and ``e164`` to a numbers table
    (or make them from a Series of numbers). Identical to ``describe`` on every row."""
    series = numbers if isinstance(numbers, pd.Series) else numbers[column]
    strings = series.astype("string[pyarrow]").reset_index(drop=True)
    strict = strings.str.fullmatch(E164_PATTERN).fillna(False).to_numpy(dtype=bool)
    columns = {name: np.full(len(strings), None, dtype=object) for name in ENRICH_COLUMNS}
    others = np.flatnonzero(~strict)
    if len(others):
        values = strings.iloc[others].astype(object).where(strings.iloc[others].notna(), None).tolist()
        answers = {value: describe(value) for value in set(values)}
        for name, column_values in zip(ENRICH_COLUMNS, zip(*(answers[v] for v in values))):
            columns[name][others] = column_values
    rows = np.flatnonzero(strict)
    if len(rows):
        _describe_by_prefix(strings.iloc[rows].reset_index(drop=True), rows, columns)
    frame = pd.DataFrame(columns, index=series.index)
    frame = frame.astype({c: t for c, t in ENRICH_COLUMNS.items() if t != "category"})
    frame["number_type"] = frame["number_type"].astype(pd.CategoricalDtype(sorted(TYPE_NAMES.values())))
    if isinstance(numbers, pd.Series):
        return frame
    return pd.concat([numbers.drop(columns=[c for c in ENRICH_COLUMNS if c in numbers]), frame], axis=1)


def _describe_by_prefix(strings: pd.Series, rows: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    """Describe E.164 strings: once per group of numbers sharing all but a provably
    irrelevant tail, checked on a second member; whole columns are then assembled."""
    prefix_codes, prefixes = pd.factorize(strings.str.slice(1, 4))
    countries = np.array([_country_of(p) for p in prefixes] + [None], dtype=object)[prefix_codes]
    lengths = strings.str.len().to_numpy(dtype=np.int64)
    tails = np.zeros(len(strings), dtype=np.int64)
    for country in pd.unique(countries):
        if not isinstance(country, str) or _country(int(country)) is None:
            continue
        in_country = np.flatnonzero(countries == country)
        width = _country(int(country))[2]
        leads = strings.iloc[in_country].str.slice(1 + len(country), 1 + len(country) + width).to_numpy(dtype=object)
        combos = pd.MultiIndex.from_arrays([lengths[in_country], leads])
        codes, uniques = pd.factorize(combos)
        per_combo = np.array([_shared_tail(country, int(n) - 1 - len(country), lead) for n, lead in uniques],
                             dtype=np.int64)
        tails[in_country] = per_combo[codes]
    keys = np.empty(len(strings), dtype=object)
    for (length, tail), members in pd.DataFrame({"n": lengths, "t": tails}).groupby(["n", "t"]).indices.items():
        kept = strings.iloc[members].str.slice(0, int(length) - int(tail))
        keys[members] = (f"{int(length)}:" + kept).to_numpy(dtype=object)
    codes, uniques = pd.factorize(keys)
    first = np.full(len(uniques), -1, dtype=np.int64)
    last = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    last[codes] = np.arange(len(codes))
    values = strings.to_numpy(dtype=object)
    shared = [None] * len(uniques)  # per group: the five shared answers and the e164 head
    heads = np.empty(len(uniques), dtype=object)
    alone = np.zeros(len(uniques), dtype=bool)  # groups described number by number
    for group in range(len(uniques)):
        a, b = first[group], last[group]
        tail = int(tails[a])
        answer = describe(values[a])
        shared[group] = answer[:5]
        if tail == 0:  # every member is its own group unless they are the same string
            heads[group] = answer[5]
            alone[group] = a != b
            continue
        check = describe(values[b]) if a != b else answer
        if check[:5] != answer[:5] or not _tail_kept(answer[5], values[a], tail) \
                or not _tail_kept(check[5], values[b], tail) or answer[5][:-tail] != check[5][:-tail]:
            alone[group] = True  # the metadata analysis did not hold here: no shortcut
            continue
        heads[group] = answer[5][:-tail]
    for name, position in zip(ENRICH_COLUMNS, range(5)):
        columns[name][rows] = np.array([answer[position] for answer in shared], dtype=object)[codes]
    e164 = heads[codes]
    for tail in np.unique(tails[tails > 0]):
        members = np.flatnonzero((tails == tail) & (e164 != None) & ~alone[codes])  # noqa: E711
        if len(members):
            e164[members] = (pd.Series(e164[members], dtype=object)
                             + strings.iloc[members].str.slice(-int(tail)).to_numpy(dtype=object)).to_numpy()
    columns["e164"][rows] = e164
    for member in np.flatnonzero(alone[codes]):
        for name, value in zip(ENRICH_COLUMNS, describe(values[member])):
            columns[name][rows[member]] = value


def _tail_kept(e164: str | None, number: str, tail: int) -> bool:
    return e164 is not None and len(e164) > tail and e164[-tail:] == number[-tail:]
