"""Readers of catalog files: MARC (ISO 2709, MARCXML; MARC21 and CNMARC/UNIMARC), CSV and XLSX.

``read_records(data, filename)`` picks the reader by the file's extension, or by its content
when the extension says nothing, and yields ``RawRecord``s; validation happens in
``xinyue.catalog.services.imports``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath

from xinyue.catalog.importers.records import RawRecord, UnreadableFile
from xinyue.catalog.importers.tabular import read_csv, read_xlsx

FORMATS = ("iso2709", "marcxml", "csv", "xlsx")
_EXTENSIONS = {
    ".mrc": "iso2709",
    ".iso": "iso2709",
    ".marc": "iso2709",
    ".dat": "iso2709",
    ".xml": "marcxml",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
}

__all__ = ["FORMATS", "RawRecord", "UnreadableFile", "detect_format", "read_records"]


def detect_format(data: bytes, filename: str = "") -> str:
    by_name = _EXTENSIONS.get(PurePath(filename or "").suffix.lower())
    if by_name:
        return by_name
    head = data[:200].lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"<"):
        return "marcxml"
    if head[:5].isdigit() and len(head) >= 24:
        return "iso2709"
    return "csv"


def read_records(data: bytes, filename: str = "", fmt: str | None = None) -> Iterator[RawRecord]:
    fmt = fmt or detect_format(data, filename)
    # pymarc is loaded by the first MARC file, not by every web process (worker memory).
    if fmt in ("iso2709", "marcxml"):
        from xinyue.catalog.importers.marc import read_iso2709, read_marcxml
    if fmt == "iso2709":
        return read_iso2709(data)
    if fmt == "marcxml":
        return read_marcxml(data)
    if fmt == "csv":
        return read_csv(data)
    if fmt == "xlsx":
        return read_xlsx(data)
    raise UnreadableFile(f"不支持的格式：{fmt}（可用：{'、'.join(FORMATS)}）")
