"""Reader portal pages of the catalog: the home page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xinyue.libraries import selectors as library_selectors
from xinyue.libraries.views import CITY_SESSION_KEY

# The 18 top categories the home page shows (信阅 portal); the full tree comes with the catalog.
HOME_CATEGORIES = [
    "文学", "计算机与互联网", "国学/古籍", "文化", "电子与通信", "历史", "金融与投资", "管理", "艺术",
    "农业/林业", "健身与保健", "医学", "科普读物", "传记", "体育/运动", "育儿/家教", "摄影", "烹饪/美食",
]  # fmt: skip


def home(request: HttpRequest) -> HttpResponse:
    cities = library_selectors.cities()
    city_code = request.session.get(CITY_SESSION_KEY) or (cities[0].code if cities else "")
    current_city = next((c for c in cities if c.code == city_code), None)
    return render(
        request,
        "catalog/home.html",
        {
            "cities": cities,
            "current_city": current_city,
            "city_libraries": library_selectors.libraries_in_city(city_code=city_code)
            if city_code
            else [],
            "categories": HOME_CATEGORIES,
            "notices": [],
            "picks": [],
            "new_books": [],
        },
    )
