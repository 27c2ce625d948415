"""A report's rows as CSV or XLSX, written as they are read, in constant memory.

Both formats are produced as a stream of byte chunks: a served export starts arriving at
once and a worker writes a long one to a file, neither holding the rows. XLSX is a zip of
XML parts; the sheet is written row by row into a zip entry that needs no seeking back
(sizes after the data), with inline strings, so no shared-strings table grows. A sheet
holds 1,048,576 rows at most: past the limit the XLSX stops and says so in a last row
that points to the CSV export, which has no limit. Periods are the report's time zone's,
which the header names.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

CHUNK_ROWS = 1000


def header(columns: Sequence[dict[str, Any]], time_zone: str) -> list[str]:
    """Column titles: the period with its time zone, money with its currency."""
    titles = []
    for column in columns:
        if column["kind"] == "period":
            titles.append(f"{column['grain']} ({time_zone})")
        elif column["kind"] == "label":
            titles.append(f"{column['title']} name")
        elif column.get("currency"):
            titles.append(f"{column['title']} ({column['currency']})")
        else:
            titles.append(str(column.get("title", column["name"])))
    return titles


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def csv_chunks(titles: Sequence[str], names: Sequence[str], rows: Iterable[dict[str, Any]]
               ) -> Iterator[bytes]:
    """UTF-8 CSV (with a byte-order mark, so spreadsheets read Chinese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(titles)
    count = 0
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in names])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield ("\ufeff" if count == CHUNK_ROWS else "").encode() + buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    rest = buffer.getvalue()
    yield (("\ufeff" if count < CHUNK_ROWS else "") + rest).encode()


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml"'
    f' ContentType="{_OFFICE}.worksheet+xml"/></Types>')
_RELS = (f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
         f'<Relationship Id="rId1" Type="{_RELATIONS}/officeDocument"'
         ' Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONS}">'
             '<sheets><sheet name="Report" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
                  f'<Relationship Id="rId1" Type="{_RELATIONS}/worksheet"'
                  ' Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_START = f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'
_SHEET_END = "</sheetData></worksheet>"


def _xml_cell(value: Any) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | Decimal):
        return f"<c><v>{value}</v></c>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def _xml_row(values: Iterable[Any]) -> str:
    return "<row>" + "".join(_xml_cell(v) for v in values) + "</row>"


def xlsx_chunks(titles: Sequence[str], names: Sequence[str], rows: Iterable[dict[str, Any]],
                *, row_limit: int, csv_hint: str) -> Iterator[bytes]:
    """An XLSX workbook of one sheet; past ``row_limit`` rows its last row says that the
    sheet stops there and ``csv_hint`` (where to get the CSV) has them all."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        yield pipe.take()
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            parts = [_SHEET_START, _xml_row(titles)]
            for count, row in enumerate(rows):
                if count == row_limit:
                    parts.append(_xml_row([
                        f"The XLSX format stops at {row_limit:,} rows; this report has more."
                        f" Export it as CSV for every row: {csv_hint}"]))
                    break
                parts.append(_xml_row(row.get(name) for name in names))
                if (count + 1) % CHUNK_ROWS == 0:
                    sheet.write("".join(parts).encode())
                    parts.clear()
                    yield pipe.take()
            parts.append(_SHEET_END)
            sheet.write("".join(parts).encode())
    yield pipe.take()
