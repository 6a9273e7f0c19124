"""Our SIP2 server as seen by an independent client library from PyPI (``Sip2``, a port of the
php-sip2 client): its own framing, sequence numbers, checksums (which drop leading zeros) and
blank-padded fixed fields, over a real socket."""

from __future__ import annotations

import logging

import pytest
from Sip2.sip2 import Sip2

from xinyue.cards.tests.factories import CardFactory
from xinyue.catalog.tests.factories import TitleFactory
from xinyue.circulation.models import Item, Loan, Program
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.libraries.tests.factories import LibraryFactory
from xinyue.readers.tests.factories import ReaderFactory
from xinyue.sip2.services import create_kiosk_account
from xinyue.sip2.testing import RunningSip2Server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(zhejiang):
    library = LibraryFactory(name="拱墅区图书馆")
    reader = ReaderFactory(name="贾宝玉", password="read-more-books-9")
    CardFactory(reader=reader, library=library, number="G0001")
    Item.objects.create(
        barcode="G-B1",
        title=TitleFactory(title="呐喊·彷徨"),
        program=Program.PLATFORM,
        owning_library=library,
        current_library=library,
        acquired_on=clock.today(),
    )
    ItemFactory(barcode="G-L1", owning_library=library, title=TitleFactory(title="朝花夕拾"))
    for login, charset in (("gbk-kiosk", "gbk"), ("utf-kiosk", "utf-8")):
        create_kiosk_account(
            actor=SYSTEM,
            library=library,
            login=login,
            password="kiosk-pass-1",
            charset=charset,
            location_code="hall",
        )
    return library


def client_for(port: int, charset: str) -> Sip2:
    client = Sip2()
    client.log = logging.getLogger("sip2-test-client")  # no log file of its own
    client.hostName = "127.0.0.1"
    client.hostPort = port
    client.tlsEnable = False
    client.hostEncoding = charset
    client.socketTimeout = 10
    client.institutionId = ""
    client.scLocation = "hall"
    client.connect()
    return client


@pytest.mark.parametrize(("login", "charset"), [("gbk-kiosk", "gbk"), ("utf-kiosk", "utf-8")])
def test_a_kiosk_session_through_the_pypi_client(world, login, charset):
    with RunningSip2Server(threads=2) as server:
        client = client_for(server.port, charset)
        try:
            login_reply = client.sip_login_response(
                client.get_response(client.sip_login_request(login, "kiosk-pass-1"))
            )
            assert login_reply["fixed"]["Ok"] == "1"

            status = client.sip_sc_status_response(
                client.get_response(client.sip_sc_status_request())
            )
            assert status["fixed"]["OnlineStatus"] == "Y"
            assert status["variable"]["AM"] == ["拱墅区图书馆"]
            assert status["variable"]["AO"] == [world.code]

            client.patron, client.patronpwd = "G0001", "read-more-books-9"
            patron = client.sip_patron_information_response(
                client.get_response(client.sip_patron_information_request("charged"))
            )
            assert patron["fixed"]["PatronStatus"] == " " * 14
            assert patron["variable"]["AE"] == ["贾**"]
            assert patron["variable"]["BL"] == ["Y"]
            assert patron["variable"]["CQ"] == ["Y"]

            item = client.sip_item_information_response(
                client.get_response(client.sip_item_information_request("G-B1"))
            )
            assert item["fixed"]["CirculationStatus"] == "03"
            assert item["variable"]["AJ"] == ["呐喊·彷徨"]

            for _attempt in range(2):  # a kiosk retrying: still one loan
                out = client.sip_checkout_response(
                    client.get_response(client.sip_checkout_request("G-L1"))
                )
                assert out["fixed"]["Ok"] == "1"
                assert out["variable"]["AJ"] == ["朝花夕拾"]
            assert Loan.objects.filter(item__barcode="G-L1", status="on_loan").count() == 1
            for _attempt in range(2):
                back = client.sip_checkin_response(
                    client.get_response(client.sip_checkin_request("G-L1"))
                )
                assert back["fixed"]["Ok"] == "1"
                assert back["variable"]["AF"] == ["《朝花夕拾》已归还，请上架。"]
            assert Loan.objects.get(item__barcode="G-L1").status == "returned"

            end = client.get_response(client.sip_end_patron_session_request())
            assert end.startswith("36Y")
        finally:
            client.disconnect()
