"""The house rules that keep poolkit simple: no import cycle (module- or function-level), no
compiled code of our own, one job per module, and no process-wide state touched at import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import poolkit

PACKAGE = Path(poolkit.__file__).resolve().parent


def poolkit_imports(path: Path) -> set[str]:
    """The poolkit modules a source file imports, at module level or inside functions."""
    module = "poolkit." + path.stem if path.stem != "__init__" else "poolkit"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "poolkit")
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from .x import y
                base = "poolkit" + (f".{node.module}" if node.module else "")
            elif (node.module or "").split(".")[0] == "poolkit":
                base = node.module
            else:
                continue
            found.add(base)
            if base == "poolkit":  # from . import analysis: the submodules themselves
                found.update(
                    f"poolkit.{a.name}" for a in node.names if (PACKAGE / f"{a.name}.py").exists()
                )
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        ("poolkit." + p.stem if p.stem != "__init__" else "poolkit"): poolkit_imports(p)
        for p in sorted(PACKAGE.glob("*.py"))
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search, as the path that closes it."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_cycles_inside_functions_too(tmp_path: Path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    source = tmp_path / "tidy.py"
    source.write_text("def f():\n    from .dataset import read\n    from . import phones\n")
    assert poolkit_imports(source) == {"poolkit.dataset", "poolkit", "poolkit.phones"}


def test_poolkit_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) >= 15 and graph["poolkit.analysis"]  # the graph was really built
    assert cycles(graph) == []


def test_nothing_below_imports_the_package_front():
    importers = [
        m
        for m, targets in import_graph().items()
        if "poolkit" in targets and m != "poolkit.__main__"
    ]
    assert importers == []


def test_the_reader_imports_neither_the_dataset_nor_phones_nor_dask():
    reader = {  # the tidy stage, one module per responsibility, and what each may import
        "tidy.py": {
            "poolkit.active_numbers",  # the active-number pages: the tidy stage's other reader
            "poolkit.columns",
            "poolkit.envelope",
            "poolkit.errors",
            "poolkit.inputs",
            "poolkit.location_rows",
            "poolkit.schemas",
            "poolkit.snapshot",
            "poolkit.tables",
            "poolkit.values",  # has_service: the services table
        },
        "inputs.py": {"poolkit.envelope", "poolkit.errors", "poolkit.schemas", "poolkit.snapshot"},
        "envelope.py": {"poolkit.errors"},
        "columns.py": {"poolkit.envelope", "poolkit.schemas"},
        "location_rows.py": {
            "poolkit.places",
            "poolkit.schemas",
            "poolkit.snapshot",
            "poolkit.values",
        },
        "places.py": set(),
        "values.py": set(),
        "active_numbers.py": {"poolkit.envelope", "poolkit.schemas", "poolkit.snapshot"},
    }
    for name, allowed in reader.items():
        assert poolkit_imports(PACKAGE / name) <= allowed, name
        source = (PACKAGE / name).read_text()
        assert "dask" not in source and "phonenumbers" not in source, name


def test_no_module_is_over_800_lines_and_no_private_name_crosses_modules():
    for module in PACKAGE.glob("*.py"):
        assert len(module.read_text().splitlines()) < 800, module.name
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                private = [a.name for a in node.names if re.match(r"_[^_]", a.name)]
                assert private == [], (module.name, private)


def test_no_compiled_code_of_our_own():
    ours = [
        p for p in PACKAGE.rglob("*") if p.suffix in {".c", ".pyx", ".cpp", ".rs", ".so", ".pyd"}
    ]
    assert ours == []
    assert not (PACKAGE.parent / "setup.py").exists()


def test_importing_poolkit_leaves_the_umask_alone():
    """Not even read and put back (another thread could create a file in between)."""
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    code = (
        "import os, importlib; calls = []; real = os.umask; "
        "os.umask = lambda m: calls.append(m) or real(m); "
        f"[importlib.import_module('poolkit.' + m) for m in {modules}]; print(calls)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_api_in_pandas_shape():
    """Issue 30: every error poolkit raises is in ``poolkit.errors`` and only the base class
    at the top level (the old top-level names warn for one version); ``import poolkit``
    makes ``poolkit.analysis`` and ``poolkit.plots`` usable, in a fresh interpreter; the
    ``rule`` decorator and the analysis entry points are where a user looks."""
    import warnings

    from poolkit import errors

    raised = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, poolkit.PoolkitError)
    }
    assert {"SnapshotError", "ReportError", "DatasetError", "NetworkError"} <= raised
    assert raised & set(poolkit.__all__) == {"PoolkitError"}
    for name in raised - {"PoolkitError"}:
        with pytest.warns(DeprecationWarning, match=f"use poolkit.errors.{name}"):
            assert getattr(poolkit, name) is getattr(errors, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert poolkit.PoolkitError is errors.PoolkitError
    code = (
        "import sys, poolkit; before = {'poolkit.plots', 'matplotlib.pyplot'} & set(sys.modules); "
        "poolkit.plots.plot_trend; poolkit.analysis.monthly_cost; "
        "print(sorted(before), 'poolkit.plots' in sys.modules, 'plots' in dir(poolkit))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] True True"  # imported when asked, not before
    assert {"rule", "monthly_cost", "inventory", "changes", "trend"} <= set(poolkit.__all__)
    assert all(hasattr(poolkit, name) for name in poolkit.__all__)
    assert not hasattr(poolkit, "no_such_thing")
    import inspect

    plots = [f for name, f in vars(poolkit.plots).items() if name.startswith("plot_")]
    assert len(plots) >= 10
    for plot in plots:  # axes-level, as seaborn's: ax= by keyword, the Axes returned
        ax = inspect.signature(plot).parameters["ax"]
        assert ax.kind is inspect.Parameter.KEYWORD_ONLY and ax.default is None, plot.__name__


def test_the_reference_in_the_tests_imports_nothing_from_poolkit():
    """``tests/reference.py`` is the independent reading of the README's rules: it must not
    borrow poolkit's code."""
    source = Path(__file__).with_name("reference.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." if node.level else (node.module or "").split(".")[0])
    assert imported and not imported & {"poolkit", ".", "pandas", "numpy"}, imported
