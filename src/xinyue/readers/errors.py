"""Refusals of the readers app (identity, login, consents, rights). Messages never echo PII."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, DomainError, InvalidInput, LoginThrottled, NotFound

__all__ = ["LoginThrottled"]  # one refusal for every log-in, raised by xinyue.core.login_throttle


class IdNumberTaken(Conflict):
    code = "id_number_taken"
    default_message = _("该身份证号已注册，请直接登录")


class LoginFailed(DomainError):
    code = "login_failed"
    http_status = 401
    default_message = _("身份证号或密码不正确")


class UnlockCodeInvalid(InvalidInput):
    code = "unlock_code_invalid"


class AccountDisabled(DomainError):
    code = "account_disabled"
    http_status = 403
    default_message = _("该读者账户已停用，请联系图书馆")


class NotAReader(DomainError):
    code = "not_a_reader"
    http_status = 403
    default_message = _("此操作需要读者登录")


class ReaderNotFound(NotFound):
    code = "reader_not_found"
    default_message = _("找不到该读者")


class WrongPassword(InvalidInput):
    code = "wrong_password"


class ConsentTextMissing(NotFound):
    code = "consent_text_missing"
    default_message = _("没有该用途的授权文本")


class UnknownConsentPurpose(InvalidInput):
    code = "unknown_consent_purpose"


class ConsentNotGranted(Conflict):
    code = "consent_not_granted"
    default_message = _("尚未授权该用途，无需撤回")


class ChannelIdentityTaken(Conflict):
    code = "channel_identity_taken"
    default_message = _("该渠道账号已绑定其他读者")


class SmsVerificationOff(Conflict):
    code = "sms_verification_off"
    default_message = _("平台未开启短信验证")


class PhoneAlreadyVerified(Conflict):
    code = "phone_already_verified"
    default_message = _("手机号已验证")


class SmsTooFrequent(DomainError):
    code = "sms_too_frequent"
    http_status = 429
    default_message = _("验证码发送过于频繁，请稍后再试")


class PhoneCodeInvalid(InvalidInput):
    code = "phone_code_invalid"


class DeletionBlocked(Conflict):
    code = "deletion_blocked"
    default_message = _("还有未完结的事项，暂不能注销账户")


class AddressNotFound(NotFound):
    code = "address_not_found"
    default_message = _("找不到该地址")


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = _("找不到该消息")
