"""What every importer produces: raw records (strings as read from the file), before validation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawRecord:
    """One record as read from a catalog file. ``position`` says where (line, row, record #)."""

    position: str
    isbn: str = ""
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    year: str = ""
    edition: str = ""
    pages: str = ""
    list_price: str = ""  # yuan, e.g. "45.00" or "CNY45.00"
    category: str = ""  # a category name of the platform's tree
    clc_class: str = ""
    subjects: list[str] = field(default_factory=list)
    summary: str = ""
    cover: str = ""
    stock: str = ""
    price: str = ""  # the supplier's price in yuan (defaults to the list price)
    error: str = ""  # set by the reader when the record itself could not be decoded


class UnreadableFile(Exception):
    """The file as a whole cannot be read (wrong format, broken encoding, missing header)."""
