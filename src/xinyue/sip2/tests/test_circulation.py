"""Checkout (11), checkin (09) and renew (29) from a kiosk over a real socket, through the
circulation services: repeated messages are idempotent, a platform book returned at a kiosk
joins that library, blocks appear in the patron status flags and screen messages."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.cards.tests.factories import CardFactory
from xinyue.catalog.tests.factories import TitleFactory
from xinyue.circulation.models import Item, Loan, Program
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import Library
from xinyue.libraries.tests.factories import LibraryFactory
from xinyue.readers.tests.factories import ReaderFactory
from xinyue.sip2.models import KioskAccount
from xinyue.sip2.services import create_kiosk_account
from xinyue.sip2.testing import RunningSip2Server
from xinyue.sip2.tests.kiosk import DATE, Kiosk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(zhejiang):
    Library.objects.filter(code="330000").update(is_operator=True)
    library = LibraryFactory(name="上城区图书馆")
    reader = ReaderFactory(name="薛宝钗", password="read-more-books-9")
    CardFactory(reader=reader, library=library, number="S0001")
    local = ItemFactory(barcode="LOCAL-1", owning_library=library, title=TitleFactory(title="围城"))
    for login, charset in (("sc-gbk", "gbk"), ("sc-utf", "utf-8")):
        create_kiosk_account(
            actor=SYSTEM,
            library=library,
            login=login,
            password="kiosk-pass-1",
            charset=charset,
            location_code="hall",
        )
    return {"library": library, "reader": reader, "local": local}


@pytest.fixture
def server():
    with RunningSip2Server(threads=4, idle_timeout=30) as running:
        yield running


def platform_loan(reader, *, barcode: str = "XY-1", due_in: int = 20) -> Loan:
    """A platform book lent to ``reader`` by the provincial library (no credit order)."""
    province = Library.objects.get(code="330000")
    item = Item.objects.create(
        barcode=barcode,
        title=TitleFactory(title="平凡的世界（第一部）"),
        program=Program.PLATFORM,
        owning_library=province,
        current_library=None,
        status=Item.Status.ON_LOAN,
        list_price_fen=5900,
        acquired_on=clock.today(),
    )
    return Loan.objects.create(
        program=Program.PLATFORM,
        reader=reader,
        item=item,
        library=province,
        started_at=clock.now(),
        due_on=clock.today() + dt.timedelta(days=due_in),
    )


def test_checkout_twice_is_one_loan_then_checkin_twice_is_one_return(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        out = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|AC|")
        again = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|AC|")
        loan = Loan.objects.get(item__barcode="LOCAL-1")
        assert out.fixed[0] == "1"
        assert again.fixed[0] == "1"
        assert out.get("AJ") == "围城"
        assert out.get("AH") == f"{loan.due_on:%Y-%m-%d}"
        assert Loan.objects.filter(item__barcode="LOCAL-1").count() == 1
        assert loan.status == Loan.Status.ON_LOAN
        assert loan.program == Program.LOCAL
        assert loan.events.get().actor_ref == f"kiosk:{KioskAccount.objects.get(login='sc-gbk').pk}"
        assert loan.events.get().channel == "kiosk"

        back = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABLOCAL-1|AC|")
        back_again = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABLOCAL-1|AC|")
    assert back.fixed[0] == "1"
    assert back_again.fixed[0] == "1"
    assert back.get("AF") == "《围城》已归还，请上架。"
    loan.refresh_from_db()
    assert loan.status == Loan.Status.RETURNED
    assert AuditEntry.objects.filter(action="loan.returned").count() == 1
    assert Item.objects.get(barcode="LOCAL-1").status == Item.Status.AVAILABLE


def test_a_platform_book_returned_at_the_kiosk_joins_this_library(world, server):
    loan = platform_loan(world["reader"])
    with Kiosk(server.port, charset="utf-8") as kiosk:
        kiosk.login("sc-utf")
        reply = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABXY-1|AC|")
    assert reply.fixed[0] == "1"
    assert reply.fixed[3] == "N"  # no alert: it stays here
    assert reply.get("AQ") == world["library"].code
    assert reply.get("AJ") == "平凡的世界（第一部）"
    assert "上城区图书馆" in reply.get("AF")
    assert "新入藏" in reply.get("AF")
    item = Item.objects.get(barcode="XY-1")
    assert item.owning_library == world["library"]
    assert item.supplier_id is None
    assert item.list_price_fen == 5900  # provenance kept
    loan.refresh_from_db()
    assert loan.returned_library == world["library"]


def test_checkin_of_a_book_never_lent_is_refused_and_changes_nothing(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        reply = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABLOCAL-1|AC|")
        unknown = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABNOPE-9|AC|")
    assert reply.fixed[0] == "0"
    assert reply.get("AF") == "这册书没有借出，无需归还"
    assert unknown.fixed[0] == "0"
    assert Loan.objects.count() == 0
    assert Item.objects.get(barcode="LOCAL-1").status == Item.Status.AVAILABLE


def test_a_blocked_reader_sees_why_and_cannot_borrow(world, server):
    platform_loan(world["reader"], barcode="XY-LATE", due_in=-40)
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        status = kiosk.ask(f"23019{DATE}AO|AAS0001|")
        info = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAS0001|")
        out = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|")
    assert status.fixed[:14] == "YY Y  Y       "
    assert status.get("AF") == "有 1 册图书已逾期，归还后可继续借阅"
    assert info.fixed[35 + 4 : 35 + 8] == "0001"  # overdue count
    assert info.fields["AT"] == ["XY-LATE"]
    assert out.fixed[0] == "0"
    assert out.get("AF") == "有 1 册图书已逾期，归还后可继续借阅"
    assert not Loan.objects.filter(item__barcode="LOCAL-1").exists()


def test_checkout_refused_for_an_unknown_card_or_a_wrong_password(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        unknown = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AANOBODY|ABLOCAL-1|")
        wrong = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|ADnope|")
    assert unknown.fixed[0] == "0"
    assert unknown.get("AF") == "读者证不存在"
    assert wrong.fixed[0] == "0"
    assert wrong.get("AF") == "读者密码不正确"
    assert Loan.objects.count() == 0


def test_renew_through_the_kiosk(world, server):
    loan = platform_loan(world["reader"], barcode="XY-R", due_in=2)
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        renewed = kiosk.ask(f"29NN{DATE}{' ' * 18}AO|AAS0001|ABXY-R|")
        not_theirs = kiosk.ask(f"29NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|")
    loan.refresh_from_db()
    assert renewed.fixed[:2] == "1Y"
    assert loan.renewals == 1
    assert renewed.get("AH") == f"{loan.due_on:%Y-%m-%d}"
    assert loan.due_on > clock.today() + dt.timedelta(days=2)
    assert not_theirs.fixed[0] == "0"
    assert not_theirs.get("AF") == "该读者没有借这册书"


def test_supported_messages_include_circulation(world, server):
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        bx = kiosk.ask("9900802.00").get("BX")
    # 23 11 09 01 99 97 93 63 35 37 17 19 25 15 29 65
    assert bx == "YYYNYYYYYYYNNNYN"


@pytest.mark.parametrize(("login", "charset"), [("sc-gbk", "gbk"), ("sc-utf", "utf-8")])
def test_every_block_and_what_clears_it_reaches_the_kiosk_screen(world, server, login, charset):
    """Overdue, lost and unpaid: 24 and 64 set the flags and list each block; a refused 11 and
    29 carry the same lines, in the kiosk's character set; nothing is lent or renewed."""
    from xinyue.circulation.models import CreditRecord

    reader = world["reader"]
    platform_loan(reader, barcode="XY-LATE", due_in=-3)
    lost = platform_loan(reader, barcode="XY-GONE", due_in=-40)
    Loan.objects.filter(pk=lost.pk).update(status="lost", compensation_fen=6350)
    CreditRecord.objects.create(
        key=f"loan:{lost.pk}:charge",
        reader=reader,
        loan=lost,
        library=lost.library,
        credit_reference="XYC-TEST",
        kind="charge",
        state="failed",
        charge_fen=6350,
    )
    keep = platform_loan(reader, barcode="XY-KEEP", due_in=5)
    expected = [
        "有 1 册图书登记遗失尚未赔付（共 63.50 元），"
        "归还找回的图书、等待信用扣款完成或到馆缴纳赔偿后可继续借阅",
        "有 1 册图书已逾期，归还后可继续借阅",
        "有 1 笔遗失赔偿信用扣款未成功，请到馆缴纳赔偿后继续借阅",
    ]
    with Kiosk(server.port, charset=charset) as kiosk:
        kiosk.login(login)
        status = kiosk.ask(f"23019{DATE}AO|AAS0001|")
        info = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAS0001|")
        out = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|")
        renew = kiosk.ask(f"29NN{DATE}{' ' * 18}AO|AAS0001|ABXY-KEEP|")
    # charge, renewal, hold denied; too many overdue (6), lost (9), excessive fees (11)
    assert status.fixed[:14] == "YY Y  Y  Y Y  "
    assert info.fixed[:14] == status.fixed[:14]
    for reply in (status, info, out, renew):
        assert reply.fields["AF"] == expected
    assert (out.fixed[0], renew.fixed[0]) == ("0", "0")
    assert not Loan.objects.filter(item__barcode="LOCAL-1").exists()
    keep.refresh_from_db()
    assert keep.renewals == 0


def test_guessing_patron_passwords_at_a_kiosk_is_locked_out(world, server, settings):
    """Five wrong AD for one card lock that card (the right password is then refused too, and
    nothing is lent); wrong passwords across cards lock the kiosk account; every refusal says
    so on the screen."""
    from xinyue.sip2.models import PatronPasswordThrottle

    settings.XINYUE_LOGIN_MAX_FAILURES_PER_ID = 5
    settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP = 8
    other = ReaderFactory(name="林黛玉", password="read-more-books-8")
    CardFactory(reader=other, library=world["library"], number="S0002")
    locked_text = "密码错误次数过多，已暂时锁定，请 15 分钟后再试或到服务台办理"
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        wrong = [kiosk.ask(f"23019{DATE}AO|AAS0001|ADguess-{n}|") for n in range(5)]
        right = kiosk.ask(f"23019{DATE}AO|AAS0001|ADread-more-books-9|")
        out = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|ADread-more-books-9|")
        renew = kiosk.ask(f"29NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|ADread-more-books-9|")
        # another card at the same kiosk still works, until the kiosk's own limit
        fine = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAS0002|ADread-more-books-8|")
        for n in range(3):
            kiosk.ask(f"23019{DATE}AO|AAS0002|ADguess-{n}|")
        kiosk_locked = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAS0002|ADread-more-books-8|")
    assert [reply.get("CQ") for reply in wrong] == ["N"] * 5
    assert wrong[0].get("AF") is None or "锁定" not in wrong[0].get("AF")
    assert (right.get("CQ"), right.fixed[:4], right.get("AF")) == ("N", "YYYY", locked_text)
    assert (out.fixed[0], out.get("AF")) == ("0", locked_text)
    assert (renew.fixed[0], renew.get("AF")) == ("0", locked_text)
    assert not Loan.objects.filter(item__barcode="LOCAL-1").exists()
    assert (fine.get("CQ"), fine.fixed[:14]) == ("Y", " " * 14)
    assert (kiosk_locked.get("CQ"), kiosk_locked.get("AF")) == ("N", locked_text)
    # the rows hold keyed hashes, never the card number
    assert set(PatronPasswordThrottle.objects.values_list("scope", flat=True)) == {"card", "kios"}
    assert not PatronPasswordThrottle.objects.filter(key__contains="S000").exists()


def test_compensation_left_unpaid_above_the_deposit_is_a_fee_at_the_kiosk(world, server):
    """A lost book the provider charged up to the credit order's deposit, 20.00 元 left owed:
    24 and 64 set excessive fees (11) with the amount (BH CNY, BV 20.00) and say what clears it;
    a checkout is refused; a return is not."""
    reader = world["reader"]
    lost = platform_loan(reader, barcode="XY-GONE", due_in=-40)
    Loan.objects.filter(pk=lost.pk).update(
        status="settled",
        settled_by="provider",
        compensation_fen=5000,
        compensation_charged_fen=3000,
        compensation_unpaid_fen=2000,
    )
    platform_loan(reader, barcode="XY-KEEP", due_in=5)
    text = (
        "遗失赔偿超出信用押金上限，信用服务方扣款后仍欠 20.00 元，"
        "到任一成员馆服务台缴纳后可继续借阅"
    )
    with Kiosk(server.port) as kiosk:
        kiosk.login("sc-gbk")
        status = kiosk.ask(f"23019{DATE}AO|AAS0001|")
        info = kiosk.ask(f"63019{DATE}{' ' * 10}AO|AAS0001|")
        out = kiosk.ask(f"11NN{DATE}{' ' * 18}AO|AAS0001|ABLOCAL-1|")
        back = kiosk.ask(f"09N{DATE}{DATE}APhall|AO|ABXY-KEEP|AC|")
    assert status.fixed[:14] == "YY Y       Y  "
    for reply in (status, info):
        assert (reply.get("BH"), reply.get("BV"), reply.get("AF")) == ("CNY", "20.00", text)
    assert (out.fixed[0], out.get("AF")) == ("0", text)
    assert not Loan.objects.filter(item__barcode="LOCAL-1").exists()
    assert back.fixed[0] == "1"
    assert Loan.objects.get(item__barcode="XY-KEEP").status == "returned"
