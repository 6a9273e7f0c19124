"""MARC records (ISO 2709 and MARCXML) via pymarc, with MARC21 and CNMARC/UNIMARC field maps.

The flavour is told per record: MARC21 keeps the title in 245 and the ISBN in 020; UNIMARC and
its Chinese profile CNMARC keep them in 200 and 010. Encodings: UTF-8 (MARC21 leader/09 = "a", or
any record that decodes as UTF-8), MARC-8 for other MARC21 records, GB18030 for CNMARC records
that are not UTF-8 (Chinese vendors still ship GBK files).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator

import pymarc

from xinyue.catalog.importers.records import RawRecord, UnreadableFile

RECORD_END = b"\x1d"

_TRAILING = re.compile(r"[\s/:;,.=]+$")
_LEADING = re.compile(r"^[\s/:;,.=]+")
_DIGITS_ISBN = re.compile(r"[0-9][0-9\-\s]{8,16}[0-9Xx]")
_PRICE = re.compile(r"(\d+(?:\.\d{1,2})?)")


def _clean(value: str | None) -> str:
    return _LEADING.sub("", _TRAILING.sub("", (value or "").strip()))


def _first(record: pymarc.Record, tag: str, code: str) -> str:
    for field in record.get_fields(tag):
        for value in field.get_subfields(code):
            if value and value.strip():
                return _clean(value)
    return ""


def _all(record: pymarc.Record, tags: tuple[str, ...], code: str) -> list[str]:
    out: list[str] = []
    for tag in tags:
        for field in record.get_fields(tag):
            for value in field.get_subfields(code):
                value = _clean(value)
                if value and value not in out:
                    out.append(value)
    return out


def _isbn(value: str) -> str:
    match = _DIGITS_ISBN.search(value or "")
    return match.group(0) if match else (value or "").strip()


def _price(value: str) -> str:
    match = _PRICE.search((value or "").replace(",", ""))
    return match.group(1) if match else ""


def _flavour(record: pymarc.Record) -> str:
    if record.get_fields("245", "020"):
        return "marc21"
    if record.get_fields("200", "010"):
        return "unimarc"
    return "unknown"


def from_marc21(record: pymarc.Record, position: str) -> RawRecord:
    title = _first(record, "245", "a")
    parts = [_clean(v) for f in record.get_fields("245") for v in f.get_subfields("n", "p")]
    if parts:
        title = " ".join([title, *[p for p in parts if p]])
    year = ""
    for tag in ("264", "260"):
        year = year or _first(record, tag, "c")
    if not year:
        control = record.get_fields("008")
        if control and control[0].data and len(control[0].data) >= 11:
            year = control[0].data[7:11]
    price = ""
    for field in record.get_fields("020"):
        price = price or _price(" ".join(field.get_subfields("c")))
    clc = ""
    for field in record.get_fields("084"):
        source = " ".join(field.get_subfields("2")).strip().lower()
        if source in ("", "clc", "zhongtu"):
            clc = clc or _clean(" ".join(field.get_subfields("a")[:1]))
    return RawRecord(
        position=position,
        isbn=_isbn(_first(record, "020", "a")),
        title=title,
        subtitle=_first(record, "245", "b"),
        authors=_all(record, ("100", "110", "700", "710"), "a"),
        publisher=_first(record, "264", "b") or _first(record, "260", "b"),
        year=year,
        edition=_first(record, "250", "a"),
        pages=_first(record, "300", "a"),
        list_price=price or _price(_first(record, "365", "b")),
        clc_class=clc,
        subjects=_all(record, ("650", "600", "610", "651"), "a"),
        summary=_first(record, "520", "a"),
        cover=_first(record, "856", "u") if record.get_fields("856") else "",
    )


def _unimarc_names(record: pymarc.Record) -> list[str]:
    names: list[str] = []
    for tag in ("700", "701", "702", "710", "711", "712"):
        for field in record.get_fields(tag):
            surname = _clean(" ".join(field.get_subfields("a")[:1]))
            forename = _clean(" ".join(field.get_subfields("b")[:1]))
            name = f"{surname}, {forename}" if surname and forename else surname
            if name and name not in names:
                names.append(name)
    if not names:
        names = _all(record, ("200",), "f")
    return names


def from_unimarc(record: pymarc.Record, position: str) -> RawRecord:
    title = _first(record, "200", "a")
    part = _first(record, "200", "h") or _first(record, "200", "i")
    if part:
        title = f"{title} {part}"
    clc = _first(record, "690", "a")
    if not clc:
        for field in record.get_fields("686"):
            if " ".join(field.get_subfields("2")).strip().lower() in ("", "clc"):
                clc = _clean(" ".join(field.get_subfields("a")[:1]))
                break
    return RawRecord(
        position=position,
        isbn=_isbn(_first(record, "010", "a")),
        title=title,
        subtitle=_first(record, "200", "e"),
        authors=_unimarc_names(record),
        publisher=_first(record, "210", "c") or _first(record, "214", "c"),
        year=_first(record, "210", "d") or _first(record, "214", "d"),
        edition=_first(record, "205", "a"),
        pages=_first(record, "215", "a"),
        list_price=_price(_first(record, "010", "d")),
        clc_class=clc,
        subjects=_all(record, ("606", "600", "601", "607", "610"), "a"),
        summary=_first(record, "330", "a"),
    )


def to_raw(record: pymarc.Record, position: str) -> RawRecord:
    flavour = _flavour(record)
    if flavour == "marc21":
        return from_marc21(record, position)
    if flavour == "unimarc":
        return from_unimarc(record, position)
    return RawRecord(position=position)  # rejected by validation: no ISBN, no title


def _decode_iso2709(chunk: bytes) -> pymarc.Record:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(chunk) > 9 and chunk[9:10] == b"a":
            return pymarc.Record(chunk, force_utf8=True, utf8_handling="replace")
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return pymarc.Record(chunk, force_utf8=True)
        record = pymarc.Record(chunk, file_encoding="gb18030")
        if _flavour(record) == "marc21":
            return pymarc.Record(chunk)  # MARC-8
        return record


def read_iso2709(data: bytes) -> Iterator[RawRecord]:
    if not data.strip():
        raise UnreadableFile("文件为空")
    chunks = [c for c in data.split(RECORD_END) if c.strip(b"\r\n\x00 ")]
    if not chunks or not chunks[0].lstrip()[:5].isdigit():
        raise UnreadableFile("不是 ISO 2709 MARC 文件（记录头无效）")
    for number, chunk in enumerate(chunks, start=1):
        chunk = chunk.lstrip(b"\r\n ") + RECORD_END
        position = f"第 {number} 条记录"
        try:
            record = _decode_iso2709(chunk)
        except Exception as exc:  # pymarc raises many types for a damaged record
            yield RawRecord(position=position, error=f"记录损坏，无法解析（{type(exc).__name__}）")
            continue
        yield to_raw(record, position)


def read_marcxml(data: bytes) -> Iterator[RawRecord]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records = pymarc.parse_xml_to_array(io.BytesIO(data), strict=False)
    except Exception as exc:  # XML parse errors of several kinds
        raise UnreadableFile(f"无法解析 MARCXML：{type(exc).__name__}") from None
    if not records:
        raise UnreadableFile("MARCXML 中没有记录")
    for number, record in enumerate(records, start=1):
        position = f"第 {number} 条记录"
        if record is None:
            yield RawRecord(position=position)
            continue
        yield to_raw(record, position)
