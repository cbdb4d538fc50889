"""MkDocs hooks of the guide (``make docs``).

- ``{{ rules }}`` in a page becomes every audit rule as ``poolkit.findings.explain`` says it:
  the words ``poolkit explain`` prints and the report's "What to do" shows.
- ``{{ api GROUP }}`` becomes a mkdocstrings block for each public name of ``REFERENCE[GROUP]``.
- The build fails (``--strict`` or not) where a public name has no docstring, or a public
  function's docstring lacks its numpydoc sections: Parameters (where it takes any), Returns
  and Examples.
"""

from __future__ import annotations

import importlib
import inspect
import re

RULES_MARK = "{{ rules }}"
API_MARK = re.compile(r"\{\{ api (\w+) \}\}")


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
    "findings": _all_of("poolkit.findings"),
    "history": _all_of("poolkit.history"),
    "plots": _all_of("poolkit.plots"),
    "notebook": _all_of("poolkit.notebook"),
    "errors": _all_of("poolkit.errors"),
}


def resolve(dotted: str):
    """The object a dotted name names."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _sections_missing(function) -> list[str]:
    """The numpydoc sections ``function``'s docstring lacks."""
    doc = inspect.getdoc(function) or ""
    takes = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    wanted = (["Parameters"] if takes else []) + ["Returns", "Examples"]
    return [s for s in wanted if not re.search(rf"^{s}\n-{{{len(s)}}}$", doc, re.MULTILINE)]


def undocumented(names: list[str] | None = None) -> list[str]:
    """What is wrong with the docstrings of ``names`` (default: every name of ``REFERENCE``),
    a line each; empty when nothing is."""
    names = [n for group in REFERENCE.values() for n in group] if names is None else names
    wrong = []
    for dotted in names:
        obj = resolve(dotted)
        if not callable(obj):
            continue  # a constant: documented by the ``#:`` comment above it
        if not (obj.__doc__ or "").strip():
            wrong.append(f"{dotted}: no docstring")
        elif inspect.isfunction(obj):
            missing = _sections_missing(obj)
            if missing:
                wrong.append(f"{dotted}: no {', '.join(missing)} section")
        elif inspect.isclass(obj):
            for name, member in vars(obj).items():
                if not name.startswith("_") and inspect.isfunction(member) and not member.__doc__:
                    wrong.append(f"{dotted}.{name}: no docstring")
    return wrong


def rules_markdown() -> str:
    """Every audit rule, as ``poolkit explain`` explains it, in markdown."""
    from poolkit.findings import RULES, explain

    blocks = []
    for checked in RULES:
        said = explain(checked.id)
        blocks.append(f"### `{said.id}`\n\n**{said.severity}**: {said.description}\n")
        blocks.append(f"*Why it matters.* {said.why}\n")
        if said.example is not None:
            blocks.append(f"*For example*, in the shipped sample: {said.example}\n")
        if said.action is not None:
            blocks.append(f"*What to do.* {said.action}\n")
    return "\n".join(blocks)


def api_markdown(group: str) -> str:
    """A mkdocstrings block for each public name of ``REFERENCE[group]``."""
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
    if RULES_MARK in markdown:
        markdown = markdown.replace(RULES_MARK, rules_markdown())
    return API_MARK.sub(lambda m: api_markdown(m.group(1)), markdown)
