"""Registration, ID-number validation, log-in and its throttling."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric

from xinyue.accounts.models import User
from xinyue.core import clock
from xinyue.core.errors import InvalidInput
from xinyue.core.models import AuditEntry
from xinyue.readers import vault
from xinyue.readers.errors import AccountDisabled, IdNumberTaken, LoginFailed, LoginThrottled
from xinyue.readers.models import Consent, LoginThrottle, Reader
from xinyue.readers.selectors import reader_by_id_number
from xinyue.readers.selectors.identity import reader_pii
from xinyue.readers.services.identity import authenticate_reader, register_reader
from xinyue.readers.tests.identities import ALICE, ALICE_ID, BOB_ID
from xinyue.readers.validation import parse_id_number, upgrade_15_to_18


def with_check(body: str) -> str:
    """17 digits + their right check character."""
    return body + ric.calc_check_digit(body + "0")


class TestIdNumbers:
    def test_standard_example_and_lower_case_x(self):
        parsed = parse_id_number(" 11010519491231002x ")
        assert parsed.number == "11010519491231002X"
        assert parsed.birth_date == dt.date(1949, 12, 31)
        assert parsed.gender == "female"
        assert parsed.region_code == "110105"
        assert parsed.converted_from_15 is False

    def test_male_from_odd_sequence(self):
        parsed = parse_id_number(BOB_ID)
        assert (parsed.gender, parsed.birth_year, parsed.region_code) == ("male", 1985, "330203")

    def test_fifteen_digits_are_converted_with_the_right_check_digit(self):
        assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
        parsed = parse_id_number("330106900101002")
        assert parsed.number == ALICE_ID
        assert parsed.converted_from_15 is True

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("", "请填写身份证号"),
            ("3301061990", "身份证号应为18位（或15位旧号）"),
            ("33010619900101002A", "身份证号格式不正确：前17位为数字，最后一位为数字或X"),
            ("330106199001010027", "身份证号校验位不正确，请核对"),
            ("330106199002300020", "身份证号中的出生日期不存在"),
            ("33010618800101002X", "身份证号中的出生日期不合理"),
            (with_check("99999919900101002"), "身份证号中的地区代码无效"),
        ],
    )
    def test_bad_numbers_name_the_field(self, raw, message):
        with pytest.raises(InvalidInput) as exc:
            parse_id_number(raw, today=dt.date(2026, 6, 1))
        assert exc.value.fields == {"id_number": message}

    def test_region_code_assigned_after_birth_is_accepted(self):
        # 西湖区 (330106) exists since 1983; a reader born in 1975 got the number later.
        parsed = parse_id_number(with_check("33010619750101002"))
        assert parsed.region_code == "330106"

    def test_region_code_abolished_before_birth_is_refused(self):
        # 崇文区 (110103) was abolished in 2010: nobody born in 2012 can hold it.
        assert parse_id_number(with_check("11010320000101002")).region_code == "110103"
        with pytest.raises(InvalidInput) as exc:
            parse_id_number(with_check("11010320120101002"))
        assert exc.value.fields == {"id_number": "身份证号中的地区代码无效"}

    def test_birth_date_in_the_future(self):
        with pytest.raises(InvalidInput) as exc:
            parse_id_number(with_check("33010620300101002"), today=dt.date(2026, 6, 1))
        assert exc.value.fields == {"id_number": "身份证号中的出生日期晚于今天"}


@pytest.mark.django_db
class TestRegistration:
    def test_register_seals_pii_and_derives_facts(self):
        reader = register_reader(**ALICE)
        reader.refresh_from_db()
        assert (reader.gender, reader.birth_year, reader.region_code) == ("female", 1990, "330106")
        assert reader.id_number_ct.startswith(vault.keyring().current.id + "$")
        assert ALICE_ID not in reader.id_number_ct
        pii = reader_pii(reader=reader)
        assert (pii.id_number, pii.name, pii.phone) == (ALICE_ID, "林晓雨", "13812345678")
        assert reader.user.kind == User.Kind.READER
        assert reader.user.display_name == "林**"
        assert not reader.user.has_usable_password()
        assert list(Consent.objects.filter(reader=reader).values_list("purpose", "version")) == [
            ("id_number", 1)
        ]
        assert AuditEntry.objects.filter(action="reader.registered").count() == 1
        assert reader_by_id_number(id_number=ALICE_ID.lower()) == reader

    def test_one_reader_per_id_number_even_in_15_digit_form(self, alice):
        with pytest.raises(IdNumberTaken):
            register_reader(**{**ALICE, "id_number": "330106900101002"})
        assert Reader.objects.count() == 1

    def test_every_bad_field_reported_at_once_and_nothing_saved(self):
        with pytest.raises(InvalidInput) as exc:
            register_reader(id_number="330106199001010027", name="x", phone="12345", password="123")
        assert set(exc.value.fields) == {"id_number", "name", "phone", "password"}
        assert Reader.objects.count() == 0
        assert User.objects.filter(kind="reader").count() == 0

    def test_id_number_consent_is_required(self):
        with pytest.raises(InvalidInput) as exc:
            register_reader(**ALICE, consents=[])
        assert exc.value.fields == {"consent_id_number": "注册需要同意处理您的身份证号"}
        assert Reader.objects.count() == 0

    def test_children_under_14_register_at_the_desk(self):
        year = clock.today().year - 10
        number = with_check(f"330106{year}0101002")
        with pytest.raises(InvalidInput) as exc:
            register_reader(**{**ALICE, "id_number": number})
        assert exc.value.fields == {"id_number": "未满14周岁的读者请由监护人陪同到图书馆服务台办理"}


@pytest.mark.django_db
class TestLogin:
    def test_right_password(self, alice):
        assert (
            authenticate_reader(id_number=ALICE_ID, password=ALICE["password"], ip="10.0.0.1")
            == alice
        )

    def test_wrong_password_and_unknown_number_same_refusal(self, alice):
        with pytest.raises(LoginFailed) as one:
            authenticate_reader(id_number=ALICE_ID, password="nope-nope-1", ip="10.0.0.1")
        with pytest.raises(LoginFailed) as two:
            authenticate_reader(id_number=BOB_ID, password="nope-nope-1", ip="10.0.0.1")
        assert one.value.message == two.value.message == "身份证号或密码不正确"

    def test_five_failures_lock_the_id_number_even_with_the_right_password(self, alice, settings):
        for _ in range(5):
            with pytest.raises(LoginFailed):
                authenticate_reader(id_number=ALICE_ID, password="wrong-guess", ip=f"10.0.0.{_}")
        with pytest.raises(LoginThrottled) as exc:
            authenticate_reader(id_number=ALICE_ID, password=ALICE["password"], ip="10.9.9.9")
        assert exc.value.http_status == 429
        assert 0 < exc.value.detail["retry_after_seconds"] <= 15 * 60
        # Another reader from another address is not affected.
        row = LoginThrottle.objects.get(scope="id")
        assert row.locked_until is not None
        assert ALICE_ID not in row.key

    def test_ip_limit(self, alice, bob, settings):
        settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP = 3
        for number in ("330106199001010026", BOB_ID, "11010519491231002X"):
            with pytest.raises(LoginFailed):
                authenticate_reader(id_number=number, password="wrong-guess", ip="10.1.1.1")
        with pytest.raises(LoginThrottled):
            authenticate_reader(id_number=BOB_ID, password="read-more-books-8", ip="10.1.1.1")
        assert (
            authenticate_reader(id_number=BOB_ID, password="read-more-books-8", ip="10.1.1.2")
            == bob
        )

    def test_success_clears_the_id_counter(self, alice):
        for _ in range(4):
            with pytest.raises(LoginFailed):
                authenticate_reader(id_number=ALICE_ID, password="wrong-guess", ip="10.0.0.1")
        authenticate_reader(id_number=ALICE_ID, password=ALICE["password"], ip="10.0.0.1")
        assert not LoginThrottle.objects.filter(scope="id").exists()

    def test_disabled_reader(self, alice):
        Reader.objects.filter(pk=alice.pk).update(is_active=False)
        with pytest.raises(AccountDisabled):
            authenticate_reader(id_number=ALICE_ID, password=ALICE["password"])
