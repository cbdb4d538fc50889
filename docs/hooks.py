"""MkDocs hooks of the guide (``make docs``).

- ``{{ rules }}`` in a page becomes every audit rule as ``poolkit.rulebook.explain`` says it:
  the words ``poolkit explain`` prints and the report's "What to do" shows.
- ``{{ api GROUP }}`` becomes a mkdocstrings block for each public name of ``REFERENCE[GROUP]``.
- The build fails (``--strict`` or not) where a public name has no docstring, or a public
  function's docstring lacks its numpydoc sections: Parameters (where it takes any), Returns
  and Examples.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re

#: The markers a page holds, each on a line of its own (a marker quoted in a sentence stays).
RULES_MARK = re.compile(r"^\{\{ rules \}\}$", re.MULTILINE)
API_MARK = re.compile(r"^\{\{ api (\w+) \}\}$", re.MULTILINE)


def _all_of(module: str) -> list[str]:
    """The public names of ``module`` (its ``__all__``), dotted."""
    return [f"{module}.{name}" for name in importlib.import_module(module).__all__]


#: The public API, by reference page: what the guide documents and this hook checks.
REFERENCE = {
    "loading": [
        "poolkit.tidy.read_pools",
        "poolkit.tables.PoolTables",
        "poolkit.tables.read_csv",
        "poolkit.tables.read_dataset",
        "poolkit.sample.load_sample",
        "poolkit.sample.sample_path",
        "poolkit.snapshot.Snapshot",
        "poolkit.weekly.run",
        "poolkit.weekly.RunResult",
        "poolkit.fetch.fetch_pools",
        "poolkit.fetch.FetchResult",
        "poolkit.client.Client",
        "poolkit.phones.enrich_numbers",
    ],
    "analysis": _all_of("poolkit.analysis"),
    "findings": [*_all_of("poolkit.findings"), *_all_of("poolkit.rulebook")],
    "history": _all_of("poolkit.history"),
    "plots": _all_of("poolkit.plots"),
    "notebook": _all_of("poolkit.notebook"),
    "errors": _all_of("poolkit.errors"),
}


def resolve(dotted: str):
    """The object a dotted name names."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


#: Names whose examples need a live HighLevel: the only ones whose examples may all be
#: skipped (``# doctest: +SKIP``); every other example is run by ``tests/test_docs.py``.
LIVE = ("poolkit.fetch.fetch_pools", "poolkit.weekly.run", "poolkit.client.Client")


def _sections(doc: str) -> dict[str, str]:
    """A numpydoc docstring's sections by title: the text under each underlined title."""
    parts = re.split(r"^(\w[\w ]*)\n-+$", doc, flags=re.MULTILINE)
    return {title: text.strip() for title, text in zip(parts[1::2], parts[2::2])}


def _docstring_faults(dotted: str, function) -> list[str]:
    """What ``function``'s numpydoc docstring lacks: Parameters naming every parameter
    (where it takes any), Returns and Examples, each with something under it, and an example
    that runs (but in ``LIVE``)."""
    sections = _sections(inspect.getdoc(function) or "")
    takes = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    takes = [p for p in takes if not (p.name == "cls" and isinstance(function, classmethod))]
    wanted = (["Parameters"] if takes else []) + ["Returns", "Examples"]
    faults = [f"no {s} section" for s in wanted if not sections.get(s)]
    listed = sections.get("Parameters", "")
    for parameter in takes:
        star = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        name = re.escape(star + parameter.name)
        if listed and not re.search(rf"^(?:[\w*]+, )*{name}\b", listed, re.MULTILINE):
            faults.append(f"parameter {parameter.name} not in Parameters")
    examples = [line for line in sections.get("Examples", "").splitlines() if ">>>" in line]
    if examples and all("+SKIP" in line for line in examples) and not dotted.startswith(LIVE):
        faults.append("no example that runs")
    return faults


def _own_doc(obj) -> str:
    """``obj``'s own docstring: not one a dataclass makes up (``Name(field: type, ...)``)."""
    doc = (obj.__doc__ or "").strip()
    made_up = inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")
    return "" if made_up else doc


def undocumented(names: list[str] | None = None) -> list[str]:
    """What is wrong with the docstrings of ``names`` (default: every name of ``REFERENCE``)
    and of their public methods and properties, a line each; empty when nothing is."""
    names = [n for group in REFERENCE.values() for n in group] if names is None else names
    wrong = []
    for dotted in names:
        obj = resolve(dotted)
        if not callable(obj):
            continue  # a constant: documented by the ``#:`` comment above it
        if not _own_doc(obj):
            wrong.append(f"{dotted}: no docstring")
        elif inspect.isfunction(obj):
            wrong.extend(f"{dotted}: {fault}" for fault in _docstring_faults(dotted, obj))
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for name, member in vars(obj).items():
                if name.startswith("_"):
                    continue
                where = f"{dotted}.{name}"
                if isinstance(member, (property, functools.cached_property)):
                    wrong.extend([f"{where}: no docstring"] if not member.__doc__ else [])
                elif inspect.isfunction(member) or isinstance(member, classmethod):
                    method = getattr(obj, name)
                    if not method.__doc__:
                        wrong.append(f"{where}: no docstring")
                    else:
                        wrong.extend(f"{where}: {f}" for f in _docstring_faults(where, method))
    return wrong


def rules_markdown() -> str:
    """Every audit rule, as ``poolkit explain`` explains it (the same paragraphs), in
    markdown: its id and severity as a heading, then each paragraph."""
    from poolkit.findings import RULES
    from poolkit.rulebook import explain

    blocks = []
    for checked in RULES:
        heading, *paragraphs = explain(checked.id).paragraphs()
        blocks.append(f"### `{checked.id}` ({checked.severity})\n")
        blocks.extend(f"{paragraph}\n" for paragraph in paragraphs)
    return "\n".join(blocks)


def api_markdown(group: str) -> str:
    """A mkdocstrings block for each public name of ``REFERENCE[group]``."""
    from mkdocs.exceptions import PluginError

    if group not in REFERENCE:
        raise PluginError(f"no API group {group!r}; the groups are {', '.join(REFERENCE)}")
    return "\n".join(f"::: {dotted}\n" for dotted in REFERENCE[group])


def on_config(config):
    """Fail the build where a public name's docstring is missing or incomplete."""
    from mkdocs.exceptions import PluginError

    wrong = undocumented()
    if wrong:
        raise PluginError("public names without their docstrings:\n  " + "\n  ".join(wrong))
    return config


def on_page_markdown(markdown: str, page=None, **_) -> str:
    """Write the rules and the API reference into the pages that ask for them."""
    if RULES_MARK.search(markdown):
        markdown = RULES_MARK.sub(lambda _: rules_markdown(), markdown)
    return API_MARK.sub(lambda m: api_markdown(m.group(1)), markdown)
