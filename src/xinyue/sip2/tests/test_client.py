"""The SIP2 client against a real ACS on a loopback socket: framing, checksums, encodings, faults."""

from __future__ import annotations

import socket

import pytest

from xinyue.sip2.client import Sip2Client, Sip2Settings, Sip2Unavailable
from xinyue.sip2.codec import Sip2ProtocolError, checksum, decode, encode
from xinyue.sip2.testing import PATRON_BLOCKED, FakeAcs, FakePatron


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # The 3M developers' guide example (page 26) and the login / status examples that
        # independent SIP2 client libraries test against.
        ("990 402.00AY1AZ", "FCB4"),
        ("9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZ", "EC7B"),
        ("990401.00|AY1AZ", "FC59"),
    ],
)
def test_checksum_matches_the_reference_examples(message, expected):
    assert checksum(message.encode("ascii")) == expected


def test_checksum_is_over_encoded_bytes_not_characters():
    body = "64              000" + "20260101    120000" + "0000" * 6 + "AE张三|"
    utf8 = encode(body, encoding="utf-8", sequence=3)
    gbk = encode(body, encoding="gbk", sequence=3)
    assert utf8 != gbk
    assert decode(utf8, encoding="utf-8", fixed_length=59).checksum_ok is True
    assert decode(gbk, encoding="gbk", fixed_length=59).checksum_ok is True
    assert decode(gbk, encoding="gbk", fixed_length=59).get("AE") == "张三"
    # a one-byte change is caught
    tampered = gbk.replace("张".encode("gbk"), "李".encode("gbk"))
    assert decode(tampered, encoding="gbk", fixed_length=59).checksum_ok is False


def test_decode_reads_sequence_and_repeated_fields():
    raw = encode("94" + "1" + "AFone|AFtwo|", encoding="utf-8", sequence=7)
    message = decode(raw, encoding="utf-8", fixed_length=1)
    assert (message.command, message.fixed, message.sequence) == ("94", "1", 7)
    assert message.fields["AF"] == ["one", "two"]
    assert message.checksum_ok is True


def test_decode_refuses_garbage():
    with pytest.raises(Sip2ProtocolError):
        decode(b"hello\r", encoding="utf-8", fixed_length=0)
    with pytest.raises(Sip2ProtocolError):
        decode(b"64YY\r", encoding="utf-8", fixed_length=59)


def test_field_values_cannot_smuggle_fields():
    with pytest.raises(ValueError, match="cannot contain"), FakeAcs() as acs:
        Sip2Client(Sip2Settings(host=acs.host, port=acs.port)).patron_information(
            patron_identifier="123|ADx"
        )


def settings_for(acs: FakeAcs, **overrides) -> Sip2Settings:
    values = {"host": acs.host, "port": acs.port, "encoding": acs.encoding, "timeout": 2.0}
    return Sip2Settings(**{**values, **overrides})


def test_patron_information_with_login_and_gbk():
    acs = FakeAcs(
        patrons={"A0001": FakePatron(password="2468", name="王小明")},
        encoding="gbk",
        institution_id="hzlib",
        login=("xinyue", "s3cret"),
    )
    with (
        acs,
        Sip2Client(
            settings_for(acs, login_user="xinyue", login_password="s3cret", institution_id="hzlib")
        ) as client,
    ):
        info = client.patron_information(patron_identifier="A0001", patron_password="2468")
    assert (info.valid_patron, info.valid_password, info.blocked) == (True, True, False)
    assert info.personal_name == "王小明"
    assert info.institution_id == "hzlib"
    login, patron = acs.received
    assert login.startswith(b"9300CNxinyue|COs3cret|CP|AY0AZ")
    assert patron.startswith(b"63000")
    assert b"AOhzlib|AAA0001|AD2468|AY1AZ" in patron
    assert patron.endswith(b"\r")
    assert checksum(patron[:-5]) == patron[-5:-1].decode()


def test_wrong_password_unknown_card_and_blocked_card():
    acs = FakeAcs(
        patrons={"A1": FakePatron(password="1111"), "B2": FakePatron("2222", status=PATRON_BLOCKED)}
    )
    with acs, Sip2Client(settings_for(acs)) as client:
        wrong = client.patron_information(patron_identifier="A1", patron_password="9999")
        unknown = client.patron_information(patron_identifier="ZZ", patron_password="1111")
        blocked = client.patron_information(patron_identifier="B2", patron_password="2222")
    assert (wrong.valid_patron, wrong.valid_password, wrong.screen_message) == (
        True,
        False,
        "密码错误",
    )
    assert (unknown.valid_patron, unknown.valid_password) == (False, False)
    assert (blocked.valid_password, blocked.blocked) == (True, True)


def test_login_refused():
    acs = FakeAcs(login=("xinyue", "right"))
    with acs, pytest.raises(Sip2Unavailable, match="login refused"):
        Sip2Client(settings_for(acs, login_user="xinyue", login_password="wrong")).connect()


def test_bad_checksum_is_asked_again_with_97():
    acs = FakeAcs(patrons={"A1": FakePatron("1111")}, faults={"bad_checksum_once"})
    with acs, Sip2Client(settings_for(acs)) as client:
        info = client.patron_information(patron_identifier="A1", patron_password="1111")
    assert info.valid_password is True
    assert acs.received[-1] == b"97AZFEF5\r"


def test_crlf_line_endings_are_accepted():
    acs = FakeAcs(patrons={"A1": FakePatron("1111")}, line_ending=b"\r\n")
    with acs, Sip2Client(settings_for(acs)) as client:
        first = client.patron_information(patron_identifier="A1", patron_password="1111")
        second = client.patron_information(patron_identifier="A1", patron_password="0")
    assert (first.valid_password, second.valid_password) == (True, False)


def test_reply_with_another_sequence_number_is_refused():
    acs = FakeAcs(patrons={"A1": FakePatron("1111")}, faults={"wrong_sequence"})
    with (
        acs,
        Sip2Client(settings_for(acs)) as client,
        pytest.raises(Sip2Unavailable, match="sequence"),
    ):
        client.patron_information(patron_identifier="A1", patron_password="1111")


def test_silent_acs_times_out():
    acs = FakeAcs(faults={"silent"})
    with (
        acs,
        Sip2Client(settings_for(acs, timeout=0.2)) as client,
        pytest.raises(Sip2Unavailable, match="in time"),
    ):
        client.patron_information(patron_identifier="A1", patron_password="1111")


def test_nobody_listening():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Sip2Unavailable, match="cannot connect"):
        Sip2Client(Sip2Settings(host="127.0.0.1", port=port, timeout=1)).connect()


def test_password_never_in_error_messages():
    acs = FakeAcs(faults={"silent"})
    with (
        acs,
        Sip2Client(settings_for(acs, timeout=0.2)) as client,
        pytest.raises(Sip2Unavailable) as caught,
    ):
        client.patron_information(patron_identifier="A1", patron_password="secret-pw")
    assert "secret-pw" not in str(caught.value)
