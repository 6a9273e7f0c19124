"""The platform as a kiosk's ACS: one SIP2 request in, one reply body out.

``KioskSession`` holds what a connection knows (the kiosk account once 93 succeeded) and turns a
decoded request into the reply's body (command + fields, without ``AY``/``AZ``: the server frames
it in the account's charset). It runs in the server's thread pool, so it may use the ORM; every
change goes through the circulation services with the kiosk as actor (``services.kiosk_actor``).

Patron identifiers are card numbers, or the one-time token of a QR borrowing session
(``PATRON_RESOLVERS``, tried in order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils.translation import gettext as _
from django.utils.translation import override

from xinyue.cards.models import Card
from xinyue.circulation import selectors as circulation
from xinyue.circulation.models import Item, Loan
from xinyue.circulation.services import check_in, check_out, renew_loan
from xinyue.core import clock, login_throttle
from xinyue.core.errors import DomainError, LoginThrottled
from xinyue.libraries.models import Library
from xinyue.readers.masking import mask_name
from xinyue.readers.models import Reader
from xinyue.sip2.codec import Message, safe_value, transaction_date
from xinyue.sip2.models import KioskAccount, PatronPasswordThrottle
from xinyue.sip2.services import authenticate_kiosk, kiosk_actor

logger = logging.getLogger(__name__)

# The order of the 16 positions of the supported-messages field (BX) in 98.
BX_ORDER = (
    "23", "11", "09", "01", "99", "97", "93", "63",
    "35", "37", "17", "19", "25", "15", "29", "65",
)  # fmt: skip
LANGUAGE_CHINESE = "019"  # SIP2 language code; we answer in Chinese
NO = "N"
YES = "Y"
BLANK_STATUS = " " * 14


# --- who the patron is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Patron:
    reader: Reader
    card: Card | None  # None when named by something other than a card (a QR session token)


PatronResolver = Callable[[Library, str], Patron | None]


def patron_by_card(library: Library, identifier: str) -> Patron | None:
    """A card of this library by number; else the one open card with that number in the
    province (a reader of another member library returning or borrowing here)."""
    cards = Card.objects.exclude(status=Card.Status.CANCELLED).select_related("reader", "library")
    card = cards.filter(library=library, number=identifier).first()
    if card is None:
        others = list(cards.filter(number=identifier)[:2])
        card = others[0] if len(others) == 1 else None
    if card is None or card.reader.deleted_at is not None:
        return None
    return Patron(reader=card.reader, card=card)


def patron_by_borrow_session(library: Library, identifier: str) -> Patron | None:
    """The one-time token of a QR borrowing session this kiosk showed, once the reader confirmed
    it on the phone and until it expires."""
    from xinyue.cards.selectors import reader_card_at
    from xinyue.circulation.services import session_patron_reader

    reader = session_patron_reader(library=library, token=identifier)
    if reader is None or reader.deleted_at is not None:
        return None
    return Patron(reader=reader, card=reader_card_at(reader=reader, library=library))


# How a kiosk's patron identifier (``AA``) names a reader, tried in this order.
PATRON_RESOLVERS: tuple[PatronResolver, ...] = (patron_by_card, patron_by_borrow_session)


def find_patron(library: Library, identifier: str) -> Patron | None:
    if not identifier:
        return None
    for resolve in PATRON_RESOLVERS:
        patron = resolve(library, identifier)
        if patron is not None:
            return patron
    return None


# --- the session ---------------------------------------------------------------------------------


class NotLoggedIn(Exception):
    """A kiosk sent something other than 93, 99 or 97 before logging in: the server hangs up."""


class KioskSession:
    """One kiosk connection's protocol state. ``handle`` returns the reply body."""

    def __init__(self) -> None:
        self.account: KioskAccount | None = None

    @property
    def charset(self) -> str:
        return self.account.charset if self.account else "utf-8"

    @property
    def error_detection_required(self) -> bool:
        return self.account.error_detection if self.account else False

    def handle(self, message: Message) -> str:
        command = message.command
        if command == "93":
            return self.login(message)
        if command == "99":
            return self.status(message)
        if self.account is None:
            raise NotLoggedIn(command)
        handler = HANDLERS.get(command)
        if handler is None:
            raise KeyError(command)
        with override("zh-hans"):
            return handler(self, message)

    # --- 93 / 99 -------------------------------------------------------------------------------

    def login(self, message: Message) -> str:
        account = authenticate_kiosk(login=message.get("CN"), password=message.get("CO"))
        if account is None:
            logger.info("SIP2 login refused for %r", message.get("CN")[:40])
            return "940"
        self.account = account
        return "941"

    def status(self, message: Message) -> str:
        """98: online, what we support (BX), where the kiosk is (AO/AM/AN)."""
        supported = "".join(YES if code in SUPPORTED else NO for code in BX_ORDER)
        body = (
            "98" + YES + YES + YES + YES + NO + NO  # online, checkin, checkout, renewal, update, offline
            + "030" + "003" + transaction_date() + "2.00"  # timeout (0.1 s), retries, date, version
        )  # fmt: skip
        if self.account is not None:
            library = self.account.library
            body += f"AO{library.code}|AM{safe_value(library.name)}|BX{supported}|"
            body += f"AN{safe_value(self.account.location_code)}|"
        else:
            body += f"AO|BX{supported}|"
        return body

    # --- patrons ---------------------------------------------------------------------------------

    @property
    def library(self) -> Library:
        assert self.account is not None
        return self.account.library

    def _patron(self, message: Message) -> tuple[Patron | None, bool | None, str]:
        """The patron named by AA, whether AD is their password (None: no password sent), and
        why the password was not checked (a lock-out after too many wrong passwords for this
        card or at this kiosk; empty when it was)."""
        identifier = message.get("AA")
        patron = find_patron(self.library, identifier)
        password = message.get("AD")
        if not password:
            return patron, None, ""
        keys = self._throttle_keys(identifier)
        now = clock.now()
        try:
            login_throttle.check(PatronPasswordThrottle, keys, now)
        except LoginThrottled as exc:
            minutes = -(-int(exc.detail["retry_after_seconds"]) // 60)
            logger.info(
                "SIP2 patron password locked (%s) at kiosk %s",
                exc.detail["scope"],
                self.account.pk if self.account else "-",
            )
            return (
                patron,
                False,
                _("密码错误次数过多，已暂时锁定，请 %(minutes)s 分钟后再试或到服务台办理")
                % {"minutes": minutes},
            )
        ok = bool(patron and patron.reader.password) and check_password(
            password, patron.reader.password if patron else ""
        )
        if ok:
            login_throttle.clear(PatronPasswordThrottle, keys[0][0], keys[0][1])
        else:
            login_throttle.record_failure(PatronPasswordThrottle, keys, now)
        return patron, ok, ""

    def _throttle_keys(self, identifier: str) -> list[login_throttle.ThrottleKey]:
        """Per card (the identifier as sent, hashed) and per kiosk account: a guesser trying
        many cards from one kiosk is stopped as well as one trying many passwords on one card."""
        assert self.account is not None
        return [
            (
                PatronPasswordThrottle.Scope.CARD,
                login_throttle.keyed_hash("sip2-card", identifier.strip().casefold()),
                settings.XINYUE_LOGIN_MAX_FAILURES_PER_ID,
            ),
            (
                PatronPasswordThrottle.Scope.KIOSK,
                login_throttle.keyed_hash("sip2-kiosk", str(self.account.pk)),
                settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP,
            ),
        ]

    def _patron_flags(self, patron: Patron | None, locked: str = "") -> tuple[str, list[str]]:
        """The 14 patron status flags (Y = denied) and screen messages saying why."""
        if locked:
            return "YYYY" + " " * 10, [locked]
        if patron is None:
            return "YYYY" + " " * 10, [_("读者证不存在")]
        flags = list(BLANK_STATUS)
        messages: list[str] = []
        if patron.card is not None and patron.card.status != Card.Status.ACTIVE:
            flags[0:4] = "YYYY"
            messages.append(_("读者证已暂停，请到服务台办理"))
        if not patron.reader.is_active:
            flags[0:4] = "YYYY"
            messages.append(_("读者账户已停用，请到服务台办理"))
        for block in circulation.reader_blocks(patron.reader):
            flags[0:2] = "YY"  # charge and renewal privileges denied; returns never are
            flags[3] = YES  # hold
            if block.code in BLOCK_FLAGS:
                flags[BLOCK_FLAGS[block.code]] = YES
            messages.append(block.message)
        return "".join(flags), messages

    def _patron_fields(self, message: Message, patron: Patron | None, ok_password: bool | None):
        identifier = safe_value(message.get("AA"), 40)
        fields = f"AO{self.library.code}|AA{identifier}|"
        if patron is None:
            return fields + "AE|BLN|"
        fields += f"AE{safe_value(self._name(patron))}|BLY|"
        if ok_password is not None:
            fields += f"CQ{YES if ok_password else NO}|"
        owed = circulation.compensation_owed_fen(patron.reader)
        if owed:  # fee amount (BV) in yuan: what the reader can pay at a desk
            fields += f"BH{CURRENCY}|BV{owed // 100}.{owed % 100:02d}|"
        return fields

    @staticmethod
    def _name(patron: Patron) -> str:
        """The masked name (``张*``): a kiosk's screen is public, the reader knows their name."""
        from xinyue.readers.vault import VaultError, unseal

        if not patron.reader.name_ct:
            return ""
        try:
            return mask_name(unseal(patron.reader, "name_ct"))
        except VaultError:
            return ""

    def patron_status(self, message: Message) -> str:
        """24: the flags, the name and why the reader is blocked (AF)."""
        patron, ok_password, locked = self._patron(message)
        flags, messages = self._patron_flags(patron, locked)
        body = f"24{flags}{LANGUAGE_CHINESE}{transaction_date()}"
        body += self._patron_fields(message, patron, ok_password)
        return body + _screen(messages)

    def patron_information(self, message: Message) -> str:
        """64: as 24, with counts and the items on loan (AU) and overdue (AT)."""
        patron, ok_password, locked = self._patron(message)
        flags, messages = self._patron_flags(patron, locked)
        loans: list[Loan] = []
        if patron is not None:
            loans = list(circulation.open_loans(patron.reader))
        overdue = [loan for loan in loans if loan.is_overdue]
        counts = f"{0:04d}{len(overdue):04d}{len(loans):04d}{0:04d}{0:04d}{0:04d}"
        body = f"64{flags}{LANGUAGE_CHINESE}{transaction_date()}{counts}"
        body += self._patron_fields(message, patron, ok_password)
        body += "".join(f"AU{safe_value(loan.item.barcode, 40)}|" for loan in loans)
        body += "".join(f"AT{safe_value(loan.item.barcode, 40)}|" for loan in overdue)
        return body + _screen(messages)

    def end_session(self, message: Message) -> str:
        """36: nothing is kept per patron between messages, so ending always succeeds."""
        identifier = safe_value(message.get("AA"), 40)
        return f"36{YES}{transaction_date()}AO{self.library.code}|AA{identifier}|"

    def fee_paid(self, message: Message) -> str:
        """38: refused. The platform keeps no fines or fees a kiosk could take: overdue books
        cost nothing, and compensation for a lost book is charged through the credit provider."""
        identifier = safe_value(message.get("AA"), 40)
        body = f"38{NO}{transaction_date()}AO{self.library.code}|AA{identifier}|"
        return body + _screen([_("平台没有需要在借还机缴纳的费用")])

    # --- items -----------------------------------------------------------------------------------

    def item_information(self, message: Message) -> str:
        """18: circulation status, title, due date, owning and current library."""
        barcode = message.get("AB")
        item = circulation.item_by_barcode(barcode)
        date = transaction_date()
        if item is None:
            body = f"18{'01'}{'00'}{'01'}{date}AB{safe_value(barcode, 40)}|AJ|"
            return body + _screen([_("条码不存在")])
        loan = item.loans.filter(status=Loan.Status.ON_LOAN).first()
        body = f"18{ITEM_STATUS.get(item.status, '01')}{'00'}{'01'}{date}"
        body += f"AB{safe_value(item.barcode, 40)}|AJ{safe_value(item.title.title)}|"
        if loan is not None:
            body += f"AH{loan.due_on:%Y-%m-%d}|"
        body += f"AQ{item.owning_library.code}|"
        if item.current_library is not None:
            body += f"AP{item.current_library.code}|"
        return body

    # --- circulation -----------------------------------------------------------------------------

    def checkout(self, message: Message) -> str:
        """12: lend the book under the local program; a repeated checkout of the same book to
        the same reader answers ok again (the service returns the open loan)."""
        barcode = message.get("AB")
        patron, ok_password, locked = self._patron(message)
        head = f"AO{self.library.code}|AA{safe_value(message.get('AA'), 40)}|"
        head += f"AB{safe_value(barcode, 40)}|"
        item = circulation.item_by_barcode(barcode)
        title = f"AJ{safe_value(item.title.title) if item else ''}|"
        refused = f"12{'0'}{NO}{'U'}{NO}{transaction_date()}{head}{title}AH|"
        if locked:
            return refused + _screen([locked])
        if patron is None:
            return refused + _screen([_("读者证不存在")])
        if ok_password is False:
            return refused + _screen([_("读者密码不正确")])
        try:
            loan = check_out(
                actor=actor_of(self), library=self.library, reader=patron.reader, barcode=barcode
            )
        except DomainError as exc:
            return refused + _screen(_refusal_lines(exc))
        body = f"12{'1'}{NO}{'U'}{YES}{transaction_date()}{head}"
        body += f"AJ{safe_value(loan.item.title.title)}|AH{loan.due_on:%Y-%m-%d}|"
        return body + _screen(
            [_("借书成功，请于 %(due)s 前归还") % {"due": f"{loan.due_on:%Y-%m-%d}"}]
        )

    def checkin(self, message: Message) -> str:
        """10: take the book back here; the screen message says when it joins this library.
        A repeated check-in of the book already returned here answers ok again."""
        barcode = message.get("AB")
        head = f"AO{self.library.code}|AB{safe_value(barcode, 40)}|"
        try:
            result = check_in(actor=actor_of(self), library=self.library, barcode=barcode)
        except DomainError as exc:
            item = circulation.item_by_barcode(barcode)
            title = safe_value(item.title.title) if item else ""
            return f"10{'0'}{NO}{'U'}{YES}{transaction_date()}{head}AJ{title}|" + _screen(
                [exc.message]
            )
        item = result.item
        elsewhere = item.owning_library_id != self.library.pk  # to be sent home: sort it out
        body = f"10{'1'}{YES}{'U'}{YES if elsewhere else NO}{transaction_date()}{head}"
        body += f"AQ{item.owning_library.code}|AJ{safe_value(item.title.title)}|"
        return body + _screen([result.message])

    def renew(self, message: Message) -> str:
        """30: renew the patron's loan of this book within the rules (grace days included)."""
        barcode = message.get("AB")
        patron, ok_password, locked = self._patron(message)
        head = f"AO{self.library.code}|AA{safe_value(message.get('AA'), 40)}|"
        head += f"AB{safe_value(barcode, 40)}|"
        refused = f"30{'0'}{NO}{'U'}{NO}{transaction_date()}{head}"
        if locked:
            return refused + "AJ|" + _screen([locked])
        if patron is None:
            return refused + "AJ|" + _screen([_("读者证不存在")])
        if ok_password is False:
            return refused + "AJ|" + _screen([_("读者密码不正确")])
        loan = circulation.open_loans(patron.reader).filter(item__barcode=barcode).first()
        if loan is None:
            return refused + "AJ|" + _screen([_("该读者没有借这册书")])
        try:
            loan = renew_loan(actor=actor_of(self), loan=loan)
        except DomainError as exc:
            title = f"AJ{safe_value(loan.item.title.title)}|"
            return refused + title + _screen(_refusal_lines(exc))
        body = f"30{'1'}{YES}{'U'}{NO}{transaction_date()}{head}"
        body += f"AJ{safe_value(loan.item.title.title)}|AH{loan.due_on:%Y-%m-%d}|"
        return body + _screen(
            [_("续借成功，请于 %(due)s 前归还") % {"due": f"{loan.due_on:%Y-%m-%d}"}]
        )


CURRENCY = "CNY"  # ISO 4217, the currency type (BH) of a fee amount

# Which patron status flag (position in the 14) a block of ``reader_blocks`` sets: too many
# items overdue, too many items lost, excessive outstanding fees.
BLOCK_FLAGS = {
    "overdue": 6,
    "lost_items": 9,
    "unpaid_compensation": 11,
    "compensation_unpaid": 11,
}

# SIP2 circulation status of an item (18).
ITEM_STATUS = {
    Item.Status.AVAILABLE: "03",
    Item.Status.ON_LOAN: "04",
    Item.Status.IN_TRANSIT: "10",
    Item.Status.LOST: "12",
    Item.Status.WITHDRAWN: "01",
}


def _refusal_lines(exc: DomainError) -> list[str]:
    """What a kiosk shows for a refusal: every block of a blocked reader (each says what it is
    and what clears it), else the refusal's own message."""
    blocks = exc.detail.get("blocks") if isinstance(exc.detail, dict) else None
    if blocks:
        return [str(block["message"]) for block in blocks]
    return [exc.message]


def _screen(messages: list[str]) -> str:
    return "".join(f"AF{safe_value(text)}|" for text in messages)


HANDLERS: dict[str, Callable[[KioskSession, Message], str]] = {
    "23": KioskSession.patron_status,
    "11": KioskSession.checkout,
    "09": KioskSession.checkin,
    "29": KioskSession.renew,
    "63": KioskSession.patron_information,
    "17": KioskSession.item_information,
    "35": KioskSession.end_session,
    "37": KioskSession.fee_paid,
}
SUPPORTED = frozenset({"93", "99", "97", *HANDLERS})


def actor_of(session: KioskSession):
    assert session.account is not None
    return kiosk_actor(session.account)
