"""Run bench_search's queries through the search service: timed one at a time, in a loop in
several processes, and each looked at again (untimed) to say why a miss missed."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from measure import percentile
from search_queries import KINDS, Query

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

    from contactpoint.access.permissions import Principal
    from contactpoint.search.criteria import Criteria

BENCH_USERS = uuid.UUID("8f0d6a52-1c1e-4d8e-9a43-5b7e2f6c0d11")  # their ids' namespace
USERS = 100  # searcher keys in turn, so the quota counters are rows that already exist
WARM = 10  # searches each throughput process makes before the clock starts


@functools.cache
def searcher(name: str) -> Principal:
    """A practitioner the benchmark searches as (quota rows and audit events are theirs): a
    real user with a surname and a declared home postcode, so that each search's audit
    write compares them with the children shown (contactpoint.oversight.signals), as in
    the product."""
    from contactpoint.access.models import User
    from contactpoint.access.permissions import Principal, Role
    from contactpoint.oversight.declarations import declare_home_postcode
    from contactpoint.registry.models import Organisation

    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        raise SystemExit("the registry has no organisation for the benchmark's users")
    user, made = User.objects.get_or_create(
        id=uuid.uuid5(BENCH_USERS, name),
        defaults={
            "email": f"bench-{name}@bench.invalid",
            "name": "Bench Smith",
            "organisation": organisation,
            "role": Role.PRACTITIONER.value,
            "enabled": True,
        },
    )
    if made:
        declare_home_postcode(user, "SW1A 1AA")
    return Principal("user", str(user.id), Role.PRACTITIONER, organisation.pk, None)


def criteria_of(query: Query, plain: bool = False) -> Criteria:
    from contactpoint.search import criteria

    return criteria.check(query.plain if plain else query.form, dt.date.today())


def timed_searches(warm: list[Query], timed: list[Query]) -> dict[str, Any]:
    """Time service.search on each query, one at a time (the outcomes are its candidates);
    the same search with its audit write disabled (here only, never in the product); and
    service.find alone: the three in turn, in an order that rotates."""
    from contactpoint.search import service

    for n, query in enumerate(warm):
        service.search(searcher(str(n % USERS)), criteria_of(query))
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {"search": [], "unaudited": [], "find": []}
    outcomes: list[list[uuid.UUID]] = []
    for n, query in enumerate(timed):
        wanted = criteria_of(query)
        steps = ["search", "unaudited", "find"]
        for step in steps[n % 3 :] + steps[: n % 3]:
            started = time.perf_counter()
            if step == "search":
                result = service.search(searcher(str(n % USERS)), wanted)
            elif step == "unaudited":
                with audit_disabled():
                    service.search(searcher(str(n % USERS)), wanted)
            else:
                service.find(wanted)
            times[step].append((time.perf_counter() - started) * 1000)
        outcomes.append([c.child_id for c in result.candidates])
    spread = {
        step: {f"p{round(s * 100)}": percentile(values, s) for s in (0.5, 0.95, 0.99)}
        for step, values in times.items()
    }
    return {
        **spread["search"],
        "max": max(times["search"]),
        "mean": statistics.fmean(times["search"]),
        "find": spread["find"],
        "unaudited": spread["unaudited"],
        "load_before": load,
        "outcomes": outcomes,
    }


@contextlib.contextmanager
def audit_disabled() -> Iterator[None]:
    """The search's audit events (their signals) and their write replaced by nothing, in
    this benchmark process only."""
    from contactpoint.search import service

    made, audit = service.audit_events, service.audit
    service.audit_events = lambda *args: []
    service.audit = lambda *args: None
    try:
        yield
    finally:
        service.audit_events, service.audit = made, audit


def _worker(
    wanted: list[Criteria], worker: int, seconds: float, ready: Barrier, out: Queue[Any]
) -> None:
    from contactpoint.search import service

    me = searcher(f"worker-{worker}")
    n = worker * len(wanted) // 2
    for _ in range(WARM):
        service.search(me, wanted[n % len(wanted)])
        n += 1
    ready.wait()
    times: list[float] = []
    began = time.perf_counter()
    while (started := time.perf_counter()) < began + seconds:
        service.search(me, wanted[n % len(wanted)])
        times.append((time.perf_counter() - started) * 1000)
        n += 1
    out.put((time.perf_counter() - began, times))


def throughput(timed: list[Query], workers: int, seconds: float) -> dict[str, float]:
    """Searches a second with `workers` processes each searching in a loop for `seconds`,
    and the machine's load average just before."""
    from django.db import connections

    wanted = [criteria_of(q) for q in timed]
    load = os.getloadavg()[0]  # other work on the machine, over the last minute
    connections.close_all()  # each forked process opens its own
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(workers)
    out: Queue[Any] = context.Queue()
    procs = [
        context.Process(target=_worker, args=(wanted, w, seconds, ready, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    done = [out.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a throughput process failed with status {p.exitcode}")
    times = [t for _, ts in done for t in ts]
    elapsed = max(e for e, _ in done)
    return {
        "per_second": len(times) / elapsed,
        "seconds": elapsed,
        "searches": len(times),
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "load_before": load,
    }


def diagnose(query: Query) -> dict[str, Any]:
    """What find saw for this query: the children blocking returned, the best evidence, how
    many came near it, the right child's evidence, and whether the query without its typo
    and swap would have reached the right child through the blind indexes."""
    from contactpoint.linkage import realtime
    from contactpoint.registry import candidates
    from contactpoint.registry.models import Child
    from contactpoint.search import service

    wanted = criteria_of(query)
    blocked = candidates.candidate_children([candidates.search_entries(wanted)])[0]
    active = set(
        Child.objects.filter(id__in=list(blocked), status=Child.Status.ACTIVE).values_list(
            "id", flat=True
        )
    )
    scores = realtime.scores_for(service.query_record(wanted), active)
    bits = {c: service.evidence(s) for c, s in scores.items()}
    best = max(bits.values(), default=None)
    right = max((bits[c] for c in query.right if c in bits), default=None)
    close = {c for c, b in bits.items() if best is not None and b >= best - service.WINDOW_BITS}
    plain: set[uuid.UUID] = set()
    if right is None:
        entries = candidates.search_entries(criteria_of(query, plain=True))
        plain = candidates.candidate_children([entries])[0]
    return {
        "blocked": len(blocked),
        "best": best,
        "right": right,
        "near": len(close),
        "near_right": len(close & query.right),  # more than 1: the child is split in two
        "plain_blocked": bool(plain & query.right),
    }


def classify(seen: dict[str, Any]) -> str:
    """Why a query missed its child (find's rules, in find's order)."""
    from contactpoint.search import service

    if seen["right"] is None:
        if seen["plain_blocked"]:
            return "blocking miss: the typo or swap"
        return "blocking miss: even without typo and swap"
    if seen["best"] < service.CONFIDENT_BITS:
        return "too weak"
    if seen["near"] > service.KEEP:
        if seen["near"] - max(0, seen["near_right"] - 1) <= service.KEEP:
            return "too many: the right child is several registry children"
        return "too many: other children as close"
    return "outranked"


def recall_figures(timed: list[Query], outcomes: list[list[uuid.UUID]]) -> dict[str, Any]:
    """Recall by group of queries, the misses classed, the right child's evidence."""
    groups: dict[str, list[tuple[bool, int]]] = collections.defaultdict(list)
    misses: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    blocked: list[int] = []
    found_bits: list[float] = []
    for query, shown in zip(timed, outcomes, strict=True):
        seen = diagnose(query)
        blocked.append(seen["blocked"])
        hit = bool(query.right & set(shown))
        swap = "typo + swap" if query.swapped else "typo only (no swap possible)"
        swapped = f"{query.kind}: {'swapped' if query.swapped else 'not swapped'}"
        for group in ("all", swap, query.kind, swapped):
            groups[group].append((hit, len(shown)))
        if hit:
            found_bits.append(seen["right"])
        else:
            key = " (key changed)" if query.key_changed else " (key unchanged)"
            misses[query.kind][classify(seen) + key] += 1
    ends = ("", ": swapped", ": not swapped")
    order = ["all", "typo + swap", "typo only (no swap possible)"]
    order += [k + end for k in KINDS for end in ends]
    return {
        "groups": {g: _group(groups[g]) for g in order if groups[g]},
        "right_split": sum(len(q.right) > 1 for q in timed),
        "misses": {k: dict(v) for k, v in misses.items()},
        "blocked": blocked,
        "evidence_found": {
            "p1": round(percentile(found_bits, 0.01), 1),
            "p5": round(percentile(found_bits, 0.05), 1),
            "p50": round(percentile(found_bits, 0.5), 1),
            "under 17 bits": sum(b < 17 for b in found_bits),
        }
        if found_bits
        else {},
    }


def _group(outcomes: list[tuple[bool, int]]) -> dict[str, Any]:
    found = sum(hit for hit, _ in outcomes)
    return {
        "queries": len(outcomes),
        "found": found,
        "recall": found / len(outcomes),
        "candidates_mean": statistics.fmean(n for _, n in outcomes),
        "too_weak": sum(n == 0 for _, n in outcomes) / len(outcomes),
    }
