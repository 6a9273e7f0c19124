"""``xinyue bench orders --clients 32 --orders N --json``: platform ordering under contention
(DESIGN §9).

Setup (on the configured database, ideally a scratch one): ``clients`` readers admitted through
the real credit flow (in-process sandbox) with credit cards; a few scarce titles; a tight budget
and quota. Each phase starts from the same state (previous orders cancelled through the service,
stock reset) so that all three limits bind: stock ≈ N/2 volumes, budget ≈ 0.4·N volumes, quota
≈ 0.6 of what each client tries.

1. ``service``: ``clients`` threads, each its own database connection and reader, call
   ``place_order`` (one title per order; the provider call after commit is left out —
   ``open_credit=False`` — it is the sandbox's speed, not ordering's);
2. ``http``: the same over HTTP (``POST /api/v1/orders`` with reader tokens, one keep-alive
   connection per client) against ``xinyue serve``'s Granian command line, started on 127.0.0.1
   (``--port``, ``--workers`` processes × ``--threads``), with ``xinyue worker`` running beside it:
   the answer is the placed order, and the worker's task opens each credit order at the sandbox
   after the commit. ``credit`` reports how many the worker opened (and refused, and left
   waiting when the phase gave up waiting) and at what rate, from the first request to the last
   credit order settled — so the provider's work is measured, not hidden;
3. ``baseline``: a naive read-check-write (read stock, quota, budget; check; write the values
   back) with the same clients — what overselling looks like.

Oversold counts come from the rows (order lines per offer, per reader; list prices against the
budget), not from the counters being tested. Besides wall-clock rates, the service phase reports
the process CPU time per attempt (``cpu_ms``), which a machine shared with other work distorts
far less; ``machine`` gives the load average and a fixed pure-Python loop's time
(``calibration_ms``) so that runs on different machines can be compared. Progress to stderr; the
last line is one JSON. The in-process sandbox provider is switched on for the run (the readers are
admitted through it, and the HTTP phase's worker opens each credit order at it).
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from typing import Any

from django.db import connection, connections
from django.db.models import Count, F, Sum

from benchmarks.http import MemorySampler, cpu_seconds
from xinyue.catalog.models import Offer
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.errors import DomainError
from xinyue.orders import demo, services
from xinyue.orders.models import BudgetSlot, Order, OrderLine, ReaderQuota
from xinyue.orders.selectors import current_budget_period
from xinyue.readers.services.identity import reader_actor

PRICE = 3000
TITLES = 4
HOLDING = ["pending", "shipped", "delivered"]


def _log(stderr: Any, text: str) -> None:
    stderr.write(text + "\n")
    stderr.flush()


def _calibration_ms() -> float:
    """A fixed pure-Python loop (10⁶ additions): ~40–60 ms on an idle current x86 core."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return round((time.perf_counter() - t0) * 1000, 1)


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


class Limits:
    def __init__(self, orders: int, clients: int) -> None:
        self.stock = max(1, orders // (2 * TITLES))
        self.budget_fen = max(PRICE, int(orders * 0.4) * PRICE)
        self.quota = max(1, int(orders / clients * 0.6))


def _setup(clients: int, limits: Limits, stderr: Any) -> tuple[list[Any], list[Any]]:
    from xinyue.readers.models import Reader

    titles = demo.scarce_titles(
        count=TITLES, stock=limits.stock, price_fen=PRICE, supplier_code="bench"
    )
    services.set_rules(
        actor=SYSTEM,
        platform_quota=min(limits.quota, 60000),
        max_volumes_per_order=3,
        duplicate_window_days=0,  # one reader orders the same few titles again and again
    )
    if current_budget_period() is None:
        demo.budget_period(amount_fen=limits.budget_fen, slots=8, name="bench")
    from xinyue.readers.services.identity import id_number_index

    readers = []
    for n in range(clients):
        index = id_number_index(demo.id_number(n, birth="19800101"))
        reader = Reader.objects.filter(id_number_index=index).first()
        if reader is None:
            _log(stderr, f"  admitting reader {n} through the sandbox …")
            reader = demo.admitted_reader(90_000_000 + n, birth="19800101")
        readers.append(reader)
    return readers, titles


def _reset(limits: Limits, titles: list[Any]) -> None:
    """Cancel what earlier phases left open (through the service: releases quota and budget),
    then put the stock and the budget back to the phase's start."""
    for order in Order.objects.filter(status__in=["placed", "confirmed"]):
        services.cancel_order(actor=SYSTEM, order=order, reason="bench reset")
    Offer.objects.filter(title__in=titles).update(stock=limits.stock)
    period = current_budget_period()
    available = BudgetSlot.objects.filter(period=period).aggregate(s=Sum("available_fen"))["s"] or 0
    if available < limits.budget_fen:
        services.top_up_budget(
            actor=SYSTEM, period=period, amount_fen=limits.budget_fen - available
        )
    elif available > limits.budget_fen:
        raise SystemExit("bench: the budget holds more than this run's limit; use a fresh database")


def _oversold(
    since_id: int, limits: Limits, titles: list[Any], quota_before: dict[int, int]
) -> dict[str, int]:
    lines = OrderLine.objects.filter(order_id__gt=since_id, status__in=HOLDING)
    stock = sum(
        max(0, row["n"] - limits.stock) for row in lines.values("offer_id").annotate(n=Count("id"))
    )
    quota = sum(
        max(0, row["n"] + quota_before.get(row["order__reader_id"], 0) - limits.quota)
        for row in lines.values("order__reader_id").annotate(n=Count("id"))
    )
    spent = lines.aggregate(s=Sum("list_price_fen"))["s"] or 0
    return {"stock": stock, "quota": quota, "budget": max(0, spent - limits.budget_fen) // PRICE}


def _run_clients(
    clients: int, per_client: int, work: Any, ready: Any = None, gate: Any = None
) -> tuple[list[float], int, int, float, list[str], float]:
    """Each client thread calls ``ready(client_index)`` (if given) before the clock starts, then
    ``work(client_index, k)``; ``gate()`` (if given) is called once every thread is ready, and
    the clock starts when it returns (the processes of a multi-process phase start together).
    Returns latencies (ms), placed, refused, wall seconds, errors, and this process's CPU
    seconds."""
    barrier = threading.Barrier(clients + 1)
    go = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    counts = [[0, 0] for _ in range(clients)]
    errors: list[str] = []

    def run(i: int) -> None:
        try:
            if ready is not None:
                ready(i)
        finally:
            barrier.wait()
        go.wait()
        try:
            for k in range(per_client):
                t0 = time.perf_counter()
                try:
                    ok = work(i, k)
                except Exception as exc:  # counted and reported, never hidden
                    errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
                    continue
                latencies[i].append((time.perf_counter() - t0) * 1000)
                counts[i][0 if ok else 1] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    if gate is not None:
        gate()
    t0, cpu0 = time.perf_counter(), time.process_time()
    go.set()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    flat = [x for per in latencies for x in per]
    return flat, sum(c[0] for c in counts), sum(c[1] for c in counts), wall, errors, cpu


def _figures(
    latencies: list[float], placed: int, refused: int, wall: float, errors: list[str], cpu: float
) -> dict[str, Any]:
    attempts = placed + refused
    return {
        "cpu_ms": round(cpu * 1000 / attempts, 2) if attempts else 0,
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "per_s": round((placed + refused) / wall, 1) if wall else 0,
        "placed": placed,
        "refused": refused,
    }


def _phase_start(readers: list[Any]) -> tuple[int, dict[int, int]]:
    since = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    quota = dict(
        ReaderQuota.objects.filter(reader__in=readers).values_list("reader_id", "open_volumes")
    )
    return since, quota


def _picks(seed: int, clients: int, orders: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(TITLES) for _ in range(orders // clients)] for _ in range(clients)]


def _placing(readers: list[Any], title_ids: list[int], picks: list[list[int]]) -> Any:
    """The service phase's client ``i``'s ``k``-th attempt: one title, home delivery."""

    def work(i: int, k: int) -> bool:
        reader = readers[i]
        try:
            services.place_order(
                actor=reader_actor(reader, channel=Channel.ALIPAY),
                reader=reader,
                title_ids=[title_ids[picks[i][k]]],
                channel=Channel.ALIPAY,
                address=demo.ADDRESS,
                open_credit=False,
            )
            return True
        except DomainError:
            return False

    return work


def _connect(_i: int) -> None:
    connection.ensure_connection()


def service_phase(
    clients: int,
    orders: int,
    readers: list[Any],
    titles: list[Any],
    limits: Limits,
    processes: int = 1,
) -> dict[str, Any]:
    """``clients`` threads placing orders in this process, or (``processes`` > 1) the same
    clients split over that many processes, each with its own connections and its own group
    commit, as the web server's workers are. Oversold counts come from the rows either way."""
    since, quota_before = _phase_start(readers)
    picks = _picks(1, clients, orders)
    title_ids = [t.pk for t in titles]
    if processes > 1:
        result = _figures(*_run_processes(processes, readers, title_ids, picks))
        result["processes"] = processes
    else:
        _warm_up()
        work = _placing(readers, title_ids, picks)
        result = _figures(*_run_clients(clients, orders // clients, work, ready=_connect))
    result["oversold"] = _oversold(since, limits, titles, quota_before)
    # What the clients were told against what the rows say: an order told "placed" and not
    # written (or the reverse) would be a fault of its own.
    result["placed_rows"] = Order.objects.filter(id__gt=since).count()
    return result


def _run_processes(
    processes: int, readers: list[Any], title_ids: list[int], picks: list[list[int]]
) -> tuple[list[float], int, int, float, list[str], float]:
    """``_run_clients`` over ``processes`` child processes (``benchmarks/orders_process.py``;
    client ``i`` in process ``i % processes``), started together once every client of every
    process has its connection: latencies and errors joined, counts and CPU summed, the wall
    time of the slowest process."""
    import xinyue

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = os.path.dirname(os.path.dirname(os.path.abspath(xinyue.__file__)))
    path = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}  # this process's xinyue
    children = []
    for p in range(processes):
        mine = list(range(p, len(readers), processes))
        job = {
            "readers": [readers[i].pk for i in mine],
            "titles": title_ids,
            "picks": [picks[i] for i in mine],
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.orders_process"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        children.append(child)
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("bench: a placing process did not start (see its error above)")
        for child in children:  # every client of every process is connected: go
            child.stdin.write("go\n")
            child.stdin.flush()
        parts = [json.loads(child.stdout.readline()) for child in children]
    finally:
        for child in children:
            child.stdin.close()
            if child.wait(timeout=120) != 0:
                raise SystemExit("bench: a placing process failed (see its error above)")
    return (
        [x for part in parts for x in part["latencies"]],
        sum(part["placed"] for part in parts),
        sum(part["refused"] for part in parts),
        max(part["wall"] for part in parts),
        [e for part in parts for e in part["errors"]],
        sum(part["cpu"] for part in parts),
    )


def serve_placing_process(stdin: Any, stdout: Any) -> None:
    """The child side of ``_run_processes`` (Django already set up): read the job, connect every
    client, say "ready", wait for "go", place, print the figures as one JSON line."""
    from xinyue.readers.models import Reader

    job = json.loads(stdin.readline())
    by_id = Reader.objects.in_bulk(job["readers"])
    readers = [by_id[pk] for pk in job["readers"]]
    picks = job["picks"]
    _warm_up()

    def gate() -> None:
        stdout.write("ready\n")
        stdout.flush()
        if stdin.readline().strip() != "go":
            raise SystemExit("bench: the placing process was not started")

    latencies, placed, refused, wall, errors, cpu = _run_clients(
        len(readers),
        len(picks[0]) if picks else 0,
        _placing(readers, job["titles"], picks),
        ready=_connect,
        gate=gate,
    )
    stdout.write(
        json.dumps(
            {
                "latencies": latencies,
                "placed": placed,
                "refused": refused,
                "wall": wall,
                "errors": errors,
                "cpu": cpu,
            }
        )
        + "\n"
    )
    stdout.flush()


def _warm_up() -> None:
    """What a serving web worker has done before its first order and the bench's process has
    not: the URL configuration loaded (the reader's message links to the order) and the table
    of Zhejiang's divisions read (the address check). Each client's connection is opened before
    the clock starts too, as a worker's threads keep theirs (``CONN_MAX_AGE``)."""
    from django.urls import reverse

    from xinyue.libraries.divisions import district

    reverse("orders:detail", args=["XY0"])
    district(demo.ADDRESS["district_code"])


def http_phase(
    clients: int,
    orders: int,
    readers: list[Any],
    titles: list[Any],
    limits: Limits,
    port: int,
    workers: int,
    threads: int,
    idempotency_keys: bool = False,
) -> dict[str, Any]:
    import http.client

    from xinyue.core.server import web_command
    from xinyue.readers.services.tokens import issue_reader_token

    tokens = [issue_reader_token(reader=r, channel=Channel.WECHAT)[1] for r in readers]
    env = {
        **os.environ,
        "XINYUE_API_RATE_AUTHENTICATED": "10000000/min",
        "XINYUE_CREDIT_SANDBOX": "1",
        "DJANGO_SETTINGS_MODULE": "xinyue.settings",
    }
    command = web_command(
        host="127.0.0.1", port=port, workers=workers, threads=threads, access_log=False
    )
    server = subprocess.Popen(command, env=env, stdout=2)  # its log is progress: stderr
    sampler = MemorySampler(server.pid)  # each web worker's peak memory: threads cost RSS
    sampler.start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinyue.manage", "worker", "--workers", "4", "--no-periodic"],
        env=env,
        stdout=2,
    )
    try:
        deadline = time.monotonic() + 180  # a loaded machine takes tens of seconds
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/api/v1/health")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: the web server on port {port} did not come up")
            time.sleep(0.5)
        since, quota_before = _phase_start(readers)
        rng = random.Random(2)
        picks = [[rng.randrange(TITLES) for _ in range(orders // clients)] for _ in range(clients)]
        connections_ = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in tokens]

        def work(i: int, k: int) -> bool:
            body = json.dumps({"title_ids": [titles[picks[i][k]].pk], "address": demo.ADDRESS})
            conn = connections_[i]
            try:
                headers = {
                    "Authorization": f"Bearer {tokens[i]}",
                    "Content-Type": "application/json",
                }
                if idempotency_keys:  # a new key per attempt, as a client that may retry sends
                    headers["Idempotency-Key"] = f"bench-{since}-{i}-{k}"
                conn.request("POST", "/api/v1/orders", body=body.encode(), headers=headers)
                response = conn.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()  # the next attempt reconnects
                raise
            if response.status >= 500 or response.status in (401, 429):
                conn.close()
                raise RuntimeError(f"HTTP {response.status}: {text[:200]!r}")
            return response.status == 201

        # The real endpoint; the worker opens each placed order's credit order at the
        # (in-process) sandbox after the commit, as in production.
        cpu: dict[str, float] = {}

        def gate() -> None:  # every client ready: the processes' CPU from here
            cpu.update(server=cpu_seconds(server.pid), worker=cpu_seconds(worker.pid))

        started = time.perf_counter()
        result = _figures(*_run_clients(clients, orders // clients, work, gate=gate))
        attempts = result["placed"] + result["refused"]
        server_s, worker_s = cpu_seconds(server.pid), cpu_seconds(worker.pid)
        # CPU per attempt from /proc (every process of the tree), the figure a shared machine
        # distorts least: the web server's, the worker's meanwhile, and the bench's own clients.
        result["server_cpu_ms"] = round((server_s - cpu["server"]) * 1000 / attempts, 2)
        result["worker_cpu_ms"] = round((worker_s - cpu["worker"]) * 1000 / attempts, 2)
        result["client_cpu_ms"] = result.pop("cpu_ms")
        result["credit"] = _credit_orders_opened(since, started)
        result["credit"]["worker_cpu_ms"] = round(
            (cpu_seconds(worker.pid) - cpu["worker"]) * 1000 / max(result["credit"]["opened"], 1),
            2,
        )
    finally:
        sampler.stop.set()
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            process.wait(timeout=30)
    result["oversold"] = _oversold(since, limits, titles, quota_before)
    result["server"] = f"granian (xinyue serve), {workers} workers × {threads} threads"
    result["idempotency_keys"] = idempotency_keys
    result["workers_memory_peak"] = [
        {"pid": pid, **peak} for pid, peak in sorted(sampler.peak.items())
    ]
    return result


def _credit_orders_opened(since_id: int, started: float, wait_s: float = 300) -> dict[str, Any]:
    """Wait (up to ``wait_s``) until the worker has settled every order this phase placed: how
    many credit orders it opened, how many the provider refused, how many still wait, and the
    rate from the phase's first request to the last one settled."""
    placed = Order.objects.filter(id__gt=since_id)
    deadline = time.monotonic() + wait_s
    while placed.filter(status="placed", confirm_url="").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    opened = placed.filter(status__in=["confirmed", "shipped", "delivered"]).count()
    opened += placed.filter(status="placed").exclude(confirm_url="").count()
    return {
        "opened": opened,
        "refused": placed.filter(status="cancelled", status_reason__startswith="credit:").count(),
        "waiting": placed.filter(status="placed", confirm_url="").count(),
        "per_s": round(opened / elapsed, 1) if elapsed else 0.0,
        "worker": "xinyue worker, 4 threads",
    }


def baseline_phase(
    clients: int, orders: int, readers: list[Any], titles: list[Any], limits: Limits
) -> dict[str, Any]:
    """Read stock, quota and budget, check them, write the new values back (autocommit; no
    conditional update, no lock): what a first implementation often does."""
    period = current_budget_period()
    offers = {t.pk: Offer.objects.get(title=t, supplier__code="bench").pk for t in titles}
    sold_offer: dict[int, int] = {}
    sold_reader: dict[int, int] = {}
    spent = [0]
    lock = threading.Lock()
    rng = random.Random(3)
    picks = [[rng.randrange(TITLES) for _ in range(orders // clients)] for _ in range(clients)]
    quota_before = dict(
        ReaderQuota.objects.filter(reader__in=readers).values_list("reader_id", "open_volumes")
    )

    def work(i: int, k: int) -> bool:
        reader = readers[i]
        offer_id = offers[titles[picks[i][k]].pk]
        stock = Offer.objects.filter(pk=offer_id).values_list("stock", flat=True)[0]
        held = (
            ReaderQuota.objects.filter(reader=reader).values_list("open_volumes", flat=True).first()
            or 0
        )
        slot = BudgetSlot.objects.filter(period=period, slot=0).values_list(
            "available_fen", flat=True
        )[0]
        if stock < 1 or held + 1 > limits.quota or slot < PRICE:
            return False
        Offer.objects.filter(pk=offer_id).update(stock=stock - 1)
        ReaderQuota.objects.filter(reader=reader).update(open_volumes=held + 1)
        BudgetSlot.objects.filter(period=period, slot=0).update(available_fen=slot - PRICE)
        with lock:
            sold_offer[offer_id] = sold_offer.get(offer_id, 0) + 1
            sold_reader[reader.pk] = sold_reader.get(reader.pk, 0) + 1
            spent[0] += PRICE
        return True

    # The naive version keeps the whole phase budget in one row.
    slots = BudgetSlot.objects.filter(period=period)
    saved = list(slots.values_list("slot", "available_fen"))
    slots.update(available_fen=0)
    slots.filter(slot=0).update(available_fen=limits.budget_fen)
    Offer.objects.filter(pk__in=offers.values()).update(stock=limits.stock)
    try:
        result = _figures(*_run_clients(clients, orders // clients, work))
    finally:
        for slot, fen in saved:
            BudgetSlot.objects.filter(period=period, slot=slot).update(available_fen=fen)
        for reader_id, held in quota_before.items():
            ReaderQuota.objects.filter(reader_id=reader_id).update(open_volumes=held)
        Offer.objects.filter(pk__in=offers.values()).update(stock=limits.stock)
    result["name"] = "read-check-write"
    result["oversold"] = {
        "stock": sum(max(0, n - limits.stock) for n in sold_offer.values()),
        "quota": sum(
            max(0, n + quota_before.get(r, 0) - limits.quota) for r, n in sold_reader.items()
        ),
        "budget": max(0, spent[0] - limits.budget_fen) // PRICE,
    }
    return result


def run(
    *,
    clients: int,
    orders: int,
    http: bool,
    port: int,
    workers: int,
    threads: int,
    stderr: Any,
    processes: int = 1,
    idempotency_keys: bool = False,
) -> dict[str, Any]:
    from django.conf import settings

    settings.CREDIT_SANDBOX_ENABLED = True  # a bench database: readers admitted by the sandbox
    limits = Limits(orders, clients)
    _log(
        stderr,
        f"orders bench on {connection.vendor}: {clients} clients, {orders} orders per phase, "
        f"stock {limits.stock}×{TITLES}, budget {limits.budget_fen} fen, quota {limits.quota}",
    )
    readers, titles = _setup(clients, limits, stderr)
    ReaderQuota.objects.filter(reader__in=readers).update(open_volumes=F("open_volumes") * 0)
    _reset(limits, titles)
    _log(stderr, "  service layer …")
    ours = service_phase(clients, orders, readers, titles, limits)
    _log(stderr, f"  {ours}")
    result: dict[str, Any] = {
        "bench": "orders",
        "db": connection.vendor,
        "n": orders,
        "clients": clients,
    }
    if processes > 1:
        _reset(limits, titles)
        _log(stderr, f"  service layer, {clients} clients over {processes} processes …")
        split = service_phase(clients, orders, readers, titles, limits, processes=processes)
        _log(stderr, f"  {split}")
        result["processes"] = _with_oversold_total(split)
    if http:
        _reset(limits, titles)
        _log(stderr, "  over HTTP …")
        result["http"] = _with_oversold_total(
            http_phase(
                clients, orders, readers, titles, limits, port, workers, threads, idempotency_keys
            )
        )
        _log(stderr, f"  {result['http']}")
    _reset(limits, titles)
    _log(stderr, "  naive baseline …")
    baseline = baseline_phase(clients, orders, readers, titles, limits)
    _log(stderr, f"  {baseline}")
    _reset(limits, titles)
    result.update(
        ours=_with_oversold_total(ours),
        baseline=_with_oversold_total(baseline),
        limits={
            "stock_per_title": limits.stock,
            "titles": TITLES,
            "budget_fen": limits.budget_fen,
            "quota": limits.quota,
        },
        machine={
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": [round(x, 1) for x in os.getloadavg()],
            "calibration_ms": _calibration_ms(),
        },
    )
    return result


def _with_oversold_total(figures: dict[str, Any]) -> dict[str, Any]:
    """A phase's figures as printed: ``oversold`` the total (DESIGN §9's format), the count per
    limit under ``oversold_by``."""
    by_limit = figures["oversold"]
    return {**figures, "oversold": sum(by_limit.values()), "oversold_by": by_limit}


def main(
    *,
    clients: int,
    orders: int,
    http: bool,
    port: int,
    workers: int,
    threads: int,
    as_json: bool,
    stdout: Any,
    stderr: Any,
    processes: int = 1,
    idempotency_keys: bool = False,
) -> dict:
    result = run(
        clients=clients,
        orders=orders,
        http=http,
        port=port,
        workers=workers,
        threads=threads,
        stderr=stderr,
        processes=processes,
        idempotency_keys=idempotency_keys,
    )
    if not as_json:
        ours, base = result["ours"], result["baseline"]
        stdout.write(
            f"orders ({result['db']}, {clients} clients): {ours['per_s']}/s, p50 {ours['p50_ms']} ms, "
            f"p99 {ours['p99_ms']} ms, oversold {ours['oversold']}; naive oversold {base['oversold']}\n"
        )
    stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result
