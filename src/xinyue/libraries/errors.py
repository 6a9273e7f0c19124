from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import InvalidInput, NotFound


class LibraryNotFound(NotFound):
    code = "library_not_found"
    default_message = _("找不到该成员馆")


class LibraryFileInvalid(InvalidInput):
    code = "library_file_invalid"
