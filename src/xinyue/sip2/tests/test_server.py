"""The SIP2 server over a real TCP socket: login, status, patrons, items, framing, charsets."""

from __future__ import annotations

import socket
import threading

import pytest

from xinyue.cards.models import Card
from xinyue.cards.tests.factories import CardFactory
from xinyue.catalog.tests.factories import TitleFactory
from xinyue.circulation.models import Item, Program
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.libraries.tests.factories import LibraryFactory
from xinyue.readers.tests.factories import ReaderFactory
from xinyue.sip2.codec import checksum, encode
from xinyue.sip2.services import create_kiosk_account
from xinyue.sip2.testing import RunningSip2Server
from xinyue.sip2.tests.kiosk import DATE, Kiosk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(zhejiang):
    library = LibraryFactory(name="西湖区图书馆")
    reader = ReaderFactory(name="林黛玉", password="read-more-books-9")
    card = CardFactory(reader=reader, library=library, number="X0001")
    title = TitleFactory(title="红楼梦（上）")
    item = Item.objects.create(
        barcode="B0001",
        title=title,
        program=Program.PLATFORM,
        owning_library=library,
        current_library=library,
        acquired_on=clock.today(),
    )
    for login, charset, detection in (
        ("kiosk-1", "gbk", True),
        ("kiosk-u", "utf-8", True),
        ("kiosk-18030", "gb18030", True),
        ("kiosk-lax", "gbk", False),
    ):
        create_kiosk_account(
            actor=SYSTEM,
            library=library,
            login=login,
            password="kiosk-pass-1",
            charset=charset,
            location_code="desk-1",
            error_detection=detection,
        )
    return {"library": library, "reader": reader, "card": card, "item": item}


@pytest.fixture
def server():
    with RunningSip2Server(threads=4, idle_timeout=30) as running:
        yield running


def test_login_then_status_tells_the_truth_about_supported_messages(world, server):
    with Kiosk(server.port) as kiosk:
        assert kiosk.login().fixed == "1"
        status = kiosk.ask("9900802.00")
    assert status.command == "98"
    assert status.checksum_ok is True
    assert status.fixed[:6] == "YYYYNN"
    assert status.fixed[-4:] == "2.00"
    assert status.get("AO") == world["library"].code
    assert status.get("AM") == "西湖区图书馆"
    assert status.get("AN") == "desk-1"
    bx = status.get("BX")
    assert len(bx) == 16
    from xinyue.sip2.acs import BX_ORDER, SUPPORTED

    assert {code for code, flag in zip(BX_ORDER, bx, strict=True) if flag == "Y"} == (
        SUPPORTED & set(BX_ORDER)
    )
    assert bx[BX_ORDER.index("01")] == "N"  # block patron: not offered


def test_wrong_password_is_refused_and_nothing_else_is_answered(world, server):
    with Kiosk(server.port) as kiosk:
        assert kiosk.login(password="wrong-pass").fixed == "0"
        kiosk.send_raw(kiosk.frame(f"23019{DATE}AO|AAX0001|"))
        assert kiosk.closed_by_server()


@pytest.mark.parametrize(
    ("login", "charset"), [("kiosk-1", "gbk"), ("kiosk-u", "utf-8"), ("kiosk-18030", "gb18030")]
)
def test_patron_status_in_the_accounts_charset(world, server, login, charset):
    with Kiosk(server.port, charset=charset) as kiosk:
        kiosk.login(login)
        kiosk.send_raw(kiosk.frame(f"23019{DATE}AO|AAX0001|ADread-more-books-9|"))
        raw = kiosk.read_raw()
    assert "林**".encode(charset) in raw  # the masked name, as bytes of the account's charset
    az = raw.rfind(b"AZ")
    assert checksum(raw[: az + 2]) == raw[az + 2 : az + 6].decode()  # over the bytes as sent
    from xinyue.sip2.codec import FIXED_LENGTHS, decode

    reply = decode(raw, encoding=charset, fixed_length=FIXED_LENGTHS["24"])
    assert reply.fixed[:14] == " " * 14
    assert reply.get("AE") == "林**"
    assert reply.flag("BL") is True
    assert reply.flag("CQ") is True
    assert reply.sequence == 1


def test_unknown_patron_and_wrong_patron_password(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        unknown = kiosk.ask(f"23019{DATE}AO|AANOPE|")
        wrong = kiosk.ask(f"23019{DATE}AO|AAX0001|ADnot-it|")
    assert unknown.fixed[:4] == "YYYY"
    assert unknown.flag("BL") is False
    assert unknown.get("AF") == "读者证不存在"
    assert wrong.flag("BL") is True
    assert wrong.flag("CQ") is False


def test_suspended_card_is_blocked_with_the_reason(world, server):
    Card.objects.filter(pk=world["card"].pk).update(status=Card.Status.SUSPENDED)
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        reply = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAX0001|")
    assert reply.command == "64"
    assert reply.fixed[:4] == "YYYY"
    assert reply.get("AF") == "读者证已暂停，请到服务台办理"


def test_item_information_with_a_chinese_title(world, server):
    with Kiosk(server.port, charset="utf-8") as kiosk:
        kiosk.login("kiosk-u")
        reply = kiosk.ask(f"17{DATE}AO|ABB0001|")
        missing = kiosk.ask(f"17{DATE}AO|ABNOPE|")
    assert reply.command == "18"
    assert reply.fixed[:2] == "03"  # available
    assert reply.get("AJ") == "红楼梦（上）"
    assert reply.get("AQ") == world["library"].code
    assert missing.fixed[:2] == "01"
    assert missing.get("AF") == "条码不存在"


def test_end_session_and_fee_paid(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        end = kiosk.ask(f"35{DATE}AO|AAX0001|")
        fee = kiosk.ask(f"37{DATE}01{'0'}CNYAO|AAX0001|BV10.00|")
    assert end.command == "36"
    assert end.fixed[0] == "Y"
    assert fee.command == "38"
    assert fee.fixed[0] == "N"
    assert fee.get("AF") == "平台没有需要在借还机缴纳的费用"


def test_wrong_checksum_gets_96_and_resend_repeats_the_last_reply(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        good = kiosk.frame(f"17{DATE}AO|ABB0001|")
        kiosk.send_raw(good[:-5] + b"0000\r")
        assert kiosk.read_raw().startswith(b"96")
        kiosk.send_raw(good)
        first = kiosk.read_raw()
        kiosk.send_raw(b"97AZFEF6\r")
        again = kiosk.read_raw()
    assert first.startswith(b"18")
    assert again == first


def test_missing_checksum_refused_when_required_accepted_when_not(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        kiosk.send_raw(f"17{DATE}AO|ABB0001|\r".encode())
        assert kiosk.read_raw().startswith(b"96")
    with Kiosk(server.port, error_detection=False) as lax:
        assert lax.login("kiosk-lax").fixed == "1"
        reply = lax.ask(f"17{DATE}AO|ABB0001|")
    assert reply.checksum_ok is None  # answered in kind: no AY/AZ
    assert reply.get("AJ") == "红楼梦（上）"


def test_crlf_blank_padding_empty_and_missing_fields(world, server):
    with Kiosk(server.port, crlf=True) as kiosk:
        kiosk.login()
        # Blank-padded fixed fields (no dates), a padded value, empty optional fields.
        padded = kiosk.ask(f"23   {' ' * 18}AO|AAX0001   |AC|AD|")
        bare = kiosk.ask(f"63019{' ' * 18}{' ' * 10}AAX0001|")  # no AO at all
    assert padded.get("AE") == "林**"
    assert "CQ" not in padded.fields  # no password sent, none judged
    assert bare.command == "64"
    assert bare.get("AE") == "林**"


def test_a_short_checksum_without_leading_zeros_is_accepted(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login()
        for n in range(40):  # find a message whose checksum starts with 0
            body = f"17{DATE}AO|ABB{n:04d}|AY1AZ"
            if checksum(body.encode())[0] == "0":
                break
        short = checksum(body.encode()).lstrip("0")
        kiosk.send_raw(body.encode() + short.encode() + b"\r")
        assert kiosk.read_raw().startswith(b"18")


def test_a_malformed_or_overlong_frame_harms_no_other_connection(world, server):
    with Kiosk(server.port) as good, Kiosk(server.port) as bad:
        good.login()
        bad.login()
        bad.send_raw(b"17sh\r")  # shorter than its fixed part
        assert bad.read_raw().startswith(b"96")
        bad.send_raw(b"\xff\xfe garbage \x00\r")  # not a command: dropped, the kiosk stays
        assert bad.ask(f"17{DATE}AO|ABB0001|").command == "18"
        with Kiosk(server.port) as huge:
            huge.send_raw(b"9" * 10000 + b"\r")
            assert huge.closed_by_server()
        reply = good.ask(f"17{DATE}AO|ABB0001|")
    assert reply.get("AJ") == "红楼梦（上）"


def test_two_hundred_kiosks_logged_in_at_once(world, server):
    kiosks = [Kiosk(server.port) for _ in range(200)]
    try:
        for kiosk in kiosks:  # all logins in flight together
            kiosk.send_raw(kiosk.frame("9300CNkiosk-1|COkiosk-pass-1|CPdesk-1|"))
        assert [kiosk.read().fixed for kiosk in kiosks] == ["1"] * 200
        results: list[str] = []
        lock = threading.Lock()

        def status(kiosk: Kiosk) -> None:
            reply = kiosk.ask("9900802.00")
            with lock:
                results.append(reply.command)

        threads = [threading.Thread(target=status, args=(k,)) for k in kiosks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert results == ["98"] * 200
    finally:
        for kiosk in kiosks:
            kiosk.close()


def test_a_command_before_login_closes_the_connection(world, server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(encode(f"17{DATE}AO|ABB0001|", encoding="ascii", sequence=0))
        assert sock.recv(100) == b""
    finally:
        sock.close()


def test_an_idle_connection_is_closed(world):
    with RunningSip2Server(threads=1, idle_timeout=0.5) as quick, Kiosk(quick.port) as kiosk:
        assert kiosk.login().fixed == "1"
        assert kiosk.closed_by_server()  # nothing sent for longer than the idle timeout
