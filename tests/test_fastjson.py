"""The fast path: the compiled parser takes exactly the clean responses and reads them as
the careful path does; anything else is read by the careful path, with its problem rows.
Every case runs with the compiled reader and parser, and as where no compiler was (the
Python reader and Arrow's parser)."""

from __future__ import annotations

import json
import shutil
import sysconfig
from contextlib import contextmanager, nullcontext
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import poolkit
from poolkit import tidy

from conftest import POOL, envelope, make_pool
from robustness import tally


def line(doc, **dumps) -> bytes:
    return json.dumps(doc, separators=(",", ":"), **dumps).encode()


def with_name(name: str) -> bytes:
    return line(envelope(make_pool(name=name)))


CLEAN = {
    "reference example": line(envelope(make_pool())),
    "keys in reverse order": line({"total": 1, "data": [dict(reversed(list(
        make_pool(numbers=[{"friendlyName": "f", "phoneNumber": "+14155552671"}],
                  inboundCallService={"value": "v", "type": "ivr"}).items())))], "success": True}),
    "spaces between tokens": json.dumps(envelope(make_pool()), separators=(" , ", " : ")).encode(),
    "tabs between tokens": line(envelope(make_pool())).replace(b":", b"\t:\t"),
    "every escape": with_name('q"b\\s/b\bf\fn\nr\rt\t'),
    "unicode escapes": with_name("caf\u00e9 \u4e2d \U0001F600 \u0000 \u001f"),
    "raw UTF-8": line(envelope(make_pool(name="café 中文 😀 \u07ff \uffff")), ensure_ascii=False),
    "nulls for every optional field": line(envelope(make_pool(
        name=None, forwardingNumber=None, whisper=None, whisperMessage=None, callRecording=None,
        isActive=None, inboundCallService=None, numbers=[{"phoneNumber": "+14155552671", "friendlyName": None}]))),
    "only the required fields": line(envelope({"id": "p", "locationId": "L", "numbers": [{"phoneNumber": "+442071838750"}]})),
    "empty forwarding number means none": line(envelope(make_pool(forwardingNumber=""))),
    "service without a value": line(envelope(make_pool(inboundCallService={"type": "ivr"}))),
    "no numbers": line(envelope(make_pool(numbers=[]))),
    "no pools": line(envelope()),
    "no success field": line({"data": [POOL], "total": 1}),
    "success null": line({"success": None, "data": [POOL], "total": 1}),
    "one id in two locations": line(envelope(make_pool(), make_pool(locationId="other"))),
    "15-digit phone number": line(envelope(make_pool(numbers=[{"phoneNumber": "+123456789012345"}]))),
}

NOT_CLEAN = {
    "success false": line({"success": False, "data": [], "total": 0}),
    "total disagrees": line(envelope(make_pool(), total=3)),
    "total as a float": line(envelope(make_pool())).replace(b'"total":1', b'"total":1.0'),
    "total as a string": line(envelope(make_pool())).replace(b'"total":1', b'"total":"1"'),
    "total with a leading zero": line(envelope(make_pool())).replace(b'"total":1', b'"total":01'),
    "total negative": line(envelope(make_pool(), total=-1)),
    "total huge": line(envelope(make_pool(), total=10**30)),
    "no total": line({"success": True, "data": [POOL]}),
    "unknown envelope field": line({**envelope(make_pool()), "meta": {}}),
    "unknown pool field": line(envelope(make_pool(extra=[1, {"a": None}]))),
    "unknown number field": line(envelope(make_pool(numbers=[{"phoneNumber": "+14155552671", "sid": "x"}]))),
    "repeated key": line(envelope(make_pool())).replace(b'"name":', b'"name":"a","name":', 1),
    "repeated pool id": line(envelope(make_pool(), make_pool())),
    "empty id": line(envelope(make_pool(id=""))),
    "null id": line(envelope(make_pool(id=None))),
    "numeric id": line(envelope(make_pool(id=5))),
    "no locationId": line(envelope({k: v for k, v in POOL.items() if k != "locationId"})),
    "numbers null": line(envelope(make_pool(numbers=None))),
    "numbers an object": line(envelope(make_pool(numbers={}))),
    "number entry null": line(envelope(make_pool(numbers=[None]))),
    "phone not E.164": line(envelope(make_pool(numbers=[{"phoneNumber": "415-555-0100"}]))),
    "phone with a leading 0": line(envelope(make_pool(numbers=[{"phoneNumber": "+0123456"}]))),
    "phone too long": line(envelope(make_pool(numbers=[{"phoneNumber": "+1234567890123456"}]))),
    "phone too short": line(envelope(make_pool(numbers=[{"phoneNumber": "+1"}]))),
    "phone null": line(envelope(make_pool(numbers=[{"phoneNumber": None}]))),
    "phone missing": line(envelope(make_pool(numbers=[{"friendlyName": "f"}]))),
    "phone as escaped digits": line(envelope(make_pool(numbers=[{"phoneNumber": "+1415\u0665552671"}]))),
    "blank forwarding number": line(envelope(make_pool(forwardingNumber=" "))),
    "flag as a string": line(envelope(make_pool(whisper="yes"))),
    "flag as a number": line(envelope(make_pool(isActive=1))),
    "empty service": line(envelope(make_pool(inboundCallService={}))),
    "service with an empty type": line(envelope(make_pool(inboundCallService={"type": ""}))),
    "service as a string": line(envelope(make_pool(inboundCallService="ivr"))),
    "service value a number": line(envelope(make_pool(inboundCallService={"type": "ivr", "value": 5}))),
    "name a number": line(envelope(make_pool(name=5))),
    "overlong UTF-8": with_name("x").replace(b'"x"', b'"\xc0\x80"'),
    "UTF-8 surrogate": with_name("x").replace(b'"x"', b'"\xed\xa0\x80"'),
    "byte 0xff": with_name("x").replace(b'"x"', b'"\xff"'),
    "cut UTF-8 sequence": with_name("x").replace(b'"x"', b'"\xe4\xb8"'),
    "unpaired high surrogate": with_name("x").replace(b'"x"', b'"\\ud800"'),
    "unpaired low surrogate": with_name("x").replace(b'"x"', b'"\\udc00"'),
    "high surrogate then a letter": with_name("x").replace(b'"x"', b'"\\ud800\\u0041"'),
    "raw control character": with_name("x").replace(b'"x"', b'"\x01"'),
    "unknown escape": with_name("x").replace(b'"x"', b'"\\x"'),
    "trailing bracket": line(envelope(make_pool())) + b"}",
    "v3 wrapper": line({"status": 200, "data": {"data": [POOL], "total": 1}}),
}


@pytest.fixture(params=["compiled", "arrow"])
def parser(request):
    """Which fast path read_pools uses: the compiled one, or the one used where none was built."""
    if request.param == "compiled" and tidy._fastjson is None:
        pytest.skip("the C parser is not built here")
    with mock.patch.object(tidy, "_fastjson", tidy._fastjson if request.param == "compiled" else None):
        yield request.param


@contextmanager
def careful_only():
    with mock.patch.object(tidy, "_fast_piece", lambda names, lines: None):
        yield


def read_both(path: Path) -> tuple:
    """(fast path result, careful path result): the tables, or the error's type."""
    results = []
    for context in (nullcontext(), careful_only()):
        with context:
            try:
                results.append(poolkit.read_pools(path))
            except poolkit.SourceError as exc:
                results.append(type(exc))
    return tuple(results)


def assert_same(fast, careful) -> None:
    if isinstance(careful, type):
        assert fast is careful
        return
    for name, frame in careful:
        pd.testing.assert_frame_equal(getattr(fast, name), frame)


def test_the_c_parser_is_built_where_a_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not shutil.which(compiler) or not headers.exists():
        pytest.skip(f"no C compiler ({compiler}) or no {headers} here: the fast path is the Python one")
    assert tidy._fastjson is not None, "poolkit was installed where it can be compiled, but _fastjson was not built"


@pytest.mark.parametrize("case", CLEAN)
def test_clean_responses_take_the_fast_path_and_read_as_the_careful_path_does(case, parser, tmp_path):
    raw = CLEAN[case]
    assert tidy._fast_piece(["r.json"], memoryview(raw + b"\n")) is not None
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    fast, careful = read_both(path)
    assert_same(fast, careful)
    if case == "unicode escapes":  # decoded, not kept as written
        assert fast.pools["name"].iloc[0] == "caf\u00e9 \u4e2d \U0001F600 \u0000 \u001f"


@pytest.mark.parametrize("case", NOT_CLEAN)
def test_responses_that_are_not_clean_go_to_the_careful_path(case, parser, tmp_path):
    raw = NOT_CLEAN[case]
    assert tidy._fast_piece(["r.json"], memoryview(raw + b"\n")) is None
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    assert_same(*read_both(path))


def test_a_batch_with_broken_files_is_halved_down_to_them(parser, tmp_path, monkeypatch):
    """Many clean files and a few broken ones in one batch: the broken ones, and only
    they, are read by the careful path; the tables are the careful path's."""
    monkeypatch.setattr(tidy, "_FAST_BATCH_BYTES", 8_000)
    broken = {7: NOT_CLEAN["repeated pool id"], 30: NOT_CLEAN["phone not E.164"], 31: NOT_CLEAN["UTF-8 surrogate"]}
    for k in range(60):
        raw = broken.get(k, line(envelope(make_pool(id=f"p{k}"), make_pool(id=f"q{k}"))))
        (tmp_path / f"{k:03d}.json").write_bytes(raw)
    parsed = []
    original = tidy._fast_piece
    monkeypatch.setattr(tidy, "_fast_piece", lambda names, lines: parsed.append(names) or original(names, lines))
    fast = poolkit.read_pools(tmp_path, errors="record")
    monkeypatch.setattr(tidy, "_fast_piece", lambda names, lines: None)
    careful = poolkit.read_pools(tmp_path, errors="record")
    assert_same(fast, careful)
    assert set(careful.problems["source"]) == {str(tmp_path / f"{k:03d}.json") for k in broken}
    assert max(map(len, parsed)) > tidy._FAST_MIN_FILES  # batches, not file by file


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b" \t\n\n"])
def test_trailing_whitespace_keeps_a_file_on_the_fast_path(ending, parser, tmp_path, monkeypatch):
    calls = []
    original = tidy._fast_piece
    monkeypatch.setattr(tidy, "_fast_piece", lambda names, lines: calls.append(original(names, lines)) or calls[-1])
    for k in range(10):
        (tmp_path / f"{k}.json").write_bytes(line(envelope(make_pool(id=f"p{k}"))) + ending)
    tables = poolkit.read_pools(tmp_path)
    assert len(tables.pools) == 10 and calls and all(piece is not None for piece in calls)


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbf" + line(envelope(make_pool())),  # UTF-8 byte order mark
    b"  " + line(envelope(make_pool())),            # leading space
    b"[" + line(make_pool()) + b"]",                # a bare list
    line(envelope(make_pool())).replace(b",", b",\r", 1),  # a line break inside
    b"", b"null", b"{}",
])
def test_other_shapes_are_read_by_the_careful_path_alike(raw, parser, tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    assert_same(*read_both(path))


def test_a_file_bigger_than_the_read_buffer(parser, tmp_path, monkeypatch):
    """A response bigger than the read buffer, after smaller ones, is read whole and
    parsed as a batch of its own."""
    monkeypatch.setattr(tidy, "_FAST_BATCH_BYTES", 4_000)
    (tmp_path / "a.json").write_bytes(line(envelope(make_pool(id="small"))))
    numbers = [{"phoneNumber": f"+1415{i:07d}", "friendlyName": f"line {i}"} for i in range(40_000)]
    (tmp_path / "b.json").write_bytes(line(envelope(make_pool(numbers=numbers))))
    assert (tmp_path / "b.json").stat().st_size > tidy._FAST_BATCH_BYTES + (1 << 20)
    fast, careful = read_both(tmp_path)
    assert_same(fast, careful)
    assert fast.numbers["phone_number"].iloc[-1] == "+14150039999"


INTERESTING = b'{}[]",:\\/ \t\n0129+-.eE' + b"tfnu\x00\x1f\x7f\x80\xbf\xc2\xe0\xed\xf0\xf4\xff"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(sorted(CLEAN)), edits=st.lists(st.tuples(
    st.sampled_from(["insert", "delete", "replace"]), st.integers(0, 10**6), st.sampled_from(list(INTERESTING))),
    min_size=1, max_size=4))
def test_mutated_bytes_are_read_as_the_careful_path_reads_them(case, edits, parser, tmp_path):
    """Random byte edits of clean responses: the fast path never crashes, and what it
    reads is what the careful path reads (or the same error)."""
    tally("mutated one-line responses (fast path against careful)")
    raw = bytearray(CLEAN[case])
    for kind, at, byte in edits:
        at %= len(raw) + (kind == "insert")
        if kind == "insert":
            raw.insert(at, byte)
        elif len(raw) > 1:
            if kind == "delete":
                del raw[at]
            else:
                raw[at] = byte
    path = tmp_path / f"{parser}.json"
    path.write_bytes(bytes(raw))
    assert_same(*read_both(path))


def test_an_unreadable_file_among_good_ones(parser, tmp_path):
    for k in range(20):
        (tmp_path / f"{k:02d}.json").write_bytes(line(envelope(make_pool(id=f"p{k}"))))
    (tmp_path / "05-gone.json").symlink_to(tmp_path / "nowhere")
    with pytest.raises(poolkit.UnreadableSourceError, match="05-gone.json.*No such file"):
        poolkit.read_pools(tmp_path)
    tables = poolkit.read_pools(tmp_path, errors="record")
    assert tables.pools["pool_id"].tolist() == [f"p{k}" for k in range(20)]
    assert tables.problems["source"].tolist() == [str(tmp_path / "05-gone.json")]
