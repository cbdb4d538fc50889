"""The report's page built in this process, as the report notebook builds it (its code cells
run in order with its parameters), without a kernel and without drawing the charts: fast
enough for generated cases. ``marks`` reads every count the page marks (``data-count``),
``page_text`` its text as a reader sees it, ``card`` one card of the first screen."""

from __future__ import annotations

import ast
import html
import json
import re
from importlib.resources import files
from unittest import mock

import matplotlib.pyplot as plt

from poolkit import sections


def render(data, *, mask_numbers: bool = False) -> str:
    """The report page's HTML for ``data``: every output the notebook's cells display."""
    notebook = json.loads((files("poolkit") / "report.ipynb").read_text())
    shown: list[str] = []

    def display(*objects, **_):
        shown.extend(o.data for o in objects if hasattr(o, "data"))

    scope = {"__name__": "report"}
    with (
        mock.patch("IPython.display.display", display),
        mock.patch.object(sections, "show", lambda ax, alt=None: plt.close(ax.figure)),
    ):
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = ast.parse("".join(cell["source"]))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "report", "exec"), scope)
            if "parameters" in cell.get("metadata", {}).get("tags", []):  # as papermill does
                scope.update(data=str(data), mask_numbers=mask_numbers)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "report", "eval"), scope)
                display(value)
    plt.close("all")
    return "".join(shown)


def marks(page: str) -> list[tuple[str, str]]:
    """Every marked count of a page, in order: ``(what it counts, the text shown)``."""
    return re.findall(r'data-count="([^"]+)">([^<]*)<', page)


def page_text(page: str) -> str:
    """A page's text as a reader sees it: tags dropped (a span within its words), entities
    decoded, spaces folded."""
    page = re.sub(r"</?span[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def card(page: str, answer: str) -> tuple[str, str, str]:
    """The value, label and sentence of a first-screen card, as text."""
    found = re.search(
        rf'data-answer="{answer}"><div class="value"[^>]*>(.*?)</div>'
        r'<div class="label">(.*?)</div><p class="sentence">(.*?)</p></div>',
        page,
        re.S,
    )
    return tuple(page_text(part) for part in found.groups())
