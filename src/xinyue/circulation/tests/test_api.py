"""The circulation API: the desk's check-in and check-out with a library's key, the reader's
renewal, the MARC pull of the books that joined a library."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pymarc import MARCReader

from xinyue.accounts.services import create_api_key
from xinyue.circulation.models import CirculationRule, Item, Loan
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.credit.models import CreditOrder
from xinyue.readers.services.tokens import issue_reader_token as issue_token

pytestmark = pytest.mark.django_db


def key_client(library, role: str = "desk"):
    from conftest import bearer_client

    _key, token = create_api_key(
        actor=SYSTEM, name=f"{library.code} ILS", scope="library", library=library, role=role
    )
    return bearer_client(token)


def post(client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", **headers)


def test_desk_checkin_over_the_api_is_idempotent(platform_loans, ningbo):
    client = key_client(ningbo)
    first = post(client, "/api/v1/desk/checkin", {"barcode": "XY-0000001"})
    assert first.status_code == 200, first.content
    body = first.json()
    assert body | {"message": ""} == {
        "loan_id": platform_loans[0].pk,
        "returned": True,
        "already_returned": False,
        "transferred": True,
        "library_code": "330200",
        "owning_library_code": "330200",
        "barcode": "XY-0000001",
        "title": platform_loans[0].item.title.title,
        "message": "",
    }
    assert "新入藏" in body["message"]
    again = post(client, "/api/v1/desk/checkin", {"barcode": "XY-0000001"}).json()
    assert again == body | {"already_returned": True}
    unknown = post(client, "/api/v1/desk/checkin", {"barcode": "NOPE-0001"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "item_unknown")
    bad = post(client, "/api/v1/desk/checkin", {"barcode": "x"})
    assert (bad.status_code, list(bad.json()["detail"]["fields"])) == (422, ["barcode"])


def test_a_key_of_one_library_cannot_work_at_another(platform_loans, hangzhou, ningbo):
    client = key_client(hangzhou)
    response = post(
        client, "/api/v1/desk/checkin", {"barcode": "XY-0000001", "library_code": "330200"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert Loan.objects.filter(status="on_loan").count() == 2
    item = ItemFactory(owning_library=ningbo)
    response = post(
        client,
        "/api/v1/desk/checkout",
        {"barcode": item.barcode, "card_number": "HZ000001", "library_code": "330200"},
    )
    assert response.status_code == 403
    assert Loan.objects.filter(item=item).count() == 0


def test_desk_checkout_by_card_number_or_card_qr(hangzhou, hz_reader):
    CirculationRule.objects.create(
        library=hangzhou,
        program="local",
        loan_days=14,
        renewals=1,
        renewal_grace_days=2,
        max_open_loans=1,
        compensation_factor_permille=1000,
        compensation_fee_fen=500,
    )
    client = key_client(hangzhou)
    item = ItemFactory(owning_library=hangzhou)
    # the card's QR code holds the card number; a scanner may add blanks
    body = {"card_number": " HZ000001 ", "barcode": item.barcode}
    response = post(client, "/api/v1/desk/checkout", body)
    assert response.status_code == 201, response.content
    out = response.json()
    due = (clock.today() + dt.timedelta(days=14)).isoformat()
    assert (out["program"], out["card_number"], out["due_on"], out["library_code"]) == (
        "local",
        "HZ000001",
        due,
        "330100",
    )
    assert post(client, "/api/v1/desk/checkout", body).json()["loan_id"] == out["loan_id"]
    other = ItemFactory(owning_library=hangzhou)
    quota = post(client, "/api/v1/desk/checkout", {**body, "barcode": other.barcode})
    assert (quota.status_code, quota.json()["code"]) == (409, "quota_reached")
    assert quota.json()["detail"] == {"quota": 1, "open_loans": 1}
    unknown = post(client, "/api/v1/desk/checkout", {**body, "card_number": "HZ999999"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "card_unknown")
    assert Loan.objects.count() == 1
    assert Item.objects.get(pk=other.pk).status == "available"


def test_the_reader_renews_over_the_api(platform_loans, platform_reader, bob):
    loan = platform_loans[0]
    token = issue_token(reader=platform_reader)[1]
    from conftest import bearer_client

    client = bearer_client(token)
    response = post(client, f"/api/v1/loans/{loan.pk}/renew", {})
    assert response.status_code == 200, response.content
    assert response.json()["renewals"] == 1
    assert response.json()["due_on"] == (loan.due_on + dt.timedelta(days=30)).isoformat()
    refused = post(client, f"/api/v1/loans/{loan.pk}/renew", {})
    assert (refused.status_code, refused.json()["code"]) == (409, "renewal_refused")
    assert refused.json()["detail"]["reason"] == "limit"
    # another reader does not even learn that the loan exists
    other = bearer_client(issue_token(reader=bob)[1])
    assert post(other, f"/api/v1/loans/{loan.pk}/renew", {}).status_code == 404
    assert Loan.objects.get(pk=loan.pk).renewals == 1
    assert CreditOrder.objects.get().pending_op == ""


def test_a_library_pulls_the_books_that_joined_it_as_marc(platform_loans, ningbo, hangzhou):
    client = key_client(ningbo)
    post(client, "/api/v1/desk/checkin", {"barcode": "XY-0000001"})
    post(key_client(hangzhou), "/api/v1/desk/checkin", {"barcode": "XY-0000002"})
    today = clock.today().isoformat()
    response = client.get(f"/api/v1/libraries/330200/transferred-items?since={today}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/marc"
    records = list(MARCReader(io.BytesIO(response.content), to_unicode=True, force_utf8=True))
    assert len(records) == 1
    record = records[0]
    title = platform_loans[0].item.title
    assert record["001"].data == "XY-0000001"
    assert record["245"]["a"] == title.title
    assert record["020"]["a"] == title.isbn13
    assert record["852"]["a"] == "330200"
    assert record["852"]["p"] == "XY-0000001"
    assert record["541"]["h"] == "31.00"
    assert record["541"]["a"] == "浙江新华书店"
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    later = client.get(f"/api/v1/libraries/330200/transferred-items?since={tomorrow}")
    assert (later.status_code, later.content) == (200, b"")
    xml = client.get(f"/api/v1/libraries/330200/transferred-items?since={today}&format=marcxml")
    assert b"XY-0000001" in xml.content
    assert b"XY-0000002" not in xml.content
    other = client.get(f"/api/v1/libraries/330100/transferred-items?since={today}")
    assert other.status_code == 403
