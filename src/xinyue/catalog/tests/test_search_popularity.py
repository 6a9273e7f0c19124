"""Popularity: readers' interest (detail views, shelf adds, order lines, loans), decayed over
time, recomputed by the daily task, orders equally matching titles (run on SQLite and on
PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.catalog import tasks
from xinyue.catalog.models import SearchDocument, Title
from xinyue.catalog.search.plan import docid
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.services import bookshelf, popularity
from xinyue.catalog.tests.engine_data import add_titles
from xinyue.catalog.tests.portal_data import new_reader
from xinyue.core import clock
from xinyue.core.actors import Channel
from xinyue.insights.models import EventType
from xinyue.insights.services import write_events
from xinyue.readers.services.identity import reader_actor

# Look-alikes: shorter titles with the same word, some recent, each with a little interest.
LOOKALIKES = {
    "python": [
        "Python入门",
        "Python基础教程",
        "Python数据分析",
        "Python网络爬虫",
        "Python核心编程",
        "Python学习手册",
        "Python机器学习",
        "Python自动化运维",
        "Python游戏开发",
        "Python科学计算",
        "Python并发编程",
        "Python测试驱动开发",
        "Python算法教程",
        "Python数据可视化",
        "Python深度学习",
        "Python金融分析",
        "Python编程导论",
        "Python网络编程",
        "Python源码剖析",
        "Python设计模式",
    ],
    "杂货": [
        "杂货铺",
        "杂货店的猫",
        "小镇杂货铺",
        "杂货店日记",
        "杂货商人",
        "街角杂货店",
        "杂货店老板",
        "山村杂货铺",
        "杂货铺往事",
        "老街杂货店",
        "杂货店的夏天",
        "杂货铺的秘密",
        "海边杂货店",
        "杂货店物语",
        "杂货铺里的人",
        "深夜杂货店",
    ],
}
WANTED = {"python": "Python编程：从入门到实践", "杂货": "解忧杂货店"}


def views(title: Title, count: int, *, days_ago: int = 0) -> None:
    """``count`` detail-page views of the title, ``days_ago`` days ago (as insights writes them)."""
    at = clock.now() - dt.timedelta(days=days_ago)
    write_events(
        [
            (at, EventType.CLICK.value, Channel.PC.value, None, "", "", title.pk, None, "", "")
            for _ in range(count)
        ]
    )


def position(query: str, title: Title) -> int | None:
    ids = [t.id for t in search_titles(query=query, page_size=100).items]
    return ids.index(title.pk) + 1 if title.pk in ids else None


@pytest.mark.parametrize("query", ["python", "杂货"])
def test_a_title_whose_interest_rises_moves_into_the_top_10(db, categories, query):
    rows = [
        {"title": name, "authors": [f"作者{i}"], "year": 2018 + i % 8}
        for i, name in enumerate(LOOKALIKES[query])
    ]
    rows.append({"title": WANTED[query], "authors": ["某作者"], "year": 2016})
    *others, wanted = add_titles(rows)
    for i, title in enumerate(others):
        views(title, 1 + i % 4, days_ago=i % 10)
    tasks.refresh_title_popularity.call_local()
    before = position(query, wanted)
    assert before is not None
    assert before > 10

    views(wanted, 12, days_ago=1)
    reader = new_reader()
    bookshelf.add_to_shelf(actor=reader_actor(reader), reader_id=reader.pk, title_id=wanted.pk)
    assert tasks.refresh_title_popularity.call_local() >= 1

    wanted.refresh_from_db()
    assert wanted.popularity == int(10 * (12 * popularity.decayed(age_days=1) + 3) + 0.5)
    # The index moved with it: its document carries the new popularity bucket.
    assert SearchDocument.objects.get(title=wanted).docid == docid(wanted.pk, wanted.popularity)
    after = position(query, wanted)
    assert after is not None
    assert after <= 10
    # Everything that matched before still matches (only the order changed).
    assert search_titles(query=query).total == len(rows)


def test_interest_decays_and_old_interest_drops_out(db):
    fresh, month_old, too_old, _seeded = add_titles(
        [
            {"title": "新近"},
            {"title": "一月前"},
            {"title": "半年多前"},
            {"title": "导入时", "popularity": 77},
        ]
    )
    views(fresh, 10)
    views(month_old, 10, days_ago=popularity.HALF_LIFE_DAYS)
    views(too_old, 10, days_ago=popularity.HORIZON_DAYS + 1)

    result = popularity.refresh_popularity()

    assert result.titles_with_interest == 2
    values = dict(Title.objects.values_list("title", "popularity"))
    assert values == {"新近": 100, "一月前": 50, "半年多前": 0, "导入时": 0}
    # A second run the same day changes nothing.
    assert popularity.refresh_popularity().changed == 0


def test_every_app_with_interest_signals_feeds_popularity():
    assert sorted(popularity.sources.keys()) == [
        "detail_views",
        "loans",
        "order_lines",
        "shelf_adds",
    ]


def test_the_order_within_a_tier_prefers_interest_then_recency(db, categories):
    this_year = clock.today().year
    old, popular, recent = add_titles(
        [
            {"title": "园林", "year": this_year - 20},
            {"title": "园林艺术", "year": this_year - 20, "popularity": 40},
            {"title": "园林设计", "year": this_year},
        ]
    )
    # Tier 0 (the title is the query) first whatever its interest; then interest, then recency.
    assert [t.id for t in search_titles(query="园林").items] == [old.pk, popular.pk, recent.pk]
    # Without interest, the new edition comes before the old one of the same tier.
    newer, older = add_titles(
        [{"title": "园林史话", "year": this_year - 1}, {"title": "园林史", "year": this_year - 30}]
    )
    ids = [t.id for t in search_titles(query="园林").items]
    assert ids.index(newer.pk) < ids.index(older.pk)
