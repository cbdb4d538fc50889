"""The report: run the report notebook on some data and export one self-contained HTML file.

``build_report`` executes ``poolkit/report.ipynb`` with papermill and exports it with
nbconvert: code hidden, images embedded, and nothing fetched from the network.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path

from .errors import NoDataError, ReportError
from .snapshot import write_atomic

REPORT_NOTEBOOK = "report.ipynb"


def _socket_kernel_manager(folder: str) -> type:
    """A kernel manager that talks to the report's kernel over Unix sockets in ``folder``
    rather than loopback TCP: no open ports, and no warning from ipykernel (7.3 and later)
    that the kernel runs over TCP without encryption."""
    from jupyter_client import AsyncKernelManager

    class SocketKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=os.path.join(folder, "kernel"), **kwargs)

    return SocketKernelManager


def build_report(
    data: str | os.PathLike = "data/sample",
    out: str | os.PathLike = "reports/number-pools.html",
    *,
    mask_numbers: bool = False,
    require_answers: bool = False,
    timeout: int = 600,
) -> Path:
    """Run the report notebook on ``data`` and write one self-contained HTML file to ``out``;
    the data is read once, in the notebook's kernel. ``require_answers`` makes data in which
    no location answered a ``NoDataError`` (as ``poolkit report`` wants), not a report."""
    import papermill
    from nbconvert import HTMLExporter

    data_path = Path(data).resolve()
    if not data_path.exists():
        raise ReportError(f"{data}: no such file or folder to report on")
    notebook = Path(str(files("poolkit") / REPORT_NOTEBOOK))
    with tempfile.TemporaryDirectory(prefix="poolkit-report-") as work:
        try:
            executed = papermill.execute_notebook(
                str(notebook),
                str(Path(work) / "report.ipynb"),
                kernel_name="python3",
                parameters={
                    "data": str(data_path),
                    "mask_numbers": bool(mask_numbers),
                    "require_answers": bool(require_answers),
                },
                progress_bar=False,
                cwd=work,
                execution_timeout=timeout,
                **(
                    {"kernel_manager_class": _socket_kernel_manager(work)}
                    if os.name == "posix"
                    else {}
                ),
            )
        except papermill.PapermillExecutionError as exc:
            if exc.ename == NoDataError.__name__:
                raise NoDataError(exc.evalue) from None
            raise ReportError(
                f"the report notebook failed on {data}: {exc.ename}: {exc.evalue}"
            ) from None
    exporter = HTMLExporter(
        template_name="poolkit_offline",
        extra_template_basedirs=[str(files("poolkit") / "templates")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(executed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(out, body.encode())
