"""Property-based tests: generated pool responses, valid and broken in every way JSON allows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import poolkit
from poolkit.inputs import is_list_of_responses
from poolkit.schemas import SCHEMAS, SOURCE

from conftest import DTYPE_OF_KIND, POOL
from robustness import examples, tally

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
phone = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True) | st.sampled_from(
    ["", "415-555-0100", "+1", "+0123"]
)
number = st.fixed_dictionaries(
    {"phoneNumber": phone | json_values},
    optional={"friendlyName": st.text(max_size=20) | json_values, "sid": json_values},
)
ids = st.sampled_from(["p1", "p2", "p3", ""]) | st.text(
    min_size=1, max_size=12
)  # small set: duplicates happen


def maybe(valid):
    """A field that is usually valid, sometimes anything JSON allows."""
    return st.one_of(valid, valid, valid, json_values)


pool = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(ids),
        "name": maybe(st.text(max_size=30)),
        "locationId": maybe(st.sampled_from(["L1", "L2"])),
        "numbers": maybe(st.lists(st.one_of(number, number, json_values), max_size=6))
        | st.lists(number, min_size=40, max_size=120),  # huge lists too
        "forwardingNumber": maybe(phone),
        "whisper": maybe(st.booleans()),
        "whisperMessage": maybe(st.text(max_size=20)),
        "callRecording": maybe(st.booleans()),
        "isActive": maybe(st.booleans()),
        "inboundCallService": maybe(
            st.none()
            | st.fixed_dictionaries(
                {
                    "type": maybe(st.sampled_from(["voice_ai", "ivr", "forward", "workflow"])),
                    "value": maybe(st.text(max_size=10)),
                }
            )
        ),
        "extraField": json_values,
    },
)
pools = st.lists(st.one_of(pool, pool, pool, json_values), max_size=8)


@st.composite
def responses(draw):
    """A response in any accepted envelope, or a broken envelope."""
    data = draw(pools)
    shape = draw(st.sampled_from(["2021", "2021", "v3", "bare", "broken"]))
    if shape == "2021":
        return {"success": True, "data": data, "total": draw(st.just(len(data)) | json_values)}
    if shape == "v3":
        return {"status": 200, "statusCode": 200, "message": "ok", "data": data}
    if shape == "bare":
        return data
    return draw(
        json_values
        | st.fixed_dictionaries({"statusCode": st.integers(400, 599), "message": json_values})
        | st.fixed_dictionaries({"success": st.just(False), "data": st.just(data)})
    )


def pool_entries(doc):
    """The pool list of a response, or None when the envelope itself is broken."""
    if isinstance(doc, list):  # a bare list of pools; one holding no object is no response
        return doc if not doc or any(isinstance(entry, dict) for entry in doc) else None
    if (
        isinstance(doc, dict)
        and isinstance(doc.get("data"), list)
        and doc.get("success") is not False
        and not (type(doc.get("statusCode")) is int and doc["statusCode"] >= 400)
    ):
        return doc["data"]
    return None


def assert_documented_dtypes(tables):
    for name, frame in tables:
        for column, kind in SCHEMAS[name].items():
            assert str(frame[column].dtype) == DTYPE_OF_KIND[kind], (
                name,
                column,
                frame[column].dtype,
            )


def assert_nothing_lost(doc, tables):
    entries = pool_entries(doc)
    if entries is None:
        assert tables.pools.empty and len(tables.problems) >= 1
        assert tables.problems["source"].iloc[0].startswith("<memory>")
        return
    objects = [p for p in entries if type(p) is dict]
    assert len(tables.pools) == len(objects)
    recorded = set(tables.problems["path"])
    prefix = "data" if isinstance(doc, dict) else ""
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            assert f"{prefix}[{i}]" in recorded
    listed = sum(len(p["numbers"]) for p in objects if type(p.get("numbers")) is list)
    assert tables.pools["number_count"].sum() == listed == len(tables.numbers)


@settings(
    max_examples=examples(120, 800),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(responses())
def test_record_mode_never_raises_and_accounts_for_every_pool(doc):
    # in memory a response is a dict or a list (a string would be a path), and a list whose
    # entries all look like envelopes is read as a list of responses, as documented
    assume(isinstance(doc, dict) or (isinstance(doc, list) and not is_list_of_responses(doc)))
    tally("generated responses (in memory, errors='record')")
    tables = poolkit.read_pools(doc, errors="record")
    assert_documented_dtypes(tables)
    assert_nothing_lost(doc, tables)


@settings(
    max_examples=examples(45, 250),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(responses())
def test_files_raise_only_poolkit_errors_naming_the_file_whatever_their_layout(doc):
    """The same response pretty-printed, on one line with escapes and on one line as raw
    UTF-8: the same tables, or the same typed error naming the file."""
    tally("generated responses (as files, three layouts)")
    texts = {
        "pretty": json.dumps(doc, indent=2).encode(),
        "escaped": json.dumps(doc, separators=(",", ":")).encode(),
        "raw": json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        ),
    }
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for form, text in texts.items():
            path = Path(folder) / form / "response.json"
            path.parent.mkdir()
            path.write_bytes(text)
            try:
                results[form] = poolkit.read_pools(path)
            except poolkit.PoolkitError as exc:
                assert isinstance(exc, poolkit.errors.SourceError) and str(path) in str(exc)
                recorded = poolkit.read_pools(path, errors="record")
                assert recorded.pools.empty and recorded.problems["source"].tolist() == [str(path)]
                results[form] = type(exc)
        pretty = results.pop("pretty")
        if isinstance(pretty, type):
            assert set(results.values()) == {pretty} and pool_entries(doc) is None
            return
        assert_nothing_lost(doc, pretty)
        for form, tables in results.items():
            assert_documented_dtypes(tables)
            for name, frame in pretty:
                expected = frame.copy()
                column = SOURCE[name] if name in SOURCE else None
                if column in expected:
                    expected[column] = expected[column].str.replace(
                        "/pretty/", f"/{form}/", regex=False
                    )
                pd.testing.assert_frame_equal(
                    getattr(tables, name), expected, obj=f"{name} ({form})"
                )


INTERESTING = b'{}[]",:\\/ \t\n0129+-.eE' + b"tfnu\x00\x1f\x7f\x80\xbf\xc2\xe0\xed\xf0\xf4\xff"
CLEAN = json.dumps(
    {"success": True, "data": [POOL, dict(POOL, id="p2", numbers=[])], "total": 2},
    separators=(",", ":"),
    ensure_ascii=False,
).encode()


@settings(max_examples=examples(300, 3000), deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["insert", "delete", "replace"]),
            st.integers(0, 10**6),
            st.sampled_from(list(INTERESTING)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_bytes_give_tables_or_a_typed_error(edits):
    """Random byte edits of a clean response (brackets, quotes, escapes, digits, control
    bytes, invalid UTF-8): documented tables, or a SourceError naming the file."""
    tally("mutated one-line responses")
    raw = bytearray(CLEAN)
    for kind, at, byte in edits:
        at %= len(raw) + (kind == "insert")
        if kind == "insert":
            raw.insert(at, byte)
        elif len(raw) > 1:
            if kind == "delete":
                del raw[at]
            else:
                raw[at] = byte
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "response.json"
        path.write_bytes(bytes(raw))
        try:
            tables = poolkit.read_pools(path)
        except poolkit.errors.SourceError as exc:
            assert str(path) in str(exc)
            return
        assert_documented_dtypes(tables)
        assert tables.pools["number_count"].sum() == len(tables.numbers)


@settings(max_examples=examples(60, 60), deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4), st.integers(1, 2000))
def test_deep_nesting_and_huge_lists(depths, size):
    tally("generated responses (deep nesting, huge lists)")
    nested = "x"
    for depth in depths:
        for _ in range(depth * 200):
            nested = [nested]
    doc = {
        "success": True,
        "total": 2,
        "data": [
            dict(
                POOL,
                numbers=[
                    {"phoneNumber": f"+1415{i:07d}", "friendlyName": "n"} for i in range(size)
                ],
            ),
            dict(POOL, id="deep", numbers=[nested], name=nested),
        ],
    }
    tables = poolkit.read_pools(doc, errors="record")
    assert len(tables.numbers) == size + 1 and len(tables.pools) == 2
    assert_documented_dtypes(tables)


def test_unpaired_surrogates_in_parsed_dicts_become_problems_not_crashes():
    doc = {
        "data": [
            dict(
                POOL,
                id="a\ud800",
                name="b\udc00",
                extra="\ud800",
                numbers=[{"phoneNumber": "+1415\ud800", "friendlyName": "f\ud800"}],
            )
        ]
    }
    tables = poolkit.read_pools(doc)
    assert pd.isna(tables.pools["pool_id"].iloc[0]) and pd.isna(
        tables.numbers["phone_number"].iloc[0]
    )
    assert {"data[0].id", "data[0].name", "data[0].numbers[0].phoneNumber"} <= set(
        tables.problems["path"]
    )
