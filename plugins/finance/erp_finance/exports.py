"""Statements as CSV and XLSX files (openpyxl), from the rows ``statements.as_rows`` gives."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from erp_finance.statements import as_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export(statement: dict[str, Any], format: str) -> tuple[bytes, str]:
    rows = as_rows(statement)
    columns = _columns(rows)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(column)) for column in columns])
        return buffer.getvalue().encode(), "text/csv; charset=utf-8"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])  # decimals stay numbers
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, (Decimal, float)):
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), XLSX
