"""URL map: the API under /api/v1/, pages per app, the Django admin as a back-office fallback."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.urls.resolvers import ResolverMatch, RoutePattern

from xinyue.api import api


def by_first_segment(patterns: list[URLPattern]) -> list:
    """The same patterns, those sharing a literal first path segment under one include of that
    segment: Django tries a request's path against every pattern in turn (each try a regex and
    a language look-up), and the API's search was the 58th. Only patterns that cannot match
    the same path are separated, so the first that matches is the one it was; anything this
    cannot reason about (a converter in the first segment, a regex pattern) keeps the list as
    it is. Names stay in the including namespace, so ``reverse`` is unchanged."""
    top: list = []
    groups: dict[str, list[URLPattern]] = {}
    for pattern in patterns:
        route = str(pattern.pattern)
        head, slash, rest = route.partition("/")
        if not isinstance(pattern.pattern, RoutePattern) or "<" in head or "<path:" in rest:
            return patterns
        if not slash:
            top.append(pattern)
            continue
        if head not in groups:
            groups[head] = []
            top.append(head)
        groups[head].append(path(rest, pattern.callback, pattern.default_args, name=pattern.name))
    return [
        path(f"{item}/", include(groups[item])) if isinstance(item, str) else item for item in top
    ]


class RememberingResolver(URLResolver):
    """A ``URLResolver`` that keeps its last 1,024 answers, by path: the API's patterns are plain
    routes (no translated segments, no per-request state), so a path always resolves to the
    same view and arguments, and the nested tries (11 ``resolve`` calls for the search) are paid
    once per path. A path that matches nothing raises each time, as before (nothing is kept).
    The including resolver builds a new ``ResolverMatch`` around the kept one on every request,
    so no request sees another's. docs/decisions.md, "The API search answer, second round"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remembered = lru_cache(maxsize=1024)(partial(URLResolver.resolve, self))

    def resolve(self, path: str) -> ResolverMatch:  # type: ignore[override]
        return self._remembered(str(path))


api_patterns, api_app, api_namespace = api.urls
_api_urlconf, _api_app, _api_namespace = include(
    (by_first_segment(api_patterns), api_app), namespace=api_namespace
)

urlpatterns = [
    RememberingResolver(
        RoutePattern("api/v1/", is_endpoint=False),
        _api_urlconf,
        app_name=_api_app,
        namespace=_api_namespace,
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("backoffice/", admin.site.urls),
    path("", include("xinyue.accounts.urls")),
    path("", include("xinyue.libraries.urls")),
    path("", include("xinyue.suppliers.urls")),
    path("", include("xinyue.readers.urls")),
    path("", include("xinyue.cards.urls")),
    path("", include("xinyue.credit.urls")),
    path("", include("xinyue.orders.urls")),
    path("", include("xinyue.circulation.urls")),
    path("", include("xinyue.sip2.urls")),
    path("", include("xinyue.insights.urls")),
    path("", include("xinyue.catalog.urls")),
]
