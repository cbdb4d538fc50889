"""One Excel workbook of several tables (XlsxWriter): what ``PoolTables.to_excel`` and the
commands' ``--format xlsx`` write."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetError

__all__ = ["EXCEL_ROWS", "write_excel"]


def _excel_value(value: object) -> object:
    """A cell's value for Excel: NA empty, a timestamp without its zone (Excel has none; the
    header says UTC), anything else as it is."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").tz_localize(None).to_pydatetime()
    return value.item() if isinstance(value, np.generic) else value


EXCEL_ROWS = 1_048_576  # rows in a sheet, the header's included


def write_excel(sheets: dict[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write each frame of ``sheets`` (name -> frame) to a sheet of one workbook (XlsxWriter),
    through a temporary file and a rename: a header row frozen and filtered, widths that fit
    the text (up to 60 characters), every text cell (phone numbers, ids) written as text so a
    spreadsheet never reads ``+15125550101`` as a number, timestamps as dates (UTC)."""
    import xlsxwriter

    for name, frame in sheets.items():
        if len(frame) >= EXCEL_ROWS:
            raise DatasetError(
                f"{path}: {name} has {len(frame):,} rows, more than a sheet holds "
                f"({EXCEL_ROWS - 1:,}): use the CSV or Parquet files"
            )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    try:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_numbers": False, "nan_inf_to_errors": True}
        )
        header = book.add_format({"bold": True, "bottom": 1})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name[:31])
            columns = list(frame.columns)
            for col, column in enumerate(columns):
                is_time = isinstance(frame[column].dtype, pd.DatetimeTZDtype)
                title = f"{column} (UTC)" if is_time else column
                sheet.write_string(0, col, title, header)
                values = [_excel_value(v) for v in frame[column].astype(object)]
                for row, value in enumerate(values, start=1):
                    if value is None:
                        continue
                    if is_time:
                        sheet.write_datetime(row, col, value, when)
                    elif isinstance(value, str):
                        sheet.write_string(row, col, value)
                    else:
                        sheet.write(row, col, value)
                longest = max([len(title), *(len(str(v)) for v in values[:1000] if v is not None)])
                sheet.set_column(col, col, min(max(longest, 6), 60) + 2)
            sheet.freeze_panes(1, 0)
            if columns:
                sheet.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
        book.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
