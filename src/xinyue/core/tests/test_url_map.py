"""The API's patterns grouped by first path segment (``xinyue.urls.by_first_segment``) resolve
every path to the pattern the flat list resolved it to, and reverse the same."""

from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, URLResolver, resolve, reverse
from django.urls.resolvers import RegexPattern

from xinyue.api import api
from xinyue.urls import by_first_segment

FLAT, APP, NAMESPACE = api.urls


def concrete(route: str, value: str) -> str:
    return re.sub(r"<[^>]+>", value, route)


def flat_name(path: str) -> str | None:
    """The name of the first pattern of the flat list that matches (Django's rule)."""
    for pattern in FLAT:
        if pattern.resolve(path):
            return pattern.name
    return None


PATHS = sorted(
    {concrete(str(p.pattern), v) for p in FLAT for v in ("1", "abc")}
    | {"nothing", "catalog", "catalog/", "catalog/search/", "orders/1/2", "desk", "ping/x"}
)


def test_the_api_s_patterns_are_grouped():
    grouped = by_first_segment(FLAT)
    assert len(grouped) < len(FLAT) / 2
    assert sum(isinstance(p, URLResolver) for p in grouped) >= 10


@pytest.mark.parametrize("path", PATHS)
def test_every_path_resolves_to_the_pattern_it_did(path):
    expected = flat_name(path)
    try:
        match = resolve(f"/api/v1/{path}")
    except Resolver404:
        assert expected is None
    else:
        assert (match.url_name, match.namespace) == (expected, NAMESPACE)


def test_names_reverse_to_the_same_paths():
    for pattern in FLAT:
        kwargs = dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern)), "7")
        expected = "/api/v1/" + concrete(str(pattern.pattern), "7")
        assert reverse(f"{NAMESPACE}:{pattern.name}", kwargs=kwargs) == expected


def test_a_list_it_cannot_reason_about_is_left_as_it_is():
    from django.urls import path, re_path

    def view(request):
        return None

    odd = [path("a/b", view), path("<slug:x>/b", view), path("a/c", view)]
    assert by_first_segment(odd) == odd
    regex = [re_path(r"^a/b$", view), path("a/c", view)]
    assert by_first_segment(regex) == regex
    assert isinstance(regex[0].pattern, RegexPattern)


def test_the_api_s_resolver_remembers_a_path_s_answer_and_never_a_miss():
    from django.urls import get_resolver

    from xinyue.urls import RememberingResolver

    api_resolver = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    assert isinstance(api_resolver, RememberingResolver)
    api_resolver._remembered.cache_clear()
    first = resolve("/api/v1/catalog/titles/12")
    again = resolve("/api/v1/catalog/titles/12")
    other = resolve("/api/v1/catalog/titles/13")
    assert (first.url_name, first.kwargs) == (again.url_name, again.kwargs)
    assert first is not again  # each request gets its own match around the kept one
    assert other.kwargs != first.kwargs
    info = api_resolver._remembered.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 2, 2)
    for _ in range(2):
        with pytest.raises(Resolver404):
            resolve("/api/v1/no-such-thing")
    assert api_resolver._remembered.cache_info().currsize == 2
