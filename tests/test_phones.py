"""enrich_numbers gives exactly phonenumbers' answers, row by row, on varied and broad sets."""

from __future__ import annotations

import random
import re

import pandas as pd
import phonenumbers
from phonenumbers import geocoder

import poolkit
from poolkit.phones import ENRICH_COLUMNS, describe, enrich_numbers


def as_tuples(frame: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame[list(ENRICH_COLUMNS)].itertuples(index=False)
    ]


def reference(number: str | None) -> tuple:
    """phonenumbers called on one number, written here independently of poolkit.phones."""
    if number is None:
        return (None,) * 6
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return (None, None, None, False, None, None)
    kind = {v: k.lower() for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()}
    return (
        parsed.country_code,
        phonenumbers.region_code_for_number(parsed),
        kind[phonenumbers.number_type(parsed)],
        phonenumbers.is_valid_number(parsed),
        geocoder.description_for_number(parsed, "en") or None,
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
    )


def assert_identical(numbers: list) -> pd.DataFrame:
    enriched = enrich_numbers(pd.Series(numbers, dtype="string"))
    expected = [reference(n) for n in numbers]
    assert [describe(n) for n in numbers] == expected
    got = as_tuples(enriched)
    mismatches = [(n, g, e) for n, g, e in zip(numbers, got, expected) if g != e]
    assert mismatches == [], mismatches[:5]
    return enriched


VARIED = [
    "+14155552671",
    "+14155550199",
    "+12125550100",
    "+16045551234",
    "+14165550000",
    "+18005550100",
    "+18885550123",
    "+442071838750",
    "+447911123456",
    "+61293744000",
    "+61412345678",
    "+4930123456",
    "+390612345678",
    "+5491123456789",
    "+525512345678",
    "+80012345678",
    "+1415555",
    "+999123",
    "(415) 555-2671",
    "14155552671",
    "020 7183 8750",
    "",
    None,
    "+1 415 555 2671",
    "+12465211234",
]


def test_varied_numbers_match_phonenumbers_exactly():
    enriched = assert_identical(VARIED)
    first = enriched.iloc[0]
    assert (
        first.country_code,
        first.region_code,
        first.number_type,
        first.is_valid,
        first.area,
        first.e164,
    ) == (1, "US", "fixed_line_or_mobile", True, "San Francisco, CA", "+14155552671")
    assert enriched.iloc[5].number_type == "toll_free" and enriched.iloc[3].region_code == "CA"
    assert enriched.iloc[7].area == "London" and enriched.iloc[9].region_code == "AU"
    assert not enriched.iloc[16].is_valid and pd.isna(
        enriched.iloc[18].e164
    )  # too short; not E.164
    assert [str(enriched[c].dtype) for c in ENRICH_COLUMNS] == [
        "Int64",
        "string",
        "category",
        "boolean",
        "string",
        "string",
    ]


def test_every_region_and_type_with_many_numbers_per_prefix():
    """Example numbers of every region and type, each with 12 siblings that differ in the
    last digits (so prefix groups hold many numbers), and some in other digits."""
    rng = random.Random(5)
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.TOLL_FREE,
            phonenumbers.PhoneNumberType.VOIP,
        ):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            numbers.append(e164)
            for _ in range(12):
                cut = rng.choice([1, 2, 3, 4, 5, 6])
                numbers.append(e164[:-cut] + "".join(rng.choice("0123456789") for _ in range(cut)))
    assert len(numbers) > 5000
    assert_identical(numbers)


def test_every_north_american_area_code_and_exchange_kind():
    """Random numbers under every area code from 200 to 999 (the US, Canada, the Caribbean
    regions that share +1, toll-free, premium, personal and unassigned codes), each with
    exchanges of every first digit: the Arrow walk of the regions against phonenumbers."""
    rng = random.Random(8)
    numbers = [
        f"+1{area}{exchange}{rng.randint(0, 999_999):06d}"
        for area in range(200, 1000)
        for exchange in rng.sample(range(10), 5)
    ]
    enriched = assert_identical(numbers)
    assert enriched["region_code"].nunique() > 20  # the Caribbean regions among them
    assert {"toll_free", "fixed_line_or_mobile", "unknown"} <= set(enriched["number_type"])


def test_numbers_table_keeps_its_columns_and_gains_the_enriched_ones():
    plain = poolkit.load_sample().numbers
    numbers = enrich_numbers(plain)
    assert list(numbers.columns[:6]) == [
        "location_id",
        "pool_id",
        "position",
        "phone_number",
        "friendly_name",
        "number_source",
    ]
    assert list(numbers.columns[6:12]) == list(ENRICH_COLUMNS)
    assert as_tuples(numbers) == [
        describe(n)
        for n in plain["phone_number"].astype(object).where(plain["phone_number"].notna(), None)
    ]
    assert set(numbers["region_code"].dropna()) == {"US", "CA"}
    assert numbers["number_type"].isin(["toll_free"]).sum() > 50


def test_each_distinct_number_is_described_once(monkeypatch):
    import poolkit.phones as phones

    calls, parsed = [], []
    real, one_by_one = phones._describe_all, phones.describe
    monkeypatch.setattr(phones, "_describe_all", lambda n: calls.extend(n) or real(n))
    monkeypatch.setattr(phones, "describe", lambda n: parsed.append(n) or one_by_one(n))
    numbers = pd.Series(
        ["+14155552671", "+18005550100", None, "+14155552671", "+442071838750", 7] * 50,
        dtype=object,
    )
    enriched = enrich_numbers(numbers)
    assert sorted(map(str, calls)) == ["+14155552671", "+18005550100", "+442071838750", "7"]
    assert sorted(map(str, parsed)) == ["+442071838750", "7"]  # North American: no parse
    assert enriched["e164"].tolist()[:4] == ["+14155552671", "+18005550100", pd.NA, "+14155552671"]
    assert enriched.index.equals(numbers.index)


def test_two_processes_give_the_same_answers(monkeypatch):
    import poolkit.phones as phones

    monkeypatch.setattr(phones, "_PER_TASK", 40)  # several tasks on a small input
    started = []
    real = phones.ProcessPoolExecutor
    monkeypatch.setattr(
        phones, "ProcessPoolExecutor", lambda *a, **k: started.append(a) or real(*a, **k)
    )
    rng = random.Random(3)
    numbers = pd.Series(
        [f"+1415{rng.randint(0, 9999999):07d}" for _ in range(200)] + ["x", None], dtype="string"
    )
    pd.testing.assert_frame_equal(enrich_numbers(numbers, workers=2), enrich_numbers(numbers))
    assert started == [(2,)]  # the two-process run used a pool of two, the other none


def reference_valid(number: str | None) -> bool | None:
    """phonenumbers.is_valid_number, called here independently of poolkit.phones."""
    if number is None:
        return None
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def test_valid_numbers_answer_as_phonenumbers_does_for_every_code_and_region(monkeypatch):
    """The vectorised check against the library on every region's examples and their
    neighbours, random digits after every country code (most invalid), shared codes (+1, +7,
    +44), national prefixes after the code (+1 1...), and text that is not ``+digits``."""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    rng = random.Random(11)
    numbers = list(VARIED)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                numbers += [e164, e164[:-2] + f"{rng.randint(0, 99):02d}", e164 + "1", e164[:-1]]
    codes = sorted(COUNTRY_CODE_TO_REGION_CODE) + [1] * 40 + [7, 44] * 10
    numbers += [
        f"+{rng.choice(codes)}" + "".join(rng.choices("0123456789", k=rng.randint(1, 13)))
        for _ in range(6000)
    ]
    numbers += ["+112125550100", "+1 212 555 0100", "+0123456", "+", "+1", "12125550100"]
    expected = [reference_valid(n) for n in numbers]
    assert 1500 < sum(e is True for e in expected) < len(numbers) - 3000  # both answers common
    calls = []
    monkeypatch.setattr(poolkit.phones, "is_valid", lambda n: calls.append(n) or reference_valid(n))
    got = poolkit.phones.valid_numbers(pd.Series(numbers, dtype="string"))
    assert str(got.dtype) == "boolean"
    assert [None if pd.isna(g) else bool(g) for g in got] == expected
    # the library is asked once per value the patterns did not confirm: never of a valid
    # +1 number with no national prefix (most of an agency's numbers)
    plain_nanp = {n for n, e in zip(numbers, expected) if e and re.fullmatch(r"\+1[2-9]\d{9}", n)}
    assert len(plain_nanp) > 100
    assert len(calls) == len(set(calls)) and not set(calls) & plain_nanp
