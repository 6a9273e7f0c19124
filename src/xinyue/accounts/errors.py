from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, DomainError, InvalidInput, NotFound


class UsernameTaken(Conflict):
    code = "username_taken"
    default_message = _("该用户名已被使用")


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    default_message = _("找不到该 API 密钥")


class WeakPassword(InvalidInput):
    code = "weak_password"


class LoginFailed(DomainError):
    code = "login_failed"
    http_status = 401
    default_message = _("用户名或密码不正确")
