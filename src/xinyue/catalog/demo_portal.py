"""Demo curation for the portal's home page: notices (province-wide and per city), editor's
picks and new books, through the curation services. Idempotent: a kind of list that already
has entries is left as the operator (or an earlier run) made it.

Run by ``xinyue seed-demo`` after the demo catalog (from ``xinyue.insights.demo``, which comes
after ``catalog`` in INSTALLED_APPS, so the titles exist by then).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinyue.catalog.models import Notice, Pick, Title
from xinyue.catalog.selectors import portal
from xinyue.catalog.services import curation
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library

# Well-known titles of the demo catalog, by ISBN-13, in the order the editor recommends them.
EDITOR_PICKS = [
    "9787020024759",  # 围城
    "9787506365437",  # 活着
    "9787536692930",  # 三体
    "9787544258609",  # 白夜行
    "9787544270878",  # 解忧杂货店
    "9787530212004",  # 平凡的世界
    "9787020002207",  # 红楼梦
    "9787115428028",  # Python编程
]

NOTICES = [
    # (title, body, city code or "" for the province, position)
    (
        "信阅上线：信用免押办证，新书快递到家",
        "芝麻信用 550 分以上的读者可在全省任一成员馆免押金办证，线上挑选新书，"
        "由浙江图书馆买单并快递到家，看完还到任一公共图书馆即可。",
        "",
        0,
    ),
    ("本月新书已上架", "文学、科普、少儿等类目新到图书 300 余种，欢迎加入书架。", "", 1),
    ("杭州图书馆：周一上午闭馆维护", "每周一 9:00–12:00 闭馆，信阅线上服务照常。", "330100", 0),
    ("宁波图书馆：亲子阅读讲座报名", "本周六下午在少儿馆举办，名额 50 人。", "330200", 0),
    ("温州市图书馆：城市书房延长开放", "全市城市书房开放至 22:00。", "330300", 0),
]


def seed(*, stdout: Any) -> None:
    notices = 0
    if not Notice.objects.exists():
        cities = set(Library.objects.filter(level="city").values_list("code", flat=True))
        start = clock.now() - dt.timedelta(days=3)
        for title, body, city, position in NOTICES:
            if city and city not in cities:
                continue
            curation.create_notice(
                actor=SYSTEM,
                title=title,
                body=body,
                city_code=city,
                starts_at=start,
                position=position,
            )
            notices += 1
    editor = 0
    if not Pick.objects.filter(kind=Pick.Kind.EDITOR).exists():
        by_isbn = dict(
            Title.objects.filter(isbn13__in=EDITOR_PICKS, is_active=True).values_list(
                "isbn13", "pk"
            )
        )
        for isbn in EDITOR_PICKS:
            if isbn in by_isbn:
                curation.add_pick(actor=SYSTEM, kind=Pick.Kind.EDITOR, title_id=by_isbn[isbn])
                editor += 1
    new = 0
    if not Pick.objects.filter(kind=Pick.Kind.NEW).exists():
        for title in portal.new_books(limit=portal.HOME_LIST_SIZE):
            curation.add_pick(actor=SYSTEM, kind=Pick.Kind.NEW, title_id=title.pk)
            new += 1
    stdout.write(f"demo curation ready: {notices} notices, {editor} picks, {new} new books added")
