"""``xinyue bench search --titles N --json``: catalog search at N titles (DESIGN §9).

1. Makes the catalog hold N titles (the demo catalog: real titles + generated ones; bulk load).
2. Runs a fixed mixed query set — common and rare Chinese words, 2-character words, author names,
   pinyin (full, prefix, initials), ISBNs (13/10 digits, hyphens), English — through
   ``search_titles`` (page 1 + exact-or-capped total + facets + highlighted items): p50, p99 and
   queries per second, single thread, warm.
3. Runs the naive query a developer would otherwise write (``icontains`` on title, authors,
   publisher, subjects and ISBN; count + first page, no facets) on the same data in the same run.
4. Recall on a labelled set (query → the title it must find): 2-character words inside titles,
   2–3-character author names, pinyin, ISBN forms; for ours and for the naive query.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Q

from xinyue.catalog import demo
from xinyue.catalog.demo_catalog import REAL_TITLES, generated_title, isbn_for_generated
from xinyue.catalog.models import Title
from xinyue.catalog.search import text
from xinyue.catalog.search.isbn import parse_isbn
from xinyue.catalog.selectors.search import matches, search_titles

# The fixed part of the query set: (kind, query).
FIXED_QUERIES: list[tuple[str, str]] = [
    ("common_zh", "中国"),
    ("common_zh", "历史"),
    ("common_zh", "入门"),
    ("common_zh", "设计"),
    ("common_zh", "管理"),
    ("common_zh", "浙江"),
    ("common_zh", "文化"),
    ("common_zh", "小说"),
    ("common_zh", "人民文学出版社"),
    ("common_zh", "经济学"),
    ("rare_zh", "围城"),
    ("rare_zh", "解忧杂货店"),
    ("rare_zh", "白夜行"),
    ("rare_zh", "嫌疑人X的献身"),
    ("rare_zh", "三体"),
    ("rare_zh", "万历十五年"),
    ("rare_zh", "寂静的灯塔"),
    ("rare_zh", "江南园林研究"),
    ("rare_zh", "零基础学围棋"),
    ("rare_zh", "黑洞简史"),
    ("two_char", "杂货"),
    ("two_char", "夜行"),
    ("two_char", "灯塔"),
    ("two_char", "码头"),
    ("two_char", "忧杂"),
    ("two_char", "疑人"),
    ("two_char", "园林"),
    ("two_char", "昆曲"),
    ("author", "东野圭吾"),
    ("author", "刘慈欣"),
    ("author", "余华"),
    ("author", "钱锺书"),
    ("author", "慈欣"),
    ("pinyin", "dongye"),
    ("pinyin", "dygw"),
    ("pinyin", "dongyeguiwu"),
    ("pinyin", "liucixin"),
    ("pinyin", "lcx"),
    ("pinyin", "weicheng"),
    ("pinyin", "jieyouzahuodian"),
    ("pinyin", "santi"),
    ("isbn", "978-7-02-002475-9"),
    ("isbn", "9787020024759"),
    ("isbn", "7-02-002475-0"),
    ("isbn", "7020024750"),
    ("isbn", "978 7 5442 5860 9"),
    ("english", "python"),
    ("english", "machine learning"),
    ("english", "history"),
    ("english", "data science"),
    ("english", "the silent river"),
    ("english", "introduction to physics"),
    ("english", "clean code"),
    ("english", "garden"),
    ("english", "a very short introduction"),
    ("mixed", "python 编程"),
    ("mixed", "东野圭吾 白夜行"),
    ("mixed", "浙江 旅游"),
    ("hostile", '"围城" OR *'),
    ("hostile", "NEAR(三体 刘慈欣)"),
    ("hostile", "😀📚"),
    ("hostile", "x" * 1000),
]


def _log(stderr: Any, message: str) -> None:
    stderr.write(message + "\n")
    stderr.flush()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _title_by_number(i: int) -> Title | None:
    return Title.objects.filter(isbn13=isbn_for_generated(i)).first()


def sampled_queries(n_titles: int, rng: random.Random) -> tuple[list[tuple[str, str]], list]:
    """Queries and labels drawn from generated titles that exist (a fixed seed: same set each
    run at the same N). Returns (queries, labelled) with labelled = [(kind, query, title_id)]."""
    generated = max(0, n_titles - len(REAL_TITLES))
    queries: list[tuple[str, str]] = []
    labelled: list[tuple[str, str, int]] = []
    if generated == 0:
        return queries, labelled
    picks = [rng.randrange(generated) for _ in range(60)]
    for i in picks:
        title = _title_by_number(i)
        if title is None:
            continue
        g = generated_title(i)
        han_runs = [r for r in text.runs(g.title) if text.is_cjk(r) and len(r) >= 3]
        author = g.authors[0]
        if han_runs:
            run = han_runs[0]
            start = rng.randrange(0, len(run) - 1)
            two = run[start : start + 2]
            queries.append(("two_char", two))
            labelled.append(("two_char_in_title", two, title.id))
        if text.is_cjk(author[0]) and "·" not in author:
            queries.append(("author", author))
            labelled.append(("author_name", author, title.id))
            sylls = [s for s in text.syllables(author) if s]
            if sylls:
                labelled.append(("author_pinyin", "".join(sylls), title.id))
                labelled.append(("author_initials", "".join(s[0] for s in sylls), title.id))
        isbn = parse_isbn(title.isbn13)
        forms = [
            title.isbn13,
            f"{title.isbn13[:3]}-{title.isbn13[3]}-{title.isbn13[4:12]}-{title.isbn13[12]}",
        ]
        if isbn and isbn.isbn10:
            forms.append(isbn.isbn10)
        form = rng.choice(forms)
        queries.append(("isbn", form))
        labelled.append(("isbn", form, title.id))
    return queries, labelled


def fixed_labels() -> list[tuple[str, str, int]]:
    """Labels on the real titles: 2-character words inside titles, names, pinyin, ISBN forms."""
    wanted = {
        "9787544270878": [("two_char_in_title", "忧杂"), ("two_char_in_title", "杂货"), ("author_pinyin", "dongyeguiwu"), ("author_prefix", "dongye"), ("author_initials", "dygw"), ("author_name", "东野圭吾"), ("title_pinyin", "jieyouzahuodian"), ("traditional", "解憂雜貨店"), ("traditional", "東野圭吾")],
        "9787544258609": [("two_char_in_title", "夜行"), ("author_name", "东野圭吾"), ("author_initials", "dygw"), ("isbn", "978-7-5442-5860-9"), ("isbn", "7544258602")],
        "9787544241694": [("two_char_in_title", "疑人"), ("two_char_in_title", "献身"), ("author_prefix", "dongye")],
        "9787020024759": [("title", "围城"), ("title_pinyin", "weicheng"), ("author_name", "钱锺书"), ("variant", "钱钟书"), ("traditional", "錢鍾書"), ("traditional", "圍城"), ("isbn", "978-7-02-002475-9"), ("isbn", "7-02-002475-0"), ("isbn", "9787020024759")],
        "9787536692930": [("author_name", "刘慈欣"), ("two_char_in_name", "慈欣"), ("author_initials", "lcx"), ("title_pinyin", "santi"), ("traditional", "三體"), ("traditional", "劉慈欣")],
        "9787506365437": [("author_name", "余华"), ("title_pinyin", "huozhe")],
        "9787115428028": [("english", "python"), ("two_char_in_title", "入门")],
        "9787101052039": [("two_char_in_title", "十五"), ("two_char_in_title", "历十"), ("traditional", "萬曆十五年")],
    }  # fmt: skip
    by_isbn = dict(Title.objects.filter(isbn13__in=list(wanted)).values_list("isbn13", "id"))
    out = []
    for isbn13, labels in wanted.items():
        if isbn13 in by_isbn:
            out += [(kind, query, by_isbn[isbn13]) for kind, query in labels]
    return out


def naive_search(query: str) -> tuple[int, list[int]]:
    q = query.strip()
    qs = (
        Title.objects.filter(is_active=True)
        .filter(
            Q(title__icontains=q)
            | Q(authors_display__icontains=q)
            | Q(publisher__icontains=q)
            | Q(subjects__icontains=q)
            | Q(isbn13__icontains=q)
        )
        .order_by("-popularity", "-id")
    )
    total = qs.count()
    ids = list(qs.values_list("id", flat=True)[:20])
    return total, ids


def naive_matches(query: str, title_id: int) -> bool:
    q = query.strip()
    return (
        Title.objects.filter(id=title_id)
        .filter(
            Q(title__icontains=q)
            | Q(authors_display__icontains=q)
            | Q(publisher__icontains=q)
            | Q(subjects__icontains=q)
            | Q(isbn13__icontains=q)
        )
        .exists()
    )


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }
    if connection.vendor == "sqlite":
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
    return info


def run(
    *,
    titles: int,
    rounds: int = 5,
    naive_queries: int = 24,
    seed: int = 20260101,
    stderr: Any = sys.stderr,
) -> dict[str, Any]:
    started = time.perf_counter()
    _log(stderr, f"search bench: ensuring {titles} titles on {connection.vendor} …")
    load_start = time.perf_counter()
    last = [time.perf_counter()]

    def progress(done: int) -> None:
        if done % 50_000 == 0:
            now = time.perf_counter()
            _log(stderr, f"  loaded {done} titles ({50_000 / (now - last[0]):.0f}/s)")
            last[0] = now

    added_real, added = demo.ensure_catalog(titles=titles, progress=progress)
    load_s = time.perf_counter() - load_start
    n = Title.objects.filter(is_active=True).count()
    if added:
        # The bulk load leaves the tables analysed (and vacuumed on PostgreSQL).
        _log(stderr, f"  added {added_real + added} titles in {load_s:.1f} s")

    rng = random.Random(seed)
    sampled, sampled_labels = sampled_queries(n, rng)
    queries = FIXED_QUERIES + sampled
    labelled = fixed_labels() + sampled_labels
    _log(stderr, f"  {len(queries)} queries × {rounds} rounds; {len(labelled)} labelled pairs")

    # Warm-up: caches (segmenter, pinyin, SQLite pages) as in a running server.
    for _, query in queries:
        search_titles(query=query, cached=False)

    samples: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_query: dict[str, list[float]] = defaultdict(list)
    for round_number in range(rounds):
        order = list(queries)
        random.Random(seed + round_number).shuffle(order)
        for kind, query in order:
            t0 = time.perf_counter()
            search_titles(query=query, cached=False)
            elapsed = (time.perf_counter() - t0) * 1000
            samples.append(elapsed)
            by_kind[kind].append(elapsed)
            by_query[query].append(elapsed)
        _log(stderr, f"  round {round_number + 1}/{rounds}: p50 {_percentile(samples, 0.5):.2f} ms")
    ours_total_s = sum(samples) / 1000

    recall_hits = 0
    misses = []
    for kind, query, title_id in labelled:
        if matches(query=query, title_id=title_id):
            recall_hits += 1
        else:
            misses.append({"kind": kind, "query": query, "title_id": title_id})
    recall = recall_hits / len(labelled) if labelled else 1.0

    # The naive baseline: every n-th query of the set, once each (a full scan per query).
    step = max(1, len(queries) // max(1, naive_queries))
    naive_set = queries[::step][:naive_queries]
    _log(stderr, f"  naive icontains: {len(naive_set)} queries …")
    naive_samples: list[float] = []
    for _, query in naive_set:
        t0 = time.perf_counter()
        naive_search(query)
        naive_samples.append((time.perf_counter() - t0) * 1000)
    naive_recall_hits = sum(1 for _, q, tid in labelled if naive_matches(q, tid))
    naive_recall = naive_recall_hits / len(labelled) if labelled else 1.0

    # Same queries for ours, for a like-for-like speed-up.
    ours_same = [statistics.median(by_query[query]) for _, query in naive_set]
    p50 = _percentile(samples, 0.5)
    naive_p50 = _percentile(naive_samples, 0.5)
    result = {
        "bench": "search",
        "db": connection.vendor,
        "n": n,
        "ours": {
            "p50_ms": round(p50, 3),
            "p99_ms": round(_percentile(samples, 0.99), 3),
            "max_ms": round(max(samples), 3),
            "per_s": round(len(samples) / ours_total_s, 1),
            "by_kind": {
                kind: {
                    "queries": len(values) // rounds,
                    "p50_ms": round(_percentile(values, 0.5), 3),
                    "p99_ms": round(_percentile(values, 0.99), 3),
                }
                for kind, values in sorted(by_kind.items())
            },
        },
        "baseline": {
            "name": "icontains",
            "queries": len(naive_set),
            "p50_ms": round(naive_p50, 1),
            "p99_ms": round(_percentile(naive_samples, 0.99), 1),
            "per_s": round(len(naive_samples) / (sum(naive_samples) / 1000), 2),
            "recall": round(naive_recall, 4),
        },
        "speedup_p50": round(naive_p50 / p50, 1) if p50 else None,
        "speedup_same_queries_median": round(
            statistics.median(
                n / max(o, 1e-6) for n, o in zip(naive_samples, ours_same, strict=True)
            ),
            1,
        )
        if naive_samples
        else None,
        # The slowest queries by their median over the rounds: what to look at with EXPLAIN.
        "slowest": [
            {"query": query, "median_ms": round(statistics.median(values), 3)}
            for query, values in sorted(
                by_query.items(), key=lambda item: statistics.median(item[1]), reverse=True
            )[:20]
        ],
        "recall": round(recall, 4),
        "labelled": len(labelled),
        "recall_misses": misses[:20],
        "queries": len(queries),
        "rounds": rounds,
        "load_s": round(load_s, 1) if added else 0,
        "titles_added": added_real + added,
        "machine": _machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    return result


def main(
    *, titles: int, rounds: int, naive_queries: int, as_json: bool, stdout: Any, stderr: Any
) -> dict:
    result = run(titles=titles, rounds=rounds, naive_queries=naive_queries, stderr=stderr)
    if not as_json:
        ours, base = result["ours"], result["baseline"]
        stdout.write(
            f"search over {result['n']} titles ({result['db']}): "
            f"p50 {ours['p50_ms']} ms, p99 {ours['p99_ms']} ms, {ours['per_s']}/s; "
            f"icontains p50 {base['p50_ms']} ms ({result['speedup_p50']}×); "
            f"recall {result['recall']} (icontains {base['recall']})\n"
        )
    stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result
