"""The permissions table walked against every API operation and every console page.

Each operation (found by enumerating the ninja API and the URL patterns, so a new one without an
entry here fails) names the action of ``core.permissions.TABLE`` it performs, or says it is
public. Then every role — operator, library admin and desk (Hangzhou), supplier staff, a reader,
nobody — calls it on its own thing and on another's (reader, library, supplier), and the answer
must be what the table says: refused (401/403/404, or the log-in page) or not refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from xinyue.accounts.selectors import actor_for_user
from xinyue.accounts.services import create_supplier_user
from xinyue.api import api
from xinyue.cards.services.issuing import issue_deposit_card, request_manual_review
from xinyue.core import permissions
from xinyue.core.actors import SYSTEM
from xinyue.core.permissions import Action
from xinyue.readers.services.addresses import add_address
from xinyue.readers.services.identity import reader_actor, register_reader

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # anyone signed in, about themselves
ROLES = ("operator", "library admin", "library desk", "supplier staff", "reader", "nobody")


@dataclass
class World:
    """Hangzhou is "own" for the staff, Ningbo "other"; reader lin is "own", wang "other"."""

    users: dict[str, Any]
    readers: dict[str, Any]  # own / other
    cards: dict[str, Any]
    reviews: dict[str, Any]
    libraries: dict[str, Any]
    suppliers: dict[str, Any]
    title_id: int
    address_uid: str = ""  # the "own" reader's delivery address


@dataclass(frozen=True)
class Probe:
    """What an operation does (an action of the table, or PUBLIC / SIGNED_IN) and how to call it
    on an own or another's thing: ``call(world, target) → (method, path, json body or None)``;
    ``target`` None when the operation has no other's thing (``/readers/me``)."""

    action: Action | str
    call: Callable[[World, str], tuple[str, str, Any]]
    targets: tuple[str, ...] = ("own",)
    kind: str = "reader"  # the kind of thing targeted: reader, library, supplier, none


def get(path: str) -> Callable[[World, str], tuple[str, str, Any]]:
    return lambda w, t: ("get", path, None)


def lib(method: str, template: str, body: Any = None):
    return lambda w, t: (method, template.format(code=w.libraries[t].code), body)


def card(action: str):
    def call(w: World, t: str):
        c = w.cards[t]
        return "post", f"/api/v1/desk/cards/{c.library.code}/{c.number}/{action}", {"reason": "x"}

    return call


def review(decision: str):
    def call(w: World, t: str):
        return "post", f"/api/v1/desk/reviews/{w.reviews[t].pk}/{decision}", {"reason": "x"}

    return call


def shelf_item(w: World, t: str) -> str:
    """The barcode of a book on the shelf of the ``t`` library (made once per world)."""
    from xinyue.circulation.models import Item
    from xinyue.core import clock

    library = w.libraries[t]
    item, _created = Item.objects.get_or_create(
        barcode=f"PROBE-{library.code}",
        defaults={
            "title_id": w.title_id,
            "program": "local",
            "owning_library": library,
            "current_library": library,
            "acquired_on": clock.today(),
        },
    )
    return item.barcode


API: dict[str, Probe] = {
    "health": Probe(PUBLIC, get("/api/v1/health")),
    "ping": Probe(PUBLIC, get("/api/v1/ping")),
    "list_libraries": Probe(PUBLIC, get("/api/v1/libraries")),
    "get_library": Probe(PUBLIC, lib("get", "/api/v1/libraries/{code}")),
    "patch_library": Probe(
        Action.MANAGE_LIBRARY,
        lib("patch", "/api/v1/libraries/{code}", {}),
        ("own", "other"),
        "library",
    ),
    "list_webhooks": Probe(
        Action.MANAGE_LIBRARY,
        lib("get", "/api/v1/libraries/{code}/webhooks"),
        ("own", "other"),
        "library",
    ),
    "create_webhook": Probe(
        Action.MANAGE_LIBRARY,
        lib("post", "/api/v1/libraries/{code}/webhooks", {"url": "https://ils.example/hook"}),
        ("own", "other"),
        "library",
    ),
    "list_library_staff": Probe(
        Action.WORK_AT_LIBRARY,
        lib("get", "/api/v1/libraries/{code}/staff"),
        ("own", "other"),
        "library",
    ),
    "whoami": Probe(SIGNED_IN, get("/api/v1/whoami")),
    "register": Probe(PUBLIC, lambda w, t: ("post", "/api/v1/auth/register", {"id_number": ""})),
    "issue_token": Probe(
        PUBLIC,
        lambda w, t: (
            "post",
            "/api/v1/auth/token",
            {"id_number": "330106199001010026", "password": "read-more-books-7"},
        ),
    ),
    # Revoking the token one presents: nothing of anyone else's can be named.
    "revoke_token": Probe(SIGNED_IN, lambda w, t: ("delete", "/api/v1/auth/token", None)),
    "consent_texts": Probe(PUBLIC, get("/api/v1/consents/texts")),
    "me": Probe(Action.OWN_ACCOUNT, get("/api/v1/readers/me")),
    "delete_me": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: ("delete", "/api/v1/readers/me", {"password": "read-more-books-7"}),
    ),
    "unlock": Probe(PUBLIC, lambda w, t: ("post", "/api/v1/auth/unlock", {"id_number": ""})),
    "export": Probe(Action.OWN_ACCOUNT, get("/api/v1/readers/me/export")),
    "my_addresses": Probe(Action.OWN_ACCOUNT, get("/api/v1/readers/me/addresses")),
    "my_messages": Probe(Action.OWN_ACCOUNT, get("/api/v1/readers/me/messages")),
    "mark_messages_read": Probe(
        Action.OWN_ACCOUNT, lambda w, t: ("post", "/api/v1/readers/me/messages/read", {})
    ),
    "add_address": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: (
            "post",
            "/api/v1/readers/me/addresses",
            {
                "district_code": "330106",
                "detail": "文三路1号",
                "recipient": "张三",
                "phone": "13800138000",
            },
        ),
    ),
    "update_address": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: (
            "patch",
            f"/api/v1/readers/me/addresses/{w.address_uid}",
            {"detail": "x"},
        ),
    ),
    "delete_address": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: (
            "delete",
            f"/api/v1/readers/me/addresses/{w.address_uid}",
            None,
        ),
    ),
    "my_consents": Probe(Action.OWN_ACCOUNT, get("/api/v1/readers/me/consents")),
    "grant": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: ("post", "/api/v1/readers/me/consents", {"purpose": "share_borrowing"}),
    ),
    "withdraw": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: ("delete", "/api/v1/readers/me/consents/share_borrowing", None),
    ),
    "send_code": Probe(
        Action.OWN_ACCOUNT, lambda w, t: ("post", "/api/v1/readers/me/phone/code", {})
    ),
    "verify_code": Probe(
        Action.OWN_ACCOUNT,
        lambda w, t: ("post", "/api/v1/readers/me/phone/verify", {"code": "000000"}),
    ),
    "list_cards": Probe(Action.REQUEST_CARD, get("/api/v1/cards")),
    "issue_card": Probe(
        Action.REQUEST_CARD,
        lambda w, t: ("post", "/api/v1/cards", {"library_code": w.libraries["own"].code}),
    ),
    "card_eligibility": Probe(
        Action.REQUEST_CARD,
        lambda w, t: (
            "get",
            f"/api/v1/cards/eligibility?library_code={w.libraries['own'].code}",
            None,
        ),
    ),
    "link_card": Probe(
        Action.REQUEST_CARD,
        lambda w, t: (
            "post",
            "/api/v1/cards/link",
            {"library_code": w.libraries["own"].code, "card_number": "x"},
        ),
    ),
    "list_reviews": Probe(Action.REQUEST_CARD, get("/api/v1/cards/reviews")),
    "request_review": Probe(
        Action.REQUEST_CARD,
        lambda w, t: ("post", "/api/v1/cards/reviews", {"library_code": w.libraries["own"].code}),
    ),
    "desk_lookup": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/api/v1/desk/readers/lookup", {"card_number": w.cards[t].number}),
        kind="none",
    ),
    "desk_issue_deposit_card": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/api/v1/desk/cards", {"deposit_fen": 10000, "id_number": ""}),
        kind="none",
    ),
    "desk_suspend": Probe(Action.WORK_AT_LIBRARY, card("suspend"), ("own", "other"), "card"),
    "desk_reinstate": Probe(Action.WORK_AT_LIBRARY, card("reinstate"), ("own", "other"), "card"),
    "desk_cancel": Probe(Action.WORK_AT_LIBRARY, card("cancel"), ("own", "other"), "card"),
    "desk_link_requests": Probe(
        Action.WORK_AT_LIBRARY, get("/api/v1/desk/link-requests"), kind="none"
    ),
    "desk_approve_link": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/api/v1/desk/link-requests/999999/approve", {}),
        kind="none",
    ),
    "desk_refuse_link": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/api/v1/desk/link-requests/999999/refuse", {"reason": "x"}),
        kind="none",
    ),
    "desk_reviews": Probe(Action.WORK_AT_LIBRARY, get("/api/v1/desk/reviews"), kind="none"),
    "desk_approve_review": Probe(
        Action.WORK_AT_LIBRARY, review("approve"), ("own", "other"), "review"
    ),
    "desk_refuse_review": Probe(
        Action.WORK_AT_LIBRARY, review("refuse"), ("own", "other"), "review"
    ),
    "start_authorization": Probe(
        Action.AUTHORIZE_CREDIT,
        lambda w, t: ("post", "/api/v1/credit/authorizations", {"provider": "sandbox"}),
    ),
    "get_authorization": Probe(
        Action.SEE_CREDIT,
        lambda w, t: ("get", "/api/v1/credit/authorizations/999999", None),
        kind="none",
    ),
    "refresh_authorization": Probe(
        Action.AUTHORIZE_CREDIT,
        lambda w, t: ("post", "/api/v1/credit/authorizations/999999/refresh", {}),
        kind="none",
    ),
    "get_admittance": Probe(Action.AUTHORIZE_CREDIT, get("/api/v1/credit/admittance")),
    "list_providers": Probe(PUBLIC, get("/api/v1/credit/providers")),
    "list_settings": Probe(Action.RUN_PLATFORM, get("/api/v1/credit/settings"), kind="none"),
    "update_setting": Probe(
        Action.RUN_PLATFORM,
        lambda w, t: ("patch", "/api/v1/credit/settings/sandbox", {}),
        kind="none",
    ),
    "notify": Probe(PUBLIC, lambda w, t: ("post", "/api/v1/credit/notify/sandbox", None)),
    "search": Probe(PUBLIC, get("/api/v1/catalog/search?q=x")),
    "title_detail": Probe(
        PUBLIC, lambda w, t: ("get", f"/api/v1/catalog/titles/{w.title_id}", None)
    ),
    "categories": Probe(PUBLIC, get("/api/v1/catalog/categories")),
    "picks": Probe(PUBLIC, get("/api/v1/catalog/picks")),
    "notices": Probe(PUBLIC, get("/api/v1/notices")),
    "shelf": Probe(Action.USE_BOOKSHELF, get("/api/v1/bookshelf")),
    "place": Probe(
        Action.ORDER_BOOKS,
        lambda w, t: (
            "post",
            "/api/v1/orders",
            {"title_ids": [w.title_id], "address_uid": w.address_uid},
        ),
    ),
    "my_orders": Probe(Action.ORDER_BOOKS, get("/api/v1/orders")),
    "show": Probe(Action.ORDER_BOOKS, get("/api/v1/orders/XY20260101999999"), kind="none"),
    "cancel": Probe(
        Action.ORDER_BOOKS,
        lambda w, t: ("post", "/api/v1/orders/XY20260101999999/cancel", {}),
        kind="none",
    ),
    "receipt": Probe(
        Action.ORDER_BOOKS,
        lambda w, t: ("post", "/api/v1/orders/XY20260101999999/receipt", {}),
        kind="none",
    ),
    "my_loans": Probe(Action.ORDER_BOOKS, get("/api/v1/loans")),
    "renew": Probe(
        Action.RENEW_LOAN,
        lambda w, t: ("post", "/api/v1/loans/999999/renew", {}),
        kind="none",
    ),
    "book_return": Probe(
        Action.RENEW_LOAN,
        lambda w, t: ("post", "/api/v1/loans/999999/return-booking", {"method": "courier"}),
        kind="none",
    ),
    "hand_over": Probe(
        Action.CIRCULATE,
        lambda w, t: ("post", "/api/v1/desk/loans/999999/handed-over", {}),
        kind="none",
    ),
    # A book on the library's shelf: a check-in answers 409 (not on loan), a check-out lends it
    # (rolled back) — where the table allows; 403 elsewhere.
    "desk_checkin": Probe(
        Action.CIRCULATE,
        lambda w, t: (
            "post",
            "/api/v1/desk/checkin",
            {"barcode": shelf_item(w, t), "library_code": w.libraries[t].code},
        ),
        ("own", "other"),
        "library",
    ),
    "desk_checkout": Probe(
        Action.CIRCULATE,
        lambda w, t: (
            "post",
            "/api/v1/desk/checkout",
            {
                "barcode": shelf_item(w, t),
                "card_number": w.cards[t].number,
                "library_code": w.libraries[t].code,
            },
        ),
        ("own", "other"),
        "library",
    ),
    "desk_compensation": Probe(
        Action.CIRCULATE,
        lambda w, t: ("post", "/api/v1/desk/loans/999999/compensation", {}),
        kind="none",
    ),
    "desk_refund": Probe(
        Action.CIRCULATE,
        lambda w, t: ("post", "/api/v1/desk/loans/999999/refund", {}),
        kind="none",
    ),
    "my_credit_records": Probe(
        Action.DISPUTE_CREDIT_RECORD, get("/api/v1/readers/me/credit-records")
    ),
    "dispute_credit_record": Probe(
        Action.DISPUTE_CREDIT_RECORD,
        lambda w, t: (
            "post",
            "/api/v1/readers/me/credit-records/999999/dispute",
            {"reason": "没有逾期"},
        ),
        kind="none",
    ),
    "credit_disputes": Probe(
        Action.ANSWER_CREDIT_DISPUTE, get("/api/v1/credit-disputes"), kind="none"
    ),
    "answer_credit_dispute": Probe(
        Action.ANSWER_CREDIT_DISPUTE,
        lambda w, t: (
            "post",
            "/api/v1/credit-disputes/999999/answer",
            {"correct": False, "answer": "核实无误"},
        ),
        kind="none",
    ),
    "create_borrow_session": Probe(
        Action.CIRCULATE,
        lambda w, t: (
            "post",
            "/api/v1/desk/borrow-sessions",
            {"barcodes": [shelf_item(w, t)], "library_code": w.libraries[t].code},
        ),
        ("own", "other"),
        "library",
    ),
    "transferred_items": Probe(
        Action.WORK_AT_LIBRARY,
        lib("get", "/api/v1/libraries/{code}/transferred-items?since=2020-01-01"),
        ("own", "other"),
        "library",
    ),
    "my_wait_list": Probe(Action.ORDER_BOOKS, get("/api/v1/wait-list")),
    "join_wait_list": Probe(
        Action.ORDER_BOOKS, lambda w, t: ("post", "/api/v1/wait-list", {"title_id": w.title_id})
    ),
    "leave_wait_list": Probe(
        Action.ORDER_BOOKS, lambda w, t: ("delete", f"/api/v1/wait-list/{w.title_id}", None)
    ),
    "supplier_orders": Probe(Action.WORK_FOR_SUPPLIER, get("/api/v1/supplier/orders"), kind="none"),
    "ship": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: (
            "post",
            "/api/v1/supplier/orders/XY20260101999999/shipments",
            {"lines": [{"line_id": 1, "barcode": "X1"}], "carrier": "邮政", "tracking_number": "1"},
        ),
        kind="none",
    ),
    "reject": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: (
            "post",
            "/api/v1/supplier/orders/XY20260101999999/lines/1/reject",
            {"reason": "缺货"},
        ),
        kind="none",
    ),
    "delivered": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("post", "/api/v1/supplier/orders/XY20260101999999/delivered", {}),
        kind="none",
    ),
    "shelf_add": Probe(
        Action.USE_BOOKSHELF, lambda w, t: ("post", "/api/v1/bookshelf", {"title_id": w.title_id})
    ),
    "shelf_remove": Probe(
        Action.USE_BOOKSHELF,
        lambda w, t: ("delete", f"/api/v1/bookshelf/{w.title_id}", None),
    ),
    "supplier_stock": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("post", "/api/v1/supplier/stock", {"isbn": "9787900000017", "stock": 1}),
        kind="none",
    ),
    "list_supplier_webhooks": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: (
            "get",
            f"/api/v1/supplier/webhooks?supplier_code={w.suppliers[t].code}",
            None,
        ),
        targets=("own", "other"),
        kind="supplier",
    ),
    "create_supplier_webhook": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: (
            "post",
            "/api/v1/supplier/webhooks",
            {"url": "https://books.example/hook", "supplier_code": w.suppliers[t].code},
        ),
        targets=("own", "other"),
        kind="supplier",
    ),
    "post_events": Probe(
        Action.REPORT_USAGE, lambda w, t: ("post", "/api/v1/events", []), kind="none"
    ),
}


def kiosk_page(w: World, t: str) -> tuple[str, str, Any]:
    from xinyue.sip2.models import KioskAccount

    library = w.libraries[t]
    account, _created = KioskAccount.objects.get_or_create(
        login=f"probe-{library.code}", defaults={"library": library, "password": "!"}
    )
    return "get", f"/console/libraries/{library.code}/kiosks/{account.pk}/", None


def page(path: str) -> Callable[[World, str], tuple[str, str, Any]]:
    return lambda w, t: ("get", path, None)


PAGES: dict[str, Probe] = {
    "accounts:console": Probe(Action.USE_CONSOLE, page("/console/"), kind="none"),
    "accounts:console_staff": Probe(Action.WORK_AT_LIBRARY, page("/console/staff/"), kind="none"),
    "accounts:console_staff_toggle": Probe(
        Action.MANAGE_LIBRARY,
        lambda w, t: ("post", f"/console/staff/{w.users['library desk'].pk}/toggle/", {}),
        kind="none",
    ),
    "accounts:console_api_keys": Probe(
        Action.RUN_PLATFORM, page("/console/api-keys/"), kind="none"
    ),
    "accounts:console_api_key_revoke": Probe(
        Action.RUN_PLATFORM,
        lambda w, t: ("post", "/console/api-keys/999999/revoke/", {}),
        kind="none",
    ),
    "accounts:console_audit": Probe(Action.RUN_PLATFORM, page("/console/audit/"), kind="none"),
    "libraries:console_libraries": Probe(
        Action.RUN_PLATFORM, page("/console/libraries/"), kind="none"
    ),
    "libraries:console_library": Probe(
        Action.WORK_AT_LIBRARY,
        lib("get", "/console/libraries/{code}/"),
        ("own", "other"),
        "library",
    ),
    "libraries:console_webhooks": Probe(
        Action.MANAGE_LIBRARY,
        lib("get", "/console/libraries/{code}/webhooks/"),
        ("own", "other"),
        "library",
    ),
    "sip2:console_kiosks": Probe(
        Action.MANAGE_KIOSKS,
        lib("get", "/console/libraries/{code}/kiosks/"),
        ("own", "other"),
        "library",
    ),
    "sip2:console_kiosk": Probe(
        Action.MANAGE_KIOSKS,
        kiosk_page,
        ("own", "other"),
        "library",
    ),
    "cards:desk_home": Probe(Action.WORK_AT_LIBRARY, page("/console/desk/"), kind="none"),
    "circulation:desk_checkin": Probe(
        Action.CIRCULATE, page("/console/desk/checkin/"), kind="none"
    ),
    "circulation:desk_checkout": Probe(
        Action.CIRCULATE, page("/console/desk/checkout/"), kind="none"
    ),
    "circulation:desk_returns": Probe(
        Action.CIRCULATE, page("/console/desk/returns/"), kind="none"
    ),
    "circulation:desk_money": Probe(Action.CIRCULATE, page("/console/desk/money/"), kind="none"),
    "circulation:console_disputes": Probe(
        Action.ANSWER_CREDIT_DISPUTE, page("/console/circulation/disputes/"), kind="none"
    ),
    "circulation:console_credit_drift": Probe(
        Action.RUN_PLATFORM, page("/console/circulation/drift/"), kind="none"
    ),
    "circulation:desk_borrow_session": Probe(
        Action.CIRCULATE, page("/console/desk/borrow-session/"), kind="none"
    ),
    "circulation:console_rules": Probe(
        Action.WORK_AT_LIBRARY, page("/console/circulation/rules/"), kind="none"
    ),
    "circulation:console_rule_delete": Probe(
        Action.MANAGE_LIBRARY,
        lambda w, t: ("post", "/console/circulation/rules/999999/delete/", {}),
        kind="none",
    ),
    "cards:desk_deposit_card": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/console/desk/deposit-card/", {}),
        kind="none",
    ),
    "cards:desk_card_action": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: (
            "post",
            f"/console/desk/cards/{w.cards[t].library.code}/{w.cards[t].number}/suspend/",
            {"reason": "x"},
        ),
        ("own", "other"),
        "card",
    ),
    "cards:desk_requests": Probe(
        Action.WORK_AT_LIBRARY, page("/console/desk/requests/"), kind="none"
    ),
    "cards:desk_link_decision": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", "/console/desk/link-requests/999999/approve/", {}),
        kind="none",
    ),
    "cards:desk_review_decision": Probe(
        Action.WORK_AT_LIBRARY,
        lambda w, t: ("post", f"/console/desk/reviews/{w.reviews[t].pk}/approve/", {}),
        ("own", "other"),
        "review",
    ),
    "credit:console_settings": Probe(Action.RUN_PLATFORM, page("/console/credit/"), kind="none"),
    "insights:console_search_terms": Probe(
        Action.RUN_PLATFORM, page("/console/insights/search-terms/"), kind="none"
    ),
    "catalog:console_categories": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/categories/"), kind="none"
    ),
    "catalog:console_category": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/categories/999999/"), kind="none"
    ),
    "catalog:console_picks": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/picks/editor/"), kind="none"
    ),
    "catalog:console_pick_action": Probe(
        Action.RUN_PLATFORM,
        lambda w, t: ("post", "/console/catalog/picks/editor/999999/up/", {}),
        kind="none",
    ),
    "catalog:console_notices": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/notices/"), kind="none"
    ),
    "catalog:console_notice": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/notices/999999/"), kind="none"
    ),
    "catalog:console_import": Probe(
        Action.RUN_PLATFORM, page("/console/catalog/import/"), kind="none"
    ),
    "orders:console_supplier_orders": Probe(
        Action.WORK_FOR_SUPPLIER, page("/console/supplier/orders/"), kind="none"
    ),
    "orders:console_supplier_order": Probe(
        Action.WORK_FOR_SUPPLIER, page("/console/supplier/orders/XY20260101999999/"), kind="none"
    ),
    "orders:console_supplier_ship": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("post", "/console/supplier/orders/XY20260101999999/ship/", {}),
        kind="none",
    ),
    "orders:console_supplier_reject": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("post", "/console/supplier/orders/XY20260101999999/lines/1/reject/", {}),
        kind="none",
    ),
    "orders:console_supplier_delivered": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("post", "/console/supplier/orders/XY20260101999999/delivered/", {}),
        kind="none",
    ),
    "suppliers:console_webhooks": Probe(
        Action.WORK_FOR_SUPPLIER,
        lambda w, t: ("get", f"/console/supplier/webhooks/?supplier={w.suppliers[t].code}", None),
        targets=("own", "other"),
        kind="supplier",
    ),
    "orders:console_supplier_packing": Probe(
        Action.WORK_FOR_SUPPLIER,
        page("/console/supplier/orders/XY20260101999999/packing/"),
        kind="none",
    ),
    "orders:console_rules": Probe(Action.RUN_PLATFORM, page("/console/orders/rules/"), kind="none"),
    "orders:console_budget": Probe(
        Action.RUN_PLATFORM, page("/console/orders/budget/"), kind="none"
    ),
    "orders:console_budget_period": Probe(
        Action.RUN_PLATFORM, page("/console/orders/budget/999999/"), kind="none"
    ),
    "orders:console_budget_ledger": Probe(
        Action.RUN_PLATFORM, page("/console/orders/budget/999999/ledger.xlsx"), kind="none"
    ),
}


# --- enumerating what exists ------------------------------------------------------------------


def api_operations() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        op["operationId"].split("_api_", 1)[1]
        for ops in schema["paths"].values()
        for op in ops.values()
    }


def console_pages() -> set[str]:
    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                path = prefix + str(pattern.pattern)
                if path.startswith("console/"):
                    yield namespace + pattern.name

    return set(walk(get_resolver().url_patterns, "", ""))


def test_every_api_operation_has_an_entry():
    assert api_operations() == set(API)


def test_every_console_page_has_an_entry():
    assert console_pages() == set(PAGES)


def test_the_architecture_document_shows_the_table():
    doc = Path(__file__).resolve().parents[4] / "docs" / "architecture.md"
    assert permissions.markdown_table() in doc.read_text(encoding="utf-8")


# --- the walk ---------------------------------------------------------------------------------


@pytest.fixture
def world(hangzhou, ningbo, operator_user, hz_admin_user, hz_desk_user, settings) -> World:
    from xinyue.catalog.tests.portal_data import make_title, supplier

    settings.CREDIT_SANDBOX_IN_PROCESS = True
    own_supplier, other_supplier = (
        supplier("own-books", "自家书店"),
        supplier("other-books", "别家"),
    )
    supplier_user = create_supplier_user(
        actor=SYSTEM, supplier=own_supplier, username="supplier", password="correct-horse-42"
    )
    people = {
        "own": ("330106199001010026", "林晓雨", "13812345678"),
        "other": ("33020319850715001X", "王大卫", "13987654321"),
    }
    readers = {
        key: register_reader(
            id_number=id_number,
            name=name,
            phone=phone,
            password="read-more-books-7",
            consents=("id_number", "credit_check", "share_borrowing"),
        )
        for key, (id_number, name, phone) in people.items()
    }
    libraries = {"own": hangzhou, "other": ningbo}
    reviews = {
        key: request_manual_review(
            actor=reader_actor(readers[key]), reader=readers[key], library=libraries[key]
        )
        for key in ("own", "other")
    }
    cards = {
        key: issue_deposit_card(
            actor=SYSTEM, reader=readers[key], library=libraries[key], deposit_fen=10000
        )
        for key in ("own", "other")
    }
    address = add_address(
        actor=reader_actor(readers["own"]),
        reader=readers["own"],
        district_code="330106",
        detail="文三路1号",
        recipient="林晓雨",
        phone="13812345678",
    )
    return World(
        address_uid=str(address.uid),
        users={
            "operator": operator_user,
            "library admin": hz_admin_user,
            "library desk": hz_desk_user,
            "supplier staff": supplier_user,
            "reader": readers["own"].user,
            "nobody": None,
        },
        readers=readers,
        cards=cards,
        reviews=reviews,
        libraries=libraries,
        suppliers={"own": own_supplier, "other": other_supplier},
        title_id=make_title("围城", authors=["钱锺书"], stock=3).pk,
    )


def expected(world: World, role: str, probe: Probe, target: str) -> bool:
    """What the table says ``role`` may do to the ``target`` thing of the probe."""
    user = world.users[role]
    if probe.action == PUBLIC:
        return True
    if user is None:
        return False
    if probe.action == SIGNED_IN:
        return True
    actor = actor_for_user(user)
    if actor.reader_id is None and probe.kind == "reader":
        return False  # "me" operations need a reader to be "me"
    thing: dict[str, int] = {}
    if probe.kind == "reader":
        thing["reader_id"] = world.readers[target].pk
    elif probe.kind in ("library", "card", "review"):
        thing["library_id"] = world.libraries[target].pk
    elif probe.kind == "supplier":
        thing["supplier_id"] = world.suppliers[target].pk
    return permissions.allowed(actor, probe.action, **thing)  # type: ignore[arg-type]


def call(client: Client, method: str, path: str, body: Any):
    kwargs: dict[str, Any] = {}
    if path.startswith("/api/"):
        kwargs["content_type"] = "application/json"
        if body is not None:
            kwargs["data"] = body
    elif body is not None:
        kwargs["data"] = body
    with transaction.atomic():
        response = getattr(client, method)(path, **kwargs)
        transaction.set_rollback(True)  # every call starts from the same world
    return response


def refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "login" in location


def walk(world: World, probes: dict[str, Probe]) -> list[str]:
    wrong = []
    for name, probe in probes.items():
        for role in ROLES:
            client = Client()
            if world.users[role] is not None:
                client.force_login(world.users[role])
            for target in probe.targets:
                method, path, body = probe.call(world, target)
                response = call(client, method, path, body)
                assert response.status_code < 500, (name, role, target, response.content[:300])
                should = expected(world, role, probe, target)
                if should and probe.kind == "none" and response.status_code == 404:
                    continue  # allowed, and the made-up thing is not there
                if refused(response) == should:
                    wrong.append(
                        f"{name} {role} {target}: {response.status_code} "
                        f"(table: {'allowed' if should else 'refused'})"
                    )
    return wrong


@pytest.mark.django_db
def test_every_api_operation_answers_as_the_table_says(world):
    wrong = walk(world, API)
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_every_console_page_answers_as_the_table_says(world):
    wrong = walk(world, PAGES)
    assert not wrong, "\n".join(wrong)
