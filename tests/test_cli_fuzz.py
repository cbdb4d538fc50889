"""The command line on folders of anything: hypothesis builds trees of random files (bytes,
JSON of any shape, truncated and empty files, pool responses, manifests, pages of numbers,
symlinks, nested folders) and runs every command on them. Never a traceback, always an exit
code of the README's table (one line on stderr for 2), nothing written outside ``--out``, and
the input left as it was."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from poolkit.cli import main

from conftest import envelope, make_pool
from robustness import fuzz, tally

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
RESPONSE = json.dumps(envelope(make_pool()))
names = st.sampled_from(
    ["L1.json", "L2.json", "a.json", "notes.txt", "manifest.json", "locations.json"]
    + ["L1.numbers.0.json", "x.JSON", ".hidden.json"]
)


@st.composite
def contents(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "response", "truncated", "empty", "envelope"]))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "response":
        return RESPONSE.encode()
    if kind == "truncated":
        return RESPONSE.encode()[: draw(st.integers(0, len(RESPONSE) - 1))]
    if kind == "envelope":  # an envelope around anything
        key = draw(st.sampled_from(["data", "pools", "numbers", "locations"]))
        return json.dumps({"success": draw(st.booleans()), key: draw(json_values)}).encode()
    return b""


@st.composite
def trees(draw) -> list[tuple[str, object]]:
    """(relative path, bytes | ("link", target)) entries of a folder to run commands on."""
    entries = []
    for _ in range(draw(st.integers(0, 6))):
        folder = draw(st.sampled_from(["", "sub/", "2026-11-19T080000Z/", "a/b/"]))
        path = folder + draw(names)
        if draw(st.integers(0, 7)) == 0:  # a symlink: to a file there, dangling, or to a folder
            target = draw(st.sampled_from(["L1.json", "nowhere.json", "sub", ".."]))
            entries.append((path, ("link", target)))
        else:
            entries.append((path, draw(contents())))
    return entries


def build(root: Path, tree) -> None:
    for relative, content in tree:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            continue
        if isinstance(content, tuple):
            path.symlink_to(content[1])
        else:
            path.write_bytes(content)


def state(root: Path) -> dict[str, str]:
    """Every entry below ``root`` (links not followed), with its bytes' hash or target."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                out[key] = "-> " + os.readlink(path)
            elif path.is_file():
                out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[key] = "folder"
    return out


def run_everywhere(tree, commands) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        data, out = root / "data", root / "out"
        data.mkdir()
        build(data, tree)
        before = state(data)
        others = [data, data / "sub", data / "2026-11-19T080000Z", data / "L1.json"]
        for args in commands(data, others, out):
            with _captured() as err:
                code = main(args)
            text = err.getvalue()
            assert code in (0, 1, 2), (args, code)
            tally(f"command lines run on generated folders, exit {code}")
            assert "Traceback" not in text, (args, text)
            if code == 2:
                assert text.startswith("poolkit: error: ") and text.count("\n") == 1, text
            assert state(data) == before, args  # the input is left as it was
            outside = set(state(root)) - {k for k in state(root) if k.startswith("out")}
            assert outside == {f"data/{k}" for k in before} | {"data"}, args


class _captured:
    """stderr of an in-process command (pytest's capsys cannot be used within hypothesis)."""

    def __enter__(self):
        import io
        import sys

        self.real, sys.stderr = sys.stderr, io.StringIO()
        return sys.stderr

    def __exit__(self, *exc):
        import sys

        sys.stderr = self.real


def every_command_but_the_report(data: Path, others: list[Path], out: Path):
    for target in others:
        yield ["tidy", str(target), "--out", str(out / "dataset")]
        yield ["audit", str(target), "--format", "csv", "--out", str(out / "f.csv")]
    yield ["tidy", str(data / "*.json"), "--out", str(out / "dataset")]  # a glob, appended
    yield ["diff", str(data), str(data / "2026-11-19T080000Z"), "--out", str(out / "c.csv")]
    yield ["diff", str(data / "sub"), str(data / "a"), "--format", "json"]


@fuzz(20, 1000)
@given(tree=trees())
def test_tidy_audit_and_diff_on_folders_of_anything(tree):
    run_everywhere(tree, every_command_but_the_report)


@fuzz(4, 100)
@given(tree=trees())
def test_the_report_on_folders_of_anything(tree):
    def report(data: Path, others: list[Path], out: Path):
        yield ["report", str(data), "--out", str(out / "report.html")]

    run_everywhere(tree, report)
