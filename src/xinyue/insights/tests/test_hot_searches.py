"""Public hot searches, 大家都在搜 (issue 7, item 9): a term is public only after enough distinct
searchers, never when it looks like personal data or the operator hid or blocked it; refinements
of one search count once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from xinyue.core.models import AuditEntry
from xinyue.insights.models import Event, SearchTermRule
from xinyue.insights.selectors import popular_search_terms
from xinyue.insights.services import flush_events, record_event


def searched(term: str, *, clients: int, result_count: int = 5) -> None:
    for n in range(clients):
        record_event(
            type="search", channel="pc", query=term, result_count=result_count, client=f"c{n}"
        )


@pytest.fixture
def fresh(db):
    cache.clear()
    yield
    cache.clear()


def public_terms() -> list[str]:
    flush_events()
    cache.clear()
    return popular_search_terms()


def test_a_term_is_public_only_after_enough_distinct_searchers(fresh, settings):
    assert settings.XINYUE_HOT_SEARCH_MIN_CLIENTS == 3
    for _ in range(50):  # one person typing it fifty times is not "everyone"
        record_event(type="search", channel="pc", query="dygw", result_count=1, client="c0")
    searched("三体", clients=2)
    assert public_terms() == []

    searched("三体", clients=3)
    assert public_terms() == ["三体"]
    # Events without a known searcher (batches from apps) never make a term public.
    for _ in range(5):
        record_event(type="search", channel="alipay", query="活着", result_count=3)
    assert public_terms() == ["三体"]


def test_terms_that_look_like_personal_data_are_never_public(fresh):
    searched("330106199001011234", clients=5)  # stored masked
    searched("13812345678", clients=5)
    searched("东野圭吾", clients=3)
    flush_events()
    assert sorted(set(Event.objects.values_list("query", flat=True))) == [
        "138****5678",
        "330***********1234",
        "东野圭吾",
    ]
    assert public_terms() == ["东野圭吾"]


def test_the_operator_hides_a_term_and_blocks_words_on_the_console_audited(
    fresh, logged_in, operator_user, django_capture_on_commit_callbacks
):
    searched("东野圭吾", clients=4)
    searched("澳门赌场 攻略", clients=3)
    searched("三体", clients=3)
    assert public_terms() == ["东野圭吾", "三体", "澳门赌场 攻略"]

    client = logged_in(operator_user)
    page = "/console/insights/search-terms/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page, {"action": "hide", "term": "三体"}).status_code == 302
        assert client.post(page, {"action": "block", "word": "赌场"}).status_code == 302
    assert popular_search_terms() == ["东野圭吾"]  # the cache was dropped on commit
    html = client.get(page).content.decode()
    assert 'id="public-terms"><li>东野圭吾</li></ul>' in html

    rules = list(SearchTermRule.objects.values_list("kind", "term", "created_by"))
    assert rules == [("blocked", "赌场", "op"), ("hidden", "三体", "op")]
    audit = list(
        AuditEntry.objects.filter(action__startswith="search_term.")
        .order_by("id")
        .values_list("action", "actor_ref", "detail")
    )
    assert [(a, d) for a, _ref, d in audit] == [
        ("search_term.hidden", {"term": "三体"}),
        ("search_term.blocked", {"term": "赌场"}),
    ]

    empty = client.post(page, {"action": "block", "word": "  "})
    assert empty.status_code == 422
    assert SearchTermRule.objects.count() == 2

    hidden = SearchTermRule.objects.get(term="三体")
    assert client.post(page, {"action": "remove", "rule": hidden.pk}).status_code == 302
    assert public_terms() == ["东野圭吾", "三体"]
    assert AuditEntry.objects.filter(action="search_term.rule_removed").count() == 1


def test_library_staff_cannot_moderate(fresh, logged_in, hz_admin_user):
    response = logged_in(hz_admin_user).post(
        "/console/insights/search-terms/", {"action": "hide", "term": "三体"}
    )
    assert response.status_code == 403
    assert SearchTermRule.objects.count() == 0


def test_refinements_of_one_search_count_once(fresh, client):
    client.get("/search/", {"q": "园艺"})
    client.get("/search/", {"q": "园艺", "category": "文学"})
    client.get("/search/", {"q": "园艺", "sort": "newest"})
    client.get("/search/", {"q": "园艺", "page": "2"})
    client.get("/api/v1/catalog/search", {"q": "园艺", "year_from": 2000})
    client.get("/search/", {"q": "三体"})
    flush_events()
    assert sorted(Event.objects.filter(type="search").values_list("query", flat=True)) == [
        "三体",
        "园艺",
    ]
    # Another searcher's identical search is a search of its own.
    client.get("/search/", {"q": "园艺"}, REMOTE_ADDR="203.0.113.5")
    flush_events()
    assert Event.objects.filter(type="search", query="园艺").count() == 2
