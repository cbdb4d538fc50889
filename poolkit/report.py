"""The report: run the report notebook on some data and export one self-contained HTML file.

``build_report`` executes ``poolkit/report.ipynb`` with papermill and exports it with
nbconvert: code hidden, images embedded, and nothing fetched from the network. The other
functions here are what the notebooks call, so that they hold narrative, not logic.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import headline, mask_phone
from .errors import PoolkitError
from .snapshot import MANIFEST, read_manifest, write_atomic
from .tidy import PoolTables

REPORT_NOTEBOOK = "report.ipynb"
_PHONE_TEXT = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class ReportError(PoolkitError):
    """The report notebook failed; the message names the cell's error."""


def _manifests(data: str | os.PathLike) -> list[dict]:
    """Manifests of the snapshot(s) ``data`` points at (a snapshot, a file in one, or a folder
    of snapshots), oldest first."""
    path = Path(data)
    folder = path if path.is_dir() else path.parent
    folders = [folder] if (folder / MANIFEST).is_file() else sorted(p.parent for p in folder.glob(f"*/{MANIFEST}"))
    return [m for m in map(read_manifest, folders) if m is not None]


def source_info(data: str | os.PathLike) -> dict[str, Any]:
    """Where the data came from: the path and, from the newest manifest, snapshot time,
    API version, base URL and how many locations were fetched or failed."""
    info: dict[str, Any] = {"source": str(data)}
    manifests = _manifests(data)
    if manifests:
        latest = manifests[-1]
        summary = latest.get("summary") or {}
        info.update({
            "snapshots": len(manifests),
            "snapshot": latest.get("snapshot"),
            "taken_at": latest.get("taken_at"),
            "api_version": latest.get("api_version"),
            "base_url": latest.get("base_url"),
            "locations_failed": summary.get("failed", sum(e.get("status") == "failed" for e in latest.get("locations", []))),
        })
    return info


def location_names(data: str | os.PathLike) -> dict[str, str]:
    """Location id -> name, from the manifests (agency fetches and the sample know names)."""
    return {e["location_id"]: e["name"] for m in _manifests(data) for e in m.get("locations", [])
            if e.get("location_id") and e.get("name")}


def header(data: str | os.PathLike, tables: PoolTables):
    """The report's first block: headline numbers as cards, and where the data came from."""
    from IPython.display import HTML

    counts = headline(tables)
    labels = {"locations": "Locations", "pools": "Pools", "numbers": "Numbers",
              "pools_with_service": "Pools with a service", "problems": "Problems"}
    cards = "".join(f'<div class="poolkit-card"><div class="value">{counts[k]:,}</div>'
                    f'<div class="label">{html.escape(v)}</div></div>' for k, v in labels.items())
    info = source_info(data)
    parts = [f"Source: <code>{html.escape(Path(info['source']).name or info['source'])}</code>"]
    if info.get("taken_at"):
        parts.append(f"snapshot taken {html.escape(str(info['taken_at']))}")
    if info.get("api_version"):
        parts.append(f"API version {html.escape(str(info['api_version']))}")
    if info.get("base_url"):
        parts.append(f"from {html.escape(str(info['base_url']))}")
    if info.get("snapshots", 1) > 1:
        parts.append(f"{info['snapshots']} snapshots")
    if info.get("locations_failed"):
        parts.append(f"<b>{info['locations_failed']} location(s) failed to fetch</b>")
    return HTML(f'<div class="poolkit-cards">{cards}</div><p class="poolkit-source">{" · ".join(parts)}</p>')


def table(frame: pd.DataFrame, *, empty: str = "Nothing to show.", percent: tuple[str, ...] = (),
          rows: int = 20, names: dict[str, str] | None = None, relative_to: str | os.PathLike | None = None):
    """A readable table: at most ``rows`` rows, shares as percentages, location names added
    when known, file names relative to ``relative_to``; a sentence instead of an empty table."""
    from IPython.display import HTML

    if frame.empty:
        return HTML(f"<p><i>{html.escape(empty)}</i></p>")
    shown = frame.head(rows).copy()
    if names and "location_id" in shown:
        shown.insert(0, "location", shown["location_id"].map(names).fillna(""))
    if relative_to is not None:
        base = str(Path(relative_to).resolve() if Path(relative_to).is_dir() else Path(relative_to).resolve().parent)
        for column in [c for c in shown if c.endswith("source")]:
            shown[column] = shown[column].str.removeprefix(base + os.sep)
    text = [c for c in shown if not pd.api.types.is_numeric_dtype(shown[c]) or pd.api.types.is_bool_dtype(shown[c])]
    styler = shown.style.hide(axis="index").format(
        {c: "{:.0%}" for c in percent if c in shown}, na_rep="").set_properties(
        subset=text, **{"text-align": "left"}).set_table_styles(
        [{"selector": "th", "props": "text-align: left;"}])
    more = f"<p><i>Showing {rows:,} of {len(frame):,} rows.</i></p>" if len(frame) > rows else ""
    return HTML(styler.to_html() + more)


def show(ax, alt: str | None = None, dpi: int = 100) -> None:
    """Display the figure of ``ax`` as a PNG whose alt text is its title (or ``alt``)."""
    import base64
    from io import BytesIO

    import matplotlib.pyplot as plt
    from IPython.display import display

    figure = ax.figure
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    alt = alt or "; ".join(a.get_title() for a in figure.axes if a.get_title()) or "Chart"
    display({"image/png": base64.b64encode(buffer.getvalue()).decode()}, raw=True,
            metadata={"image/png": {"alt": alt}})


def masked(tables: PoolTables) -> PoolTables:
    """The same tables with every phone number masked (``+1 415 ***-**71``), for sharing."""
    numbers = tables.numbers.assign(**{c: tables.numbers[c].map(mask_phone).astype("string")
                                       for c in ("phone_number", "e164") if c in tables.numbers})  # e164: enriched
    pools = tables.pools.assign(forwarding_number=tables.pools["forwarding_number"].map(mask_phone).astype("string"),
                                service_value=tables.pools["service_value"].map(mask_text).astype("string"),
                                whisper_message=tables.pools["whisper_message"].map(mask_text).astype("string"))
    services = tables.services.assign(service_value=tables.services["service_value"].map(mask_text).astype("string"))
    problems = tables.problems.assign(value=tables.problems["value"].map(mask_text).astype("string"))
    return replace(tables, pools=pools, numbers=numbers, services=services, problems=problems)


def mask_text(text: object) -> object:
    """Mask anything in ``text`` that looks like a phone number, keeping its last two digits."""
    if not isinstance(text, str):
        return text
    return _PHONE_TEXT.sub(lambda m: "*" * (len(m.group()) - 2) + m.group()[-2:], text)


def _socket_kernel_manager(folder: str) -> type:
    """A kernel manager that talks to the report's kernel over Unix sockets in ``folder``
    rather than loopback TCP: no open ports, and no warning from ipykernel (7.3 and later)
    that the kernel runs over TCP without encryption."""
    from jupyter_client import AsyncKernelManager

    class SocketKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=os.path.join(folder, "kernel"), **kwargs)

    return SocketKernelManager


def build_report(data: str | os.PathLike = "data/sample", out: str | os.PathLike = "reports/number-pools.html",
                 *, mask_numbers: bool = False, timeout: int = 600) -> Path:
    """Run the report notebook on ``data`` and write one self-contained HTML file to ``out``."""
    import papermill
    from nbconvert import HTMLExporter

    data_path = Path(data).resolve()
    if not data_path.exists():
        raise ReportError(f"{data}: no such file or folder to report on")
    notebook = Path(str(files("poolkit") / REPORT_NOTEBOOK))
    with tempfile.TemporaryDirectory(prefix="poolkit-report-") as work:
        try:
            executed = papermill.execute_notebook(
                str(notebook), str(Path(work) / "report.ipynb"), kernel_name="python3",
                parameters={"data": str(data_path), "mask_numbers": bool(mask_numbers)},
                progress_bar=False, cwd=work, execution_timeout=timeout,
                **({"kernel_manager_class": _socket_kernel_manager(work)} if os.name == "posix" else {}),
            )
        except papermill.PapermillExecutionError as exc:
            raise ReportError(f"the report notebook failed on {data}: {exc.ename}: {exc.evalue}") from None
    exporter = HTMLExporter(
        template_name="poolkit_offline", extra_template_basedirs=[str(files("poolkit") / "templates")],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(executed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(out, body.encode())
