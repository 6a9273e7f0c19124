"""Demo circulation (``xinyue seed-demo``, after the orders' demo): loans in every state and
platform books that floated to several member libraries, made through the real services.

- 演示读者甲 (card at 杭州图书馆): local loans at 杭州 — on loan, due in two days, renewed once,
  booked for a courier return — and two platform books returned at 宁波 and 温州 (they became
  those libraries' books, "还到哪里就在哪里流通").
- 演示读者乙 (card at 宁波图书馆): the floated book lent at 宁波, and a loan two days overdue (within
  the renewal grace days).

Platform books here stand for books delivered earlier (the item and the platform loan as the
delivery makes them, without an order); due dates are moved back with a plain update, the demo's
only shortcut, so that the states exist today. Idempotent: nothing is done when the demo's
barcodes exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinyue.core import clock
from xinyue.core.actors import SYSTEM

PREFIX = "XYDEMO-"


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    from xinyue.cards.selectors import reader_card_at
    from xinyue.catalog.models import Title
    from xinyue.circulation import services
    from xinyue.circulation.models import Item, Loan, Program
    from xinyue.libraries.models import Library
    from xinyue.libraries.selectors import operator_library
    from xinyue.readers.demo import demo_reader
    from xinyue.readers.services.identity import reader_actor

    if Item.objects.filter(barcode__startswith=PREFIX).exists():
        stdout.write("demo loans already there")
        return []
    libraries = {
        lib.code: lib for lib in Library.objects.filter(code__in=["330100", "330200", "330300"])
    }
    operator = operator_library()
    readers = demo_reader("admitted")
    titles = list(Title.objects.order_by("id")[:9])
    if len(libraries) < 3 or operator is None or len(readers) < 2 or len(titles) < 9:
        stdout.write("circulation demo skipped: libraries, demo readers or titles missing")
        return []
    hz, nb, wz = libraries["330100"], libraries["330200"], libraries["330300"]
    jia, yi = readers[0], readers[1]
    if (
        reader_card_at(reader=jia, library=hz) is None
        or reader_card_at(reader=yi, library=nb) is None
    ):
        stdout.write(
            "circulation demo skipped: the demo readers have no cards (credit sandbox off?)"
        )
        return []
    today = clock.today()

    def item(n: int, library, program=Program.LOCAL) -> Item:
        title = titles[n]
        return Item.objects.create(
            barcode=f"{PREFIX}{n + 1:04d}",
            title=title,
            program=program,
            owning_library=library,
            current_library=library,
            list_price_fen=title.list_price_fen,
            acquired_on=today - dt.timedelta(days=60),
        )

    def lend(n: int, library, reader) -> Loan:
        return services.check_out(
            actor=SYSTEM, library=library, reader=reader, barcode=item(n, library).barcode
        )

    def due(loan: Loan, *, days: int, started_days_ago: int) -> None:
        Loan.objects.filter(pk=loan.pk).update(
            due_on=today + dt.timedelta(days=days),
            started_at=clock.now() - dt.timedelta(days=started_days_ago),
        )

    # 甲 at 杭州: on loan, due soon, renewed, booked for a courier return.
    lend(0, hz, jia)
    due(lend(1, hz, jia), days=2, started_days_ago=28)
    renewed = lend(2, hz, jia)
    due(renewed, days=1, started_days_ago=29)
    renewed.refresh_from_db()
    services.renew_loan(actor=reader_actor(jia), loan=renewed)
    courier = lend(3, hz, jia)
    services.book_return(actor=reader_actor(jia), loan=courier, method="courier")
    # Platform books of 甲, returned at 宁波 and 温州: they float there.
    floated = []
    for n, library in ((4, nb), (5, wz), (6, nb)):
        platform_item = item(n, operator, Program.PLATFORM)
        Loan.objects.create(
            program=Program.PLATFORM,
            reader=jia,
            item=platform_item,
            library=operator,
            started_at=clock.now() - dt.timedelta(days=20),
            due_on=today + dt.timedelta(days=10),
        )
        platform_item.status = Item.Status.ON_LOAN
        platform_item.save(update_fields=["status", "updated_at"])
        services.check_in(actor=SYSTEM, library=library, barcode=platform_item.barcode)
        floated.append(platform_item)
    # 乙 at 宁波: the floated book lent there, and a loan two days overdue (within grace).
    services.check_out(actor=SYSTEM, library=nb, reader=yi, barcode=floated[2].barcode)
    due(lend(7, nb, yi), days=-2, started_days_ago=32)
    stdout.write(
        "circulation: demo loans (on loan, due soon, renewed, courier return, overdue) and "
        "3 platform books floated to 宁波/温州"
    )
    return []
