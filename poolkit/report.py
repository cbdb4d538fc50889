"""The report: run the report notebook on some data and write one self-contained HTML page.

``build_report`` runs the code cells of ``poolkit/report.ipynb`` in this process, in order,
with its parameters (as papermill would, without a kernel to start), and writes its markdown
and what each cell shows into one page (``templates/report.html``): code hidden, charts
inside the page, nothing fetched from the network. In JupyterLab the same notebook runs as
any other.
"""

from __future__ import annotations

import ast
import html
import json
import os
from importlib.resources import files
from pathlib import Path
from string import Template

from ._version import __version__
from .errors import ReportError
from .snapshot import write_atomic

REPORT_NOTEBOOK = "report.ipynb"
PAGE = "templates/report.html"


def _shown(value) -> str:
    """What a cell's last expression shows, as HTML: its ``_repr_html_``, else its repr."""
    as_html = getattr(value, "_repr_html_", None)
    shown = as_html() if as_html else None
    return shown if shown is not None else f"<pre>{html.escape(repr(value))}</pre>"


def run_report_notebook(parameters: dict) -> list[str]:
    """The report notebook's blocks of HTML, in order: each markdown cell rendered, and what
    each code cell's last expression shows. The code cells run here, in order, with
    ``parameters`` set after the notebook's ``parameters`` cell."""
    import mistune

    notebook = json.loads((files("poolkit") / REPORT_NOTEBOOK).read_text())
    scope: dict = {"__name__": "__report__"}
    blocks = []
    for number, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            blocks.append(mistune.html(source))
            continue
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        where = f"{REPORT_NOTEBOOK}, cell {number}"
        exec(compile(tree, where, "exec", dont_inherit=True), scope)
        if "parameters" in cell["metadata"].get("tags", []):
            scope.update(parameters)
        if last is not None:  # shown unless None or, as in Jupyter, the cell ends with ";"
            value = eval(
                compile(ast.Expression(last.value), where, "eval", dont_inherit=True), scope
            )
            if value is not None and not source.rstrip().endswith(";"):
                blocks.append(_shown(value))
    return blocks


def build_report(
    data: str | os.PathLike = "data/sample",
    out: str | os.PathLike = "reports/number-pools.html",
    *,
    mask_numbers: bool = False,
    require_answers: bool = False,
) -> Path:
    """Run the report notebook on ``data`` and write one self-contained HTML file to ``out``;
    the data is read once. ``require_answers`` makes data in which no location answered a
    ``NoDataError`` (as ``poolkit report`` wants), not a report."""
    data_path = Path(data).resolve()
    if not data_path.exists():
        raise ReportError(f"{data}: no such file or folder to report on")
    blocks = run_report_notebook(  # a fault in it is a bug of poolkit's
        {
            "data": str(data_path),
            "mask_numbers": bool(mask_numbers),
            "require_answers": bool(require_answers),
        }
    )
    page = Template((files("poolkit") / PAGE).read_text()).substitute(
        title="HighLevel number pools", version=__version__, body="\n".join(blocks)
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(out, page.encode())
