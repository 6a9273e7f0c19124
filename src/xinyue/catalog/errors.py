from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, NotFound

# --- reader portal and curation (bookshelf, picks, notices, category tree) -----------------


class TitleNotFound(NotFound):
    code = "title_not_found"
    default_message = _("找不到该书目")


class CategoryNotFound(NotFound):
    code = "category_not_found"
    default_message = _("找不到该分类")


class ShelfFull(Conflict):
    code = "shelf_full"
    default_message = _("书架已满，请先移除一些书")


class CategoryNameTaken(Conflict):
    code = "category_name_taken"
    default_message = _("分类名称已被使用")


class CategoryNotEmpty(Conflict):
    code = "category_not_empty"
    default_message = _("分类下还有子分类或书目，不能删除")


class PickExists(Conflict):
    code = "pick_exists"
    default_message = _("该书已在推荐列表中")


class NoticeNotFound(NotFound):
    code = "notice_not_found"
    default_message = _("找不到该通知")
