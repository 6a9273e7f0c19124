from xinyue.core.errors import Conflict, NotFound


class SupplierNotFound(NotFound):
    code = "supplier_not_found"
    default_message = "找不到该书商"


class SupplierCodeTaken(Conflict):
    code = "supplier_code_taken"
    default_message = "书商代码已被使用"
