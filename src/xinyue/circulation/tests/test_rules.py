"""Circulation rules: most specific wins, who keeps which rows, validation, audit, and the page
that explains which rule applies here and why."""

from __future__ import annotations

import pytest

from xinyue.circulation.errors import QuotaReached
from xinyue.circulation.models import CirculationRule
from xinyue.circulation.selectors import applicable_rule
from xinyue.circulation.services import check_out, delete_rule, save_rule
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry

pytestmark = pytest.mark.django_db

VALUES = {
    "loan_days": 30,
    "renewals": 1,
    "renewal_grace_days": 3,
    "max_open_loans": 10,
    "compensation_factor_permille": 1000,
    "compensation_fee_fen": 0,
}


def test_the_most_specific_rule_wins(operator, hz_admin, hangzhou, ningbo):
    province = save_rule(actor=operator, library=None, values=VALUES)
    local = save_rule(actor=operator, library=None, values={**VALUES, "program": "local"})
    credit = save_rule(
        actor=operator,
        library=None,
        values={**VALUES, "program": "local", "reader_category": "credit", "loan_days": 45},
    )
    hz = save_rule(actor=hz_admin, library=hangzhou, values={**VALUES, "loan_days": 14})
    hz_av = save_rule(
        actor=hz_admin, library=hangzhou, values={**VALUES, "item_type": "av", "loan_days": 7}
    )

    def winner(library, category, item_type, program):
        return applicable_rule(
            library_id=library.pk,
            reader_category=category,
            item_type=item_type,
            program=program,
        )

    # 宁波 has no rows of its own: the province's most specific row
    assert winner(ningbo, "credit", "book", "local").rule == credit
    assert winner(ningbo, "deposit", "book", "local").rule == local
    assert winner(ningbo, "deposit", "book", "platform").rule == province
    # 杭州's own rows outrank the province's, the typed one where it matches
    choice = winner(hangzhou, "credit", "av", "local")
    assert choice.rule == hz_av
    assert choice.candidates == [hz_av, hz, credit, local, province]
    assert winner(hangzhou, "credit", "book", "local").rule == hz
    # nothing at all: the built-in default, said so
    CirculationRule.objects.all().delete()
    empty = winner(hangzhou, "credit", "book", "local")
    assert (empty.built_in, empty.rule.loan_days, empty.candidates) == (True, 30, [])


def test_saving_a_key_again_changes_its_row_and_is_audited(hz_admin, hangzhou):
    first = save_rule(actor=hz_admin, library=hangzhou, values={**VALUES, "program": "local"})
    second = save_rule(
        actor=hz_admin, library=hangzhou, values={**VALUES, "program": "local", "loan_days": 20}
    )
    assert first.pk == second.pk
    assert CirculationRule.objects.get().loan_days == 20
    entries = AuditEntry.objects.filter(action="circulation_rule.saved").order_by("id")
    assert [e.library_code for e in entries] == ["330100", "330100"]
    assert entries.last().detail["before"]["loan_days"] == 30
    assert entries.last().detail["after"]["loan_days"] == 20


def test_who_keeps_which_rules(operator, hz_admin, hz_desk, nb_admin, hangzhou):
    with pytest.raises(PermissionDenied):
        save_rule(actor=hz_admin, library=None, values=VALUES)  # province: operator only
    with pytest.raises(PermissionDenied):
        save_rule(actor=hz_desk, library=hangzhou, values=VALUES)  # desk staff: no
    with pytest.raises(PermissionDenied):
        save_rule(actor=nb_admin, library=hangzhou, values=VALUES)  # another library: no
    assert CirculationRule.objects.count() == 0
    rule = save_rule(actor=operator, library=hangzhou, values=VALUES)
    with pytest.raises(PermissionDenied):
        delete_rule(actor=nb_admin, rule=rule)
    delete_rule(actor=hz_admin, rule=rule)
    assert CirculationRule.objects.count() == 0
    assert AuditEntry.objects.filter(action="circulation_rule.deleted").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loan_days": -1}, "loan_days"),
        ({"loan_days": 366}, "loan_days"),
        ({"renewals": "two"}, "renewals"),
        ({"max_open_loans": True}, "max_open_loans"),
        ({"compensation_fee_fen": 1.5}, "compensation_fee_fen"),
        ({"program": "loans"}, "program"),
        ({"reader_category": "vip"}, "reader_category"),
        ({"item_type": "map"}, "item_type"),
    ],
)
def test_bad_values_name_the_field_and_change_nothing(operator, change, field):
    with pytest.raises(InvalidInput) as error:
        save_rule(actor=operator, library=None, values={**VALUES, **change})
    assert list(error.value.fields) == [field]
    assert CirculationRule.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith="circulation_rule").count() == 0


def test_a_quota_counts_per_program_and_library(hangzhou, ningbo, hz_desk, hz_reader, operator):
    save_rule(actor=operator, library=None, values={**VALUES, "max_open_loans": 1})
    check_out(
        actor=hz_desk,
        library=hangzhou,
        reader=hz_reader,
        barcode=ItemFactory(owning_library=hangzhou).barcode,
    )
    with pytest.raises(QuotaReached):
        check_out(
            actor=hz_desk,
            library=hangzhou,
            reader=hz_reader,
            barcode=ItemFactory(owning_library=hangzhou).barcode,
        )


# --- the page ---------------------------------------------------------------------------------


def test_the_rules_page_explains_which_rule_applies(
    logged_in, hz_admin_user, hz_admin, operator, hangzhou, hz_reader
):
    save_rule(actor=operator, library=None, values={**VALUES, "program": "local"})
    winner = save_rule(
        actor=hz_admin,
        library=hangzhou,
        values={**VALUES, "program": "local", "reader_category": "deposit", "loan_days": 21},
    )
    item = ItemFactory(owning_library=hangzhou, item_type="book")
    client = logged_in(hz_admin_user)
    page = client.get(
        "/console/circulation/rules/",
        {"card_number": "HZ000001", "barcode": item.barcode, "program": "local"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="winner"' in html
    assert "借期 21 天" in html
    assert html.count("被更具体的规则覆盖") == 1  # the province's local row, beaten
    assert f'id="rule-{winner.pk}"' in html


def test_the_rules_page_saves_a_library_rule_and_refuses_bad_input(
    logged_in, hz_admin_user, hz_desk_user, hangzhou
):
    client = logged_in(hz_admin_user)
    form = {"scope": "library", "program": "local", "reader_category": "", "item_type": ""}
    form |= {k: str(v) for k, v in VALUES.items()}
    response = client.post("/console/circulation/rules/", {**form, "loan_days": "400"})
    assert response.status_code == 422
    assert 'id="error-loan_days"' in response.content.decode()
    assert CirculationRule.objects.count() == 0
    response = client.post("/console/circulation/rules/", form)
    assert response.status_code == 302
    assert CirculationRule.objects.get().library_id == hangzhou.pk
    # the province's defaults are not a library admin's to set
    response = client.post("/console/circulation/rules/", {**form, "scope": "province"})
    assert response.status_code == 403
    assert CirculationRule.objects.count() == 1
    desk = logged_in(hz_desk_user)
    assert desk.post("/console/circulation/rules/", form).status_code == 403
