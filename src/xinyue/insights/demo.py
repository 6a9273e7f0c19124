"""Demo data of the insights app: a month of readers' searches (so the operator's search-terms
page and the portal's "大家都在搜" have something to show), and the portal's demo curation
(``xinyue.catalog.demo_portal``), which needs the demo catalog that ``catalog`` loaded before."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from xinyue.catalog import demo_portal
from xinyue.core import clock
from xinyue.insights.models import Event, EventType
from xinyue.insights.services import flush_events, record_event

# What readers typed, how often in the month (the result counts come from the real search).
SEARCHES = [
    ("东野圭吾", 23),
    ("三体", 17),
    ("python", 12),
    ("活着", 9),
    ("dygw", 6),
    ("围城", 6),
    ("红楼梦", 5),
    ("9787544270878", 3),
    ("量子计算入门", 4),  # not in the catalog: shows up as a zero-result term
    ("碳中和 政策解读", 2),
]
CHANNELS = ["alipay", "alipay", "wechat", "wechat", "pc"]


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    demo_portal.seed(stdout=stdout)
    if Event.objects.filter(type=EventType.SEARCH).exists():
        return []
    from xinyue.catalog.selectors.search import search_titles

    rng = random.Random(20260501)
    now = clock.now()
    recorded = 0
    for query, times in SEARCHES:
        result = search_titles(query=query, page_size=1)
        for n in range(times):
            record_event(
                type=EventType.SEARCH,
                channel=rng.choice(CHANNELS),
                at=now - dt.timedelta(minutes=rng.randint(5, 29 * 24 * 60)),
                path="/search/",
                query=result.normalized_query,
                result_count=result.total,
                client=f"demo-{n}",  # each time another visitor (hot searches count visitors)
            )
            recorded += 1
    flush_events()
    stdout.write(f"demo searches recorded: {recorded}")
    return []
