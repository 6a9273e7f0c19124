"""The demo: The readers app's demo readers get real sandbox decisions (600 admitted, 549 refused)."""

from __future__ import annotations

import io

import pytest

from xinyue.credit import demo, selectors
from xinyue.credit.models import CreditAuthorization
from xinyue.credit.sandbox.models import SandboxAuthorization


@pytest.mark.django_db
def test_demo_readers_are_admitted_and_refused_through_the_sandbox():
    from xinyue.readers import demo as readers_demo

    readers_demo.seed(options={}, stdout=io.StringIO())
    out = io.StringIO()
    assert demo.seed(options={}, stdout=out) == []
    admitted = readers_demo.demo_reader("admitted")
    refused = readers_demo.demo_reader("refused")
    assert len(admitted) == 2
    assert [selectors.current_admittance(reader=r).admitted for r in admitted] == [True, True]
    assert selectors.current_admittance(reader=refused[0]).admitted is False
    assert selectors.current_admittance(reader=readers_demo.demo_reader("new")[0]) is None
    assert sorted(SandboxAuthorization.objects.values_list("score", flat=True)) == [549, 600, 600]
    assert set(CreditAuthorization.objects.values_list("decided_via", flat=True)) == {"query"}
    expected = f"refused (sandbox test user demo-reader-{refused[0].pk}, score 549, threshold 550)"
    assert expected in out.getvalue()
    demo.seed(options={}, stdout=out)  # idempotent
    assert CreditAuthorization.objects.count() == 3
