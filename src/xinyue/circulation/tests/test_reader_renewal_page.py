"""续借 on 我的借阅: the reader's own loan is renewed and the page says until when; a refusal says
why and changes nothing; another reader's loan is not found."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation.models import CirculationRule, Loan, LoanEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_renewal():
    return CirculationRule.objects.create(
        program="platform",
        loan_days=30,
        renewals=1,
        renewal_grace_days=5,
        max_open_loans=5,
        compensation_factor_permille=1000,
        compensation_fee_fen=0,
    )


def test_the_reader_renews_from_my_loans(client, platform_loans, platform_reader, one_renewal):
    loan = platform_loans[0]
    old_due = loan.due_on
    client.force_login(platform_reader.user)
    page = client.get("/loans/")
    assert f'action="/loans/{loan.pk}/renew/"' in page.content.decode()

    answer = client.post(f"/loans/{loan.pk}/renew/", follow=True)
    loan.refresh_from_db()
    assert (loan.renewals, loan.due_on) == (1, old_due + dt.timedelta(days=30))
    assert f"已续借，应还日期 {loan.due_on:%Y-%m-%d}" in answer.content.decode()

    events = LoanEvent.objects.count()
    again = client.post(f"/loans/{loan.pk}/renew/", follow=True)
    assert "达到续借次数上限" in again.content.decode()
    loan.refresh_from_db()
    assert (loan.renewals, loan.due_on, LoanEvent.objects.count()) == (
        1,
        old_due + dt.timedelta(days=30),
        events,
    )


def test_another_readers_loan_is_not_found(client, platform_loans, hz_reader, one_renewal):
    loan = platform_loans[0]
    client.force_login(hz_reader.user)
    assert client.post(f"/loans/{loan.pk}/renew/").status_code == 404
    assert Loan.objects.get(pk=loan.pk).renewals == 0


def test_renewing_needs_a_post(client, platform_loans, platform_reader):
    client.force_login(platform_reader.user)
    assert client.get(f"/loans/{platform_loans[0].pk}/renew/").status_code == 405
