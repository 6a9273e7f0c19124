"""``xinyue bench http --seconds 30 --concurrency 32 --json``: reader traffic over HTTP (DESIGN §9).

Starts ``xinyue serve``'s exact command line on a loopback port (or targets ``--url``) and drives
it with ``wrk`` (a C load generator; Python would compete with the server for the same cores),
one kind of request at a time, then all kinds mixed:

* pages: home, search (the bench's query set: ``benchmarks/search.py``'s fixed queries and the
  ones drawn from the catalog), a title page, the bookshelf of a logged-in reader;
* the same through the API: picks (the home page's content), search, a title, the bookshelf
  (bearer token);
* the baseline, in the same run on the same server: ``GET /api/v1/ping``, which runs the whole
  middleware chain and the API's rate limit and nothing else — the stack's ceiling;
* with a server of the bench's own, DESIGN §9's scale reference on this machine, in the same run:
  a trivial django-ninja endpoint under gunicorn with 3 sync workers
  (``benchmarks/reference_app.py``), driven by the same ``wrk`` — §9's ~6,600/s was measured
  on another machine, and this says what this one gives the bare stack.

Each kind gets ``seconds / kinds`` of load at ``concurrency`` connections; for each: requests/s,
p50/p99, error rate (HTTP ≥ 400 and socket errors), its share of the ceiling and, with a server of
the bench's own, the server's CPU time per request (user + system time of the server's processes
over the kind's run, from ``/proc``: the figure a busy machine distorts least). While the mixed
traffic runs, the RSS, USS (pages only this process has) and PSS of every worker are sampled.

Honest about the search result cache: the searches above run warm (after one more pass over the
query set through the page and the API), the cache's hits and misses are reported, and, on a
server of the bench's own, the same two searches run again in the same run on a second server
with the cache off (``search_page_cache_off``, ``api_search_cache_off``: every search runs the
engine, the cold-cache cost).

Rate limits stay on, set so high that the bench's single address is counted but never refused
(every API call still pays for its counter). Progress goes to stderr; the last line of stdout is
one JSON object.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk" / "paths.lua"
# Counted, never refused: the bench comes from one address.
UNLIMITED_RATE = "1000000000/min"
# A fictitious reader of the bench (valid in form; the demo readers' pattern).
BENCH_READER_BASE = "33010619920101901"
BENCH_PASSWORD = "xinyue-bench-2026"
KINDS = (
    "home",
    "search_page",
    "title_page",
    "shelf_page",
    "api_picks",
    "api_search",
    "api_title",
    "api_shelf",
)


def _log(stderr: Any, message: str) -> None:
    stderr.write(message + "\n")
    stderr.flush()


def _opener(jar: http.cookiejar.CookieJar | None = None) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [urllib.request.ProxyHandler({})]  # loopback only, never a proxy
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def _call(
    base: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> tuple[int, bytes]:
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with (opener or _opener()).open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- the data the traffic needs -------------------------------------------------------------


def bench_reader_number() -> str:
    from stdnum.cn import ric

    return BENCH_READER_BASE + ric.calc_check_digit(BENCH_READER_BASE + "0")


def ensure_local_data(*, titles: int | None, stderr: Any) -> tuple[str, str]:
    """The catalog (topped up to ``titles`` if given) and the bench's reader; returns its
    (ID number, password)."""
    from xinyue.catalog import demo
    from xinyue.readers.selectors import reader_by_id_number
    from xinyue.readers.services.identity import register_reader

    if titles:
        _log(stderr, f"http bench: ensuring {titles} titles …")
        demo.ensure_catalog(titles=titles)
    number = bench_reader_number()
    if reader_by_id_number(id_number=number) is None:
        register_reader(
            id_number=number, name="压测读者", phone="13800000000", password=BENCH_PASSWORD
        )
    return number, BENCH_PASSWORD


def search_queries(*, local: bool) -> list[str]:
    """The search bench's query set: its fixed queries, plus (with a local catalog) the ones it
    draws from generated titles with its fixed seed."""
    from benchmarks.search import FIXED_QUERIES, sampled_queries

    queries = [q for _, q in FIXED_QUERIES]
    if local:
        from xinyue.catalog.models import Title

        n = Title.objects.filter(is_active=True).count()
        sampled, _ = sampled_queries(n, random.Random(20260101))
        queries += [q for _, q in sampled]
    return queries


def reader_session(base: str, number: str, password: str) -> str:
    """Log the reader in through the page form; returns the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    status, page = _call(base, "/reader/login/", opener=opener)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or match is None:
        raise RuntimeError(f"reader log-in page: HTTP {status}")
    form = urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "id_number": number, "password": password}
    ).encode()
    request = urllib.request.Request(base + "/reader/login/", data=form, headers={"Referer": base})
    with opener.open(request, timeout=30):
        pass
    for cookie in jar:
        if cookie.name == "sessionid":
            return cookie.value
    raise RuntimeError("reader log-in through the page gave no session")


def reader_token(base: str, number: str, password: str) -> str:
    status, body = _call(
        base, "/api/v1/auth/token", body={"id_number": number, "password": password}
    )
    if status != 200:
        raise RuntimeError(f"reader token: HTTP {status} {body[:200]!r}")
    return json.loads(body)["token"]


def discover_titles(base: str, queries: list[str], stderr: Any) -> list[int]:
    """Run every query once through the API (a warm-up) and keep the first hit of each."""
    ids: list[int] = []
    for query in queries:
        status, body = _call(base, "/api/v1/catalog/search?q=" + quote(query))
        if status != 200:
            _log(stderr, f"  warm-up search {query[:20]!r}: HTTP {status}")
            continue
        items = json.loads(body)["items"]
        if items and items[0]["id"] not in ids:
            ids.append(items[0]["id"])
    return ids


# --- the server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(
    command: list[str], *, env: dict[str, str], port: int, ping: str, log_path: Path, what: str
):
    """Run a server ``command`` (its own session, so its workers stop with it) until ``ping``
    answers 200 on ``port``; yields its base URL and pid, and stops it afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _call(base, ping)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start:\n" + log_path.read_text()[-2000:])
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def own_server(
    *,
    port: int | None,
    workers: int,
    threads: int,
    log_dir: Path,
    stderr: Any,
    log_name: str = "server.log",
    extra_env: dict[str, str] | None = None,
):
    """``xinyue serve``'s command line (Granian, WSGI) on 127.0.0.1, no access log."""
    from xinyue.core.server import web_command

    port = port or _free_port()
    env = dict(os.environ)
    env.update(
        XINYUE_API_RATE_ANONYMOUS=UNLIMITED_RATE, XINYUE_API_RATE_AUTHENTICATED=UNLIMITED_RATE
    )
    env.update(extra_env or {})
    command = web_command(
        host="127.0.0.1", port=port, workers=workers, threads=threads, access_log=False
    )
    with _serving(
        command,
        env=env,
        port=port,
        ping="/api/v1/ping",
        log_path=log_dir / log_name,
        what="web server",
    ) as (base, pid):
        _log(stderr, f"  server: {workers} workers × {threads} threads at {base}")
        yield base, pid


@contextlib.contextmanager
def reference_server(*, log_dir: Path, stderr: Any):
    """DESIGN §9's reference stack: ``benchmarks/reference_app.py`` under gunicorn, 3 sync
    workers, on a loopback port; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "3", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "benchmarks.reference_app:application",
    ]  # fmt: skip
    with _serving(
        command,
        env=env,
        port=port,
        ping="/api/ping",
        log_path=log_dir / "reference-server.log",
        what="reference server",
    ) as (base, _pid):
        _log(stderr, f"  reference: trivial django-ninja endpoint, gunicorn 3 sync at {base}")
        yield base


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every process below it (from ``/proc``; a
    process that has exited counts no more)."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        todo.extend(_children(current))
    return total


def memory_of(pid: int) -> dict[str, float] | None:
    """RSS, PSS and USS (private clean + dirty) in MB, from ``smaps_rollup``."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    kb = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        kb[name] = int(rest.split()[0])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return {
        "rss_mb": round(kb.get("Rss", 0) / 1024, 1),
        "pss_mb": round(kb.get("Pss", 0) / 1024, 1),
        "uss_mb": round(uss / 1024, 1),
    }


class MemorySampler(threading.Thread):
    """The largest RSS/PSS/USS seen per worker while it runs (every 0.5 s)."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.peak: dict[int, dict[str, float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for pid in _children(self.server_pid):
                sample = memory_of(pid)
                if sample is None:
                    continue
                peak = self.peak.setdefault(pid, dict(sample))
                for key, value in sample.items():
                    peak[key] = max(peak[key], value)


# --- load -----------------------------------------------------------------------------------


def drain(base: str, *, limit_s: float = 60.0) -> None:
    """Wait until the server has worked off what the last run left queued (wrk stops sending,
    not the server working): a ping must answer within 50 ms, so the next kind starts fresh."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            _call(base, "/api/v1/ping")
        if time.monotonic() - started < 0.05:
            return


def run_wrk(
    base: str, lines: list[str], *, seconds: int, concurrency: int, work: Path
) -> dict[str, Any]:
    paths_file = work / f"paths-{len(list(work.iterdir()))}.txt"
    paths_file.write_text("\n".join(lines) + "\n")
    command = [
        "wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(LUA), base, "--", str(paths_file),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("XINYUE-WRK "))
    raw = json.loads(line.removeprefix("XINYUE-WRK "))
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    errors = raw["status_errors"] + socket_errors
    per_s = raw["requests"] / (raw["duration_us"] / 1e6) if raw["duration_us"] else 0.0
    return {
        "requests": raw["requests"],
        "per_s": round(per_s, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "errors": errors,
        "error_rate": round(errors / max(1, raw["requests"] + socket_errors), 4),
    }


def traffic(
    *, queries: list[str], title_ids: list[int], session: str, token: str
) -> dict[str, list[str]]:
    cookie = f"\tCookie: sessionid={session}"
    bearer = f"\tAuthorization: Bearer {token}"
    searches = [quote(q) for q in queries]
    return {
        "home": ["/"],
        "search_page": [f"/search/?q={q}" for q in searches],
        "title_page": [f"/titles/{i}/" for i in title_ids],
        "shelf_page": ["/shelf/" + cookie],
        "api_picks": ["/api/v1/catalog/picks"],
        "api_search": [f"/api/v1/catalog/search?q={q}" for q in searches],
        "api_title": [f"/api/v1/catalog/titles/{i}" for i in title_ids],
        "api_shelf": ["/api/v1/bookshelf" + bearer],
    }


def mixed(kinds: dict[str, list[str]], rng: random.Random) -> list[str]:
    """A reader's mix: searches most, then titles, home and the bookshelf."""
    weights = {
        "home": 2, "search_page": 6, "title_page": 4, "shelf_page": 1,
        "api_picks": 1, "api_search": 6, "api_title": 4, "api_shelf": 1,
    }  # fmt: skip
    lines = []
    for kind, weight in weights.items():
        for _ in range(weight * 20):
            lines.append(rng.choice(kinds[kind]))
    rng.shuffle(lines)
    return lines


def _machine() -> dict[str, Any]:
    from benchmarks.search import _machine as search_machine

    info = search_machine()
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def run(
    *,
    seconds: int,
    concurrency: int,
    url: str | None,
    titles: int | None,
    workers: int,
    threads: int,
    port: int | None,
    reader: str | None,
    password: str | None,
    stderr: Any,
) -> dict[str, Any]:
    # A TERM (a stopped run) unwinds like an exception, so the server started here stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian package `wrk`)")
    started = time.perf_counter()
    local = url is None
    number, secret = (reader or "", password or "")
    if local:
        number, secret = ensure_local_data(titles=titles, stderr=stderr)
    elif not (reader and password):
        raise RuntimeError("--url needs --reader and --password (a reader of that server)")
    queries = search_queries(local=local)
    # + the ceiling, the mix and (on a server of our own) the two searches with the cache off
    # and the reference stack
    per_kind = max(1, round(seconds / (len(KINDS) + 2 + (3 if local else 0))))
    with tempfile.TemporaryDirectory(prefix="xinyue-bench-http-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            if local:
                base, server_pid = stack.enter_context(
                    own_server(
                        port=port, workers=workers, threads=threads, log_dir=work, stderr=stderr
                    )
                )
            else:
                base, server_pid = url.rstrip("/"), None
            session = reader_session(base, number, secret)
            token = reader_token(base, number, secret)
            _log(stderr, f"  warm-up: {len(queries)} searches through the API …")
            title_ids = discover_titles(base, queries, stderr)
            if not title_ids:
                raise RuntimeError("no search found a title: is the catalog empty?")
            for title_id in title_ids[:5]:
                _call(
                    base,
                    "/api/v1/bookshelf",
                    body={"title_id": title_id},
                    headers={"Authorization": f"Bearer {token}"},
                )
            kinds = traffic(queries=queries, title_ids=title_ids, session=session, token=token)
            # Every kind once more, a short warm-up (templates, caches); then every search of
            # the set once more through the page and the API, so that each worker's result
            # cache has most of them (the warm steady state; the cold cost is measured below).
            run_wrk(base, mixed(kinds, random.Random(1)), seconds=1, concurrency=4, work=work)
            for path in kinds["search_page"] + kinds["api_search"]:
                _call(base, path)
            drain(base)

            def load(lines: list[str]) -> dict[str, Any]:
                cpu_before = cpu_seconds(server_pid) if server_pid else None
                figures = run_wrk(base, lines, seconds=per_kind, concurrency=concurrency, work=work)
                if cpu_before is not None and server_pid and figures["requests"]:
                    used = cpu_seconds(server_pid) - cpu_before
                    figures["server_cpu_ms"] = round(used * 1000 / figures["requests"], 3)
                drain(base)
                return figures

            _log(stderr, f"  ceiling: GET /api/v1/ping, {per_kind} s at c{concurrency} …")
            ceiling = load(["/api/v1/ping"])
            results: dict[str, dict[str, Any]] = {}
            for kind in KINDS:
                _log(stderr, f"  {kind}: {per_kind} s …")
                results[kind] = load(kinds[kind])
            _log(stderr, f"  mixed: {per_kind} s …")
            sampler = MemorySampler(server_pid) if server_pid else None
            if sampler:
                sampler.start()
            results["mixed"] = load(mixed(kinds, random.Random(2)))
            if sampler:
                sampler.stop.set()
                sampler.join()
        if local:
            # The cold-cache cost in the same run: the same server with the result cache off,
            # so every search runs the engine (what a query nobody asked lately costs).
            with own_server(
                port=port + 1 if port else None,
                workers=workers,
                threads=threads,
                log_dir=work,
                stderr=stderr,
                log_name="server-cache-off.log",
                extra_env={"XINYUE_SEARCH_CACHE_SECONDS": "0"},
            ) as (cold_base, cold_pid):
                for path in kinds["search_page"][:20] + kinds["api_search"][:20]:
                    _call(cold_base, path)  # templates, the segmenter, SQLite's pages
                drain(cold_base)
                for kind in ("search_page", "api_search"):
                    _log(stderr, f"  {kind}, result cache off: {per_kind} s …")
                    cpu_before = cpu_seconds(cold_pid)
                    figures = run_wrk(
                        cold_base,
                        kinds[kind],
                        seconds=per_kind,
                        concurrency=concurrency,
                        work=work,
                    )
                    if figures["requests"]:
                        used = cpu_seconds(cold_pid) - cpu_before
                        figures["server_cpu_ms"] = round(used * 1000 / figures["requests"], 3)
                    drain(cold_base)
                    results[f"{kind}_cache_off"] = figures
            # DESIGN §9's reference stack on this machine, in the same run, the same wrk.
            with reference_server(log_dir=work, stderr=stderr) as reference_base:
                run_wrk(reference_base, ["/api/ping"], seconds=1, concurrency=4, work=work)
                _log(stderr, f"  reference stack: {per_kind} s at c{concurrency} …")
                reference = run_wrk(
                    reference_base,
                    ["/api/ping"],
                    seconds=per_kind,
                    concurrency=concurrency,
                    work=work,
                )
        # The servers have stopped: their workers logged their cache figures on the way out.
        cache_figures = _cache_figures(work / "server.log")
    for figures in results.values():
        figures["share_of_ceiling"] = (
            round(figures["per_s"] / ceiling["per_s"], 3) if ceiling["per_s"] else None
        )
        if local and reference["per_s"]:
            figures["share_of_reference"] = round(figures["per_s"] / reference["per_s"], 3)
    mix = results["mixed"]
    result: dict[str, Any] = {
        "bench": "http",
        "db": connection.vendor if local else "remote",
        "n": _catalog_size() if local else None,
        "concurrency": concurrency,
        "seconds_per_kind": per_kind,
        "server": {
            "url": base,
            "started_by_bench": local,
            "command": "xinyue serve (Granian, WSGI)" if local else None,
            "workers": workers if local else None,
            "threads": threads if local else None,
        },
        "ours": {
            "per_s": mix["per_s"],
            "p50_ms": mix["p50_ms"],
            "p99_ms": mix["p99_ms"],
            "error_rate": mix["error_rate"],
            "by_kind": results,
        },
        "baseline": {"name": "ceiling: GET /api/v1/ping (same server, same run)", **ceiling},
        "queries": len(queries),
        "titles_requested": len(title_ids),
        "machine": _machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    if local:
        result["search_cache"] = {
            "what": "search result cache of the warm server, all its workers, warm-up included",
            "ttl_s": settings.XINYUE_SEARCH_CACHE_SECONDS,
            "max_mb_per_worker": settings.XINYUE_SEARCH_CACHE_MB,
            **cache_figures,
        }
        result["reference"] = {
            "name": "DESIGN §9's reference: a trivial django-ninja endpoint under gunicorn with"
            " 3 sync workers (benchmarks/reference_app.py), this machine, same run, same wrk",
            "design_figure_per_s": 6600,
            **reference,
        }
    if sampler:
        result["workers_memory_peak"] = [
            {"pid": pid, **peak} for pid, peak in sorted(sampler.peak.items())
        ]
    return result


def _cache_figures(log_path: Path) -> dict[str, Any]:
    """The search result cache's figures the workers logged at exit (warm-up included),
    summed over workers."""
    hits = misses = 0
    if log_path.exists():
        for match in re.finditer(
            r"search result cache: pid \d+, (\d+) hits, (\d+) misses", log_path.read_text()
        ):
            hits, misses = hits + int(match[1]), misses + int(match[2])
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_rate": round(hits / total, 3) if total else None}


def _catalog_size() -> int:
    from xinyue.catalog.models import Title

    return Title.objects.filter(is_active=True).count()


def main(*, as_json: bool, stdout: Any, stderr: Any, **options: Any) -> dict[str, Any]:
    try:
        result = run(stderr=stderr, **options)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        from django.core.management.base import CommandError

        raise CommandError(f"bench http: {exc}") from exc
    if not as_json:
        ceiling = result["baseline"]
        stdout.write(f"ceiling {ceiling['per_s']}/s p99 {ceiling['p99_ms']} ms\n")
        for kind, figures in result["ours"]["by_kind"].items():
            stdout.write(
                f"{kind:12} {figures['per_s']:>8}/s  p50 {figures['p50_ms']:>7} ms  "
                f"p99 {figures['p99_ms']:>7} ms  errors {figures['error_rate']:.2%}  "
                f"{figures['share_of_ceiling']:.0%} of ceiling\n"
            )
    stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":  # pragma: no cover - run through `xinyue bench http`
    sys.exit("run: xinyue bench http --json")
