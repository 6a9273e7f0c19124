"""MARC21 records of items that joined a library at a return, for the library's own catalogue.

One bibliographic record per item with its holding: 001 the barcode, 020 ISBN, 100 the first
author, 245 the title, 264 publisher and year, 365 the list price; 541 how it was acquired
(bought by the platform from the supplier, the price, the date), 561 the chain of owners, 852
where it is now (library code and name, barcode). UTF-8 (leader position 9 = ``a``), as pymarc
writes it. Presentation of data the selectors read: no rules here.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymarc import Field, Indicators, Record, Subfield, XMLWriter

from xinyue.circulation.models import ItemTransfer


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def item_record(transfer: ItemTransfer) -> Record:
    item, title = transfer.item, transfer.item.title
    record = Record(force_utf8=True)
    record.leader = record.leader[:5] + "nam" + record.leader[8:]
    record.add_field(Field(tag="001", data=item.barcode))
    record.add_field(Field(tag="003", data="XINYUE"))
    record.add_field(
        Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", title.isbn13)])
    )
    if title.authors:
        record.add_field(
            Field(
                tag="100",
                indicators=Indicators("0", " "),
                subfields=[Subfield("a", str(title.authors[0]))],
            )
        )
    main = [Subfield("a", title.title)]
    if title.subtitle:
        main.append(Subfield("b", title.subtitle))
    record.add_field(Field(tag="245", indicators=Indicators("0", "0"), subfields=main))
    imprint = []
    if title.publisher:
        imprint.append(Subfield("b", title.publisher))
    if title.year:
        imprint.append(Subfield("c", str(title.year)))
    if imprint:
        record.add_field(Field(tag="264", indicators=Indicators(" ", "1"), subfields=imprint))
    record.add_field(
        Field(
            tag="365",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("b", _yuan(item.list_price_fen)), Subfield("c", "CNY")],
        )
    )
    acquisition = [Subfield("c", "信阅平台采购")]
    if item.supplier_id:
        acquisition.append(Subfield("a", item.supplier.name))
    acquisition += [
        Subfield("d", item.acquired_on.strftime("%Y%m%d")),
        Subfield("h", _yuan(item.list_price_fen)),
    ]
    record.add_field(Field(tag="541", indicators=Indicators("1", " "), subfields=acquisition))
    record.add_field(
        Field(
            tag="561",
            indicators=Indicators("1", " "),
            subfields=[
                Subfield(
                    "a",
                    f"{transfer.from_library.name}（{transfer.from_library.code}）→ "
                    f"{transfer.to_library.name}（{transfer.to_library.code}），"
                    f"{transfer.at.date().isoformat()} 归还入藏",
                )
            ],
        )
    )
    record.add_field(
        Field(
            tag="852",
            indicators=Indicators(" ", " "),
            subfields=[
                Subfield("a", transfer.to_library.code),
                Subfield("b", transfer.to_library.name),
                Subfield("p", item.barcode),
            ],
        )
    )
    return record


def as_iso2709(records: Iterable[Record]) -> bytes:
    return b"".join(record.as_marc() for record in records)


def as_marcxml(records: Iterable[Record]) -> bytes:
    import io

    buffer = io.BytesIO()
    writer = XMLWriter(buffer)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    return buffer.getvalue()
