"""Masking helpers and the logging filter that masks ID numbers and phones in every record."""

from __future__ import annotations

import io
import logging

import pytest

from xinyue.readers.masking import (
    PiiRedactingFilter,
    mask_id_number,
    mask_name,
    mask_phone,
    redact_text,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("330106199001011234", "330***********1234"),
        ("11010519491231002X", "110***********002X"),
        ("", ""),
        ("123", "***"),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


def test_mask_phone_and_name():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("阿依古丽·买买提") == "阿*******"
    assert mask_name("") == ""
    assert mask_name(None) == ""


def test_redact_text_finds_numbers_in_free_text():
    text = "id=330106199001011234;old 330106900101123 tel:+86 138-1234-5678 or 13812345678x"
    assert (
        redact_text(text)
        == "id=330***********1234;old 330********1123 tel:138****5678 or 138****5678x"
    )
    assert redact_text("call 13812345678.") == "call 138****5678."
    assert redact_text("cert_no330106199001011234&") == "cert_no330***********1234&"
    assert (
        redact_text("order XY20180523000123 and 4006001234")
        == "order XY20180523000123 and 4006001234"
    )


def test_filter_masks_message_args_and_exceptions():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiRedactingFilter())
    logger = logging.getLogger("xinyue.test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("reader %s phone %s", "33010619900101123x", 13812345678)
        try:
            raise ValueError("bad id 330106199001011234")
        except ValueError:
            logger.exception("failed")
        logger.info("%d%%", 5)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = stream.getvalue()
    assert "reader 330***********123x phone 138****5678" in output
    assert "ValueError: bad id 330***********1234" in output
    assert "330106199001011234" not in output
    assert "13812345678" not in output
