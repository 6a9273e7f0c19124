"""Insights: raw usage events (page views, searches, title clicks) for the monthly report.

Events are append-only facts, written in batches (see ``xinyue.insights.services``): no foreign
keys, so that ingesting never waits on another table and deleting a reader or a title never
touches the event log (a deleted reader's events keep only an integer id, which no longer
resolves to anybody).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.actors import Channel


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", _("页面浏览")
    SEARCH = "search", _("搜索")
    # A title's detail page was opened (the report's "titles by detail-page views").
    CLICK = "click", _("点击书目")


class Event(models.Model):
    at = models.DateTimeField(_("时间"))
    type = models.CharField(_("类型"), max_length=12, choices=EventType.choices)
    channel = models.CharField(
        _("渠道"), max_length=12, choices=[(c.value, c.value) for c in Channel]
    )
    reader_id = models.BigIntegerField(_("读者"), null=True, blank=True)
    path = models.CharField(_("页面"), max_length=300, blank=True)
    # Searches: the normalised term (the same normalisation the search engine applies).
    query = models.CharField(_("检索词"), max_length=200, blank=True)
    title_id = models.BigIntegerField(_("书目"), null=True, blank=True)
    result_count = models.IntegerField(_("结果数"), null=True, blank=True)
    library_code = models.CharField(_("成员馆"), max_length=12, blank=True)
    # Who searched, for counting distinct searchers (public hot searches): ``r<reader id>`` or a
    # keyed hash of the client address; "" when unknown (events reported in batches by apps).
    client = models.CharField(_("来源"), max_length=40, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["type", "at"], name="insights_event_type_at"),
            # Finding one reader's events (account deletion) without scanning them all.
            models.Index(
                fields=["reader_id"],
                condition=models.Q(reader_id__isnull=False),
                name="insights_event_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.type} {self.query or self.path}"


class SearchTermRule(models.Model):
    """The operator's moderation of public hot searches (大家都在搜): a term hidden exactly, or a
    blocked word that hides every term containing it. Changed only through the services."""

    class Kind(models.TextChoices):
        HIDDEN = "hidden", _("隐藏检索词")
        BLOCKED = "blocked", _("屏蔽词")

    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    term = models.CharField(_("检索词"), max_length=200)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    created_by = models.CharField(_("操作人"), max_length=150, blank=True)

    class Meta:
        ordering = ["kind", "term"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "term"], name="insights_rule_kind_term"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.term}"
