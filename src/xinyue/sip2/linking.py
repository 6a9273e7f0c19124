"""Checking a card a reader already holds through the member library's own system over SIP2
(63 Patron Information). The cards app asks for it by method; this app registers the check in
its ``AppConfig.ready``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext as _

from xinyue.cards.errors import LinkCheckUnavailable
from xinyue.cards.services.linking import Verdict
from xinyue.libraries.models import Library
from xinyue.libraries.settings_schema import library_setting
from xinyue.sip2.client import Sip2Client, Sip2Settings, Sip2Unavailable

logger = logging.getLogger(__name__)


def sip2_settings_for(library: Library) -> Sip2Settings:
    host = library_setting(library, "sip2_host")
    if not host:
        raise LinkCheckUnavailable(_("该馆尚未配置 SIP2 核验地址"), library_code=library.code)
    try:
        return Sip2Settings(
            host=host,
            port=int(library_setting(library, "sip2_port")),
            encoding=library_setting(library, "sip2_encoding"),
            login_user=library_setting(library, "sip2_login_user"),
            login_password=library_setting(library, "sip2_login_password"),
            location_code=library_setting(library, "sip2_location_code"),
            institution_id=library_setting(library, "sip2_institution_id"),
            timeout=float(settings.CARD_LINK_TIMEOUT_SECONDS),
        )
    except ValueError:
        raise LinkCheckUnavailable(library_code=library.code) from None


def check_with_sip2(*, library: Library, number: str, password: str) -> Verdict:
    """63 Patron Information: the card must be a valid patron (BL=Y) with this password (CQ=Y)
    and not blocked by the library."""
    config = sip2_settings_for(library)
    try:
        with Sip2Client(config) as client:
            info = client.patron_information(patron_identifier=number, patron_password=password)
    except Sip2Unavailable as exc:
        logger.warning("SIP2 link check at %s failed: %s", library.code, exc)
        raise LinkCheckUnavailable(library_code=library.code) from None
    if info.valid_patron is not True:
        return Verdict(False, "not_a_patron")
    if info.valid_password is not True:
        return Verdict(False, "wrong_password")
    if info.blocked:
        return Verdict(False, "blocked")
    return Verdict(True)
