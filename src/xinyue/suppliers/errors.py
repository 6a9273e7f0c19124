from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, NotFound


class SupplierNotFound(NotFound):
    code = "supplier_not_found"
    default_message = _("找不到该书商")


class SupplierCodeTaken(Conflict):
    code = "supplier_code_taken"
    default_message = _("书商代码已被使用")
