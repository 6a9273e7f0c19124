"""Catalog: the category tree, titles, offers, and the curated home page (picks, notices).

Search support (the segmented full-text index) lives beside these tables, kept in sync by
``xinyue.catalog.services.indexing``; see ``xinyue.catalog.search``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel
from xinyue.suppliers.models import Supplier


class Category(BaseModel):
    """A node of the two-level category tree (DESIGN §11). Names are unique across the tree."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    show_on_home = models.BooleanField(_("首页显示"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def is_top(self) -> bool:
        return self.parent_id is None

    @property
    def path(self) -> str:
        """``文学 › 侦探/悬疑/推理`` for a sub-category, the name for a top one."""
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Title(BaseModel):
    """A bibliographic record (书目), identified by its normalised ISBN-13."""

    isbn13 = models.CharField(_("ISBN"), max_length=13, unique=True)
    isbn10 = models.CharField(_("ISBN-10"), max_length=10, blank=True)
    title = models.CharField(_("题名"), max_length=300)
    subtitle = models.CharField(_("副题名"), max_length=300, blank=True)
    # The names in order, e.g. ["东野圭吾", "刘子倩"]; ``authors_display`` is what pages show.
    authors = models.JSONField(_("责任者"), default=list, blank=True)
    authors_display = models.CharField(_("责任者"), max_length=300, blank=True)
    publisher = models.CharField(_("出版社"), max_length=120, blank=True, db_index=True)
    year = models.PositiveSmallIntegerField(_("出版年"), null=True, blank=True, db_index=True)
    edition = models.CharField(_("版次"), max_length=60, blank=True)
    pages = models.PositiveIntegerField(_("页数"), null=True, blank=True)
    list_price_fen = models.PositiveIntegerField(_("定价（分）"), default=0)
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="titles",
    )
    clc_class = models.CharField(_("中图法分类号"), max_length=40, blank=True)
    subjects = models.CharField(_("主题词"), max_length=500, blank=True)  # "; "-separated
    summary = models.TextField(_("内容简介"), blank=True)
    cover = models.CharField(_("封面"), max_length=300, blank=True)  # path or URL
    popularity = models.IntegerField(_("热度"), default=0)
    is_active = models.BooleanField(_("上架"), default=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["category", "year"], name="catalog_title_cat_year"),
            models.Index(fields=["-year", "-id"], name="catalog_title_newest"),
            models.Index(fields=["-popularity", "-id"], name="catalog_title_popular"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        return f"{self.title}：{self.subtitle}" if self.subtitle else self.title


class Offer(BaseModel):
    """A supplier's offer of a title: stock on hand and price. One title, many offers."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("书商"), on_delete=models.PROTECT, related_name="offers"
    )
    title = models.ForeignKey(
        Title, verbose_name=_("书目"), on_delete=models.CASCADE, related_name="offers"
    )
    stock = models.IntegerField(_("库存"), default=0)
    price_fen = models.PositiveIntegerField(_("供货价（分）"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "title"], name="offer_per_supplier_title"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="offer_stock_not_negative"),
        ]
        indexes = [
            models.Index(
                fields=["title"], condition=Q(is_active=True, stock__gt=0), name="offer_in_stock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}:{self.title_id} ×{self.stock}"


class Notice(BaseModel):
    """A notice (通知) on the home page; blank ``city_code`` means province-wide."""

    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"), blank=True)
    city_code = models.CharField(_("城市代码"), max_length=12, blank=True, db_index=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["position", "-starts_at", "id"]

    def __str__(self) -> str:
        return self.title


class Pick(BaseModel):
    """A curated title on the home page: editor's pick (主编推荐) or new book (新书推荐)."""

    class Kind(models.TextChoices):
        EDITOR = "editor", _("主编推荐")
        NEW = "new", _("新书推荐")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.ForeignKey(
        Title, verbose_name=_("书目"), on_delete=models.CASCADE, related_name="picks"
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "title"], name="pick_per_kind_title"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title_id}"


class ShelfEntry(models.Model):
    """A title on a reader's bookshelf (我的书架); anonymous shelves live in the session."""

    reader = models.ForeignKey(
        "readers.Reader", on_delete=models.CASCADE, related_name="shelf_entries"
    )
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="shelf_entries")
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reader", "title"], name="shelf_entry_per_title"),
        ]

    def __str__(self) -> str:
        return f"{self.reader_id}:{self.title_id}"


class SearchDocument(models.Model):
    """The index tokens of one active title (see ``xinyue.catalog.search.plan.Document``).

    Written only by ``xinyue.catalog.services.indexing``. On SQLite it is the external content of
    the FTS5 table ``catalog_search_fts`` (kept in step by triggers on this table, which mirror
    tokens, never clear text); on PostgreSQL the ``vector`` tsvector column (added by the
    migration, with a GIN index) holds the same tokens with positions and weights.

    ``docid`` orders the index: popular titles first (a logarithmic popularity bucket in the
    high bits, the title id in the low 32 bits), so that a common word's most popular matches
    come first (see ``xinyue.catalog.selectors.search``).
    """

    title = models.OneToOneField(
        Title, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    docid = models.BigIntegerField(unique=True)
    t = models.TextField(blank=True)
    a = models.TextField(blank=True)
    p = models.TextField(blank=True)
    s = models.TextField(blank=True)
    tg = models.TextField(blank=True)
    ag = models.TextField(blank=True)
    pt = models.TextField(blank=True)
    pa = models.TextField(blank=True)
    f = models.TextField(blank=True)  # filter tokens: category, publisher

    def __str__(self) -> str:
        return f"search document of {self.title_id}"
