"""Spreadsheets and CSVs as an analyst opens them: phone numbers stay text, types come back."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import poolkit
from poolkit.cli import main
from poolkit.schemas import SCHEMAS, dtype_of

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
SNAPSHOT = json.loads((SAMPLE / "manifest.json").read_text())["snapshot"]  # read as a user would


@pytest.fixture(scope="module")
def tidied(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tidy") / "processed"
    assert main(["tidy", str(SAMPLE), "--out", str(out), "--xlsx"]) == 0
    return out


def test_the_workbook_has_a_sheet_per_table_with_numbers_as_text(tidied: Path):
    tables = poolkit.read_pools(SAMPLE)
    book = openpyxl.load_workbook(tidied / "tables.xlsx")
    assert book.sheetnames == list(poolkit.PoolTables.TABLES)
    numbers = book["numbers"]
    header = [c.value for c in numbers[1]]
    assert header == ["snapshot", *SCHEMAS["numbers"]]  # each row's week, first
    assert {row[0].value for row in numbers.iter_rows(min_row=2)} == {SNAPSHOT}
    assert numbers.max_row == len(tables.numbers) + 1
    at = header.index("phone_number")
    cells = [row[at] for row in numbers.iter_rows(min_row=2, max_row=6)]
    assert all(c.data_type == "s" and c.value.startswith("+") for c in cells)
    assert [c.value for c in cells] == tables.numbers["phone_number"].head(5).tolist()
    assert numbers.freeze_panes == "A2" and numbers.auto_filter.ref.startswith("A1:")
    width = numbers.column_dimensions[openpyxl.utils.get_column_letter(at + 1)].width
    assert 14 <= width <= 62  # fits "+15125550101", not Excel's default 8.43
    phones = book["phone_numbers"]
    titles = [c.value for c in phones[1]]
    assert "number_date_added (UTC)" in titles
    added = phones.cell(row=2, column=titles.index("number_date_added (UTC)") + 1)
    assert added.is_date  # a date a spreadsheet sorts, not text


def test_csvs_read_back_with_their_types(tidied: Path):
    tables = poolkit.read_pools(SAMPLE)
    for name, frame in tables:
        back = poolkit.read_csv(tidied / f"{name}.csv")
        assert list(back.columns) == ["snapshot", *frame.columns], name
        assert back["snapshot"].dtype == pd.StringDtype() and set(back["snapshot"]) <= {SNAPSHOT}
        for column in frame.columns:
            kind = SCHEMAS[name].get(column, "string")  # a field the API added: text
            if kind in ("category", "status"):
                assert isinstance(back[column].dtype, pd.CategoricalDtype), (name, column)
            else:
                want = dtype_of(name, column) if column in SCHEMAS[name] else pd.StringDtype()
                assert back[column].dtype == want, (name, column)
    numbers = poolkit.read_csv(tidied / "numbers.csv")
    assert numbers["phone_number"].tolist() == tables.numbers["phone_number"].tolist()
    assert numbers["phone_number"].str.startswith("+").all()  # not 18136285980.0
    pools = poolkit.read_csv(tidied / "pools.csv")
    assert pools["is_active"].tolist() == tables.pools["is_active"].tolist()  # NA kept


def test_audit_and_diff_write_a_workbook_and_refuse_one_to_the_terminal(tmp_path, capsys):
    out = tmp_path / "findings.xlsx"
    assert main(["audit", str(SAMPLE), "--out", str(out), "--fail-on", "never"]) == 0
    sheet = openpyxl.load_workbook(out)["findings"]
    found = poolkit.audit(poolkit.load_sample())
    assert sheet.max_row == len(found) + 1
    assert main(["audit", str(SAMPLE), "--format", "xlsx"]) == 2
    assert "--out FILE.xlsx" in capsys.readouterr().err
    week = sorted(p for p in poolkit.sample.samples_path().iterdir() if p.is_dir())
    changes = tmp_path / "changes.xlsx"
    assert main(["diff", str(week[-2]), str(week[-1]), "--out", str(changes)]) == 0
    assert "change" in [c.value for c in openpyxl.load_workbook(changes)["changes"][1]]


def test_a_table_too_long_for_a_sheet_is_a_clear_error(tmp_path):
    from poolkit.errors import DatasetError
    from poolkit.excel import EXCEL_ROWS, write_excel

    frame = pd.DataFrame({"x": range(EXCEL_ROWS)})
    with pytest.raises(DatasetError, match="more than a sheet holds"):
        write_excel({"numbers": frame}, tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()
