"""Capacity through HTTP: a PostgreSQL registry of N synthetic children served by
`contactpoint serve` (gunicorn), loaded by Locust (locustfile.py) in phases, then checked:
every record view answered 200 has its audit event, and `contactpoint audit verify` passes.

    make bench-capacity CAPACITY_ARGS="--phase 60:180 --phase 120:180 --phase 60:90"

Each `--phase USERS:SECONDS` runs Locust headless with that many simulated users (nine
practitioners to one API client) for that long, against the same server; the figures are
printed for each phase. Development only: it makes throw-away users and API clients whose
passwords and secrets it writes to the plan file (mode 0600) in the data directory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from measure import REPO, children_of, commit, machine, percentile, registry_env  # noqa: E402

LOCUST = REPO / ".venv-capacity" / "bin" / "locust"
DOMAIN = "capacity.invalid"
BENCH = uuid.UUID("3c1f6a8e-5b2d-4f0e-8a7c-9d1e2f3a4b5c")  # the accounts' ids' namespace
# The searches and registrations one account makes here stand for those of many people, so
# the per-person and per-organisation quotas are raised for the served process (they are
# still counted: the counter rows are written as in production).
RAISED = {
    "CONTACTPOINT_SEARCHES_PER_HOUR": "1000000",
    "CONTACTPOINT_SEARCHES_PER_DAY": "1000000",
    "CONTACTPOINT_SEARCHES_PER_ORGANISATION": "100000000",
    "CONTACTPOINT_REGISTRATIONS_PER_USER": "1000000",
    "CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION": "100000000",
}
ROLE_OF_KIND = {"school": "school", "gp_practice": "gp", "council_team": "social_worker"}
JOB_OF_KIND = {
    "school": "Designated safeguarding lead",
    "gp_practice": "GP",
    "council_team": "Social worker",
}
TICK = 1.0  # seconds between CPU samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/cp_capacity")
    parser.add_argument("--data", type=pathlib.Path, default=REPO / "var" / "capacity")
    parser.add_argument("--practitioners", type=int, default=600, help="accounts to make")
    parser.add_argument("--clients", type=int, default=60, help="API clients to make")
    parser.add_argument("--organisations", type=int, default=60, help="they work for")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=None, help="gunicorn threads a worker (serve's default)"
    )
    parser.add_argument("--port", type=int, default=8391)
    parser.add_argument(
        "--phase", action="append", default=[], metavar="USERS:SECONDS", help="repeatable"
    )
    args = parser.parse_args()
    phases = [tuple(int(x) for x in p.split(":")) for p in args.phase] or [(60, 180)]
    if not LOCUST.exists():
        raise SystemExit("Locust is not installed: run `make bench-capacity`")
    data = args.data.resolve()
    env = registry_env(data, 0, args.database)
    os.environ.update(
        {k: v for k, v in env.items() if k.startswith("CONTACTPOINT_") or k == "DATABASE_URL"}
    )
    # Each run registers its API clients anew, as the national administrator it makes:
    # more than a person's hourly limit on such changes, in this process only.
    os.environ["CONTACTPOINT_ADMIN_CHANGES_PER_HOUR"] = "1000000"
    os.environ["CONTACTPOINT_ADMIN_CHANGES_PER_DAY"] = "1000000"
    feeds = data / "feeds"
    built = build(env, args.children, args.seed, feeds)
    plan = data / "capacity-plan.json"
    made = prepare(args, feeds, plan)
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print(f"registry:       PostgreSQL, {args.children:,} children (seed {args.seed}){built}")
    print(f"accounts:       {made}")
    threads = args.threads or "serve's default"
    print(f"server:         contactpoint serve, {args.workers} workers x {threads} threads")
    print(f"load avg:       {os.getloadavg()[0]:.2f} before the run (other work on the machine)")
    server = serve(env, args)
    try:
        first = last_event_index()
        results = []
        for n, (users, seconds) in enumerate(phases, 1):
            results.append(run_phase(n, users, seconds, args.port, plan, data, server))
        time.sleep(12)  # the checkpointer signs the last events (every 10 s)
    finally:
        stop(server)
    views = [v for r in results for v in r.views]
    check_audit(env, first, views)
    return 0


def build(env: dict[str, str], children: int, seed: int, feeds: pathlib.Path) -> str:
    """Synthesise and bulk load the registry unless it is there already; what was done."""
    marker = feeds.parent / "capacity-built.json"
    if marker.exists() and json.loads(marker.read_text()) == {"children": children, "seed": seed}:
        return ", built before"
    from measure import contactpoint

    started = time.monotonic()
    if not (feeds / "manifest.json").exists():
        contactpoint(
            env, "synth", "--children", str(children), "--seed", str(seed), "--out", str(feeds)
        )
    contactpoint(env, "init", "--quiet")
    contactpoint(env, "load", "--bulk", "--quiet", str(feeds))
    marker.write_text(json.dumps({"children": children, "seed": seed}))
    return f", built in {time.monotonic() - started:.0f} s"


def prepare(args: argparse.Namespace, feeds: pathlib.Path, plan: pathlib.Path) -> str:
    """Make (or renew) the practitioners and API clients, choose the searches, and write
    the plan for locustfile.py (mode 0600: it holds throw-away credentials)."""
    from measure import setup_django

    setup_django(args.data)
    from contactpoint import config

    if not config.is_development():
        raise SystemExit("the capacity benchmark makes throw-away accounts: development only")
    import search_queries

    practitioners, clients = accounts(args.practitioners, args.clients, args.organisations)
    queries, _ = search_queries.queries(feeds, 2000, args.seed)
    searches = [
        {
            "purpose": q.form.purpose,
            "date_of_birth": q.form.date_of_birth.isoformat(),  # type: ignore[union-attr]
            "family_name": q.form.family_name,
            "given_name": q.form.given_name,
            "postcode": q.form.postcode,
        }
        for q in queries
    ]
    text = json.dumps({"practitioners": practitioners, "clients": clients, "queries": searches})
    fd = os.open(plan, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    from django.db import connections

    connections.close_all()
    return (
        f"{len(practitioners)} practitioners and {len(clients)} API clients in "
        f"{args.organisations} organisations; {len(searches)} searches (a typo each)"
    )


def accounts(
    practitioners: int, clients: int, organisations: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Practitioners (enabled, with a confirmed authenticator app) and practitioner API
    clients, spread over schools, GP practices and council teams; new passwords, secrets
    and clients each run."""
    from django.db import transaction

    from contactpoint.access import totp
    from contactpoint.access.bootstrap import accredit_for_a_year
    from contactpoint.access.clients import create_client
    from contactpoint.access.models import ApiClient, TotpDevice
    from contactpoint.access.permissions import Role
    from contactpoint.access.users import Actor
    from contactpoint.registry.models import Organisation

    today = dt.date.today()
    vetting, training = today - dt.timedelta(days=30), today - dt.timedelta(days=20)
    places: list[Organisation] = []
    for kind in ROLE_OF_KIND:
        found = Organisation.objects.filter(kind=kind).order_by("code")
        places.extend(found[: organisations // len(ROLE_OF_KIND)])
    national, _ = Organisation.objects.get_or_create(
        code="CAPACITY-NATIONAL",
        defaults={"kind": Organisation.Kind.COUNCIL_TEAM, "name": "capacity benchmark national"},
    )
    made: list[dict[str, str]] = []
    with transaction.atomic():
        for place in [*places, national]:
            accredit_for_a_year(place, None)
        admin = _account(
            f"national-admin@{DOMAIN}", national, Role.NATIONAL_ADMIN, vetting, training
        )[0]
        ApiClient.objects.filter(name__startswith="capacity benchmark", enabled=True).update(
            enabled=False
        )
        for n in range(practitioners):
            place = places[n % len(places)]
            user, password = _account(
                f"practitioner-{n}@{DOMAIN}", place, Role.PRACTITIONER, vetting, training
            )
            user.totp_devices.all().delete()
            device, secret = totp.start(user)
            TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
            made.append(
                {
                    "email": user.email,
                    "password": password,
                    "totp_secret": secret,
                    "involvement_role": ROLE_OF_KIND[place.kind],
                    "job_title": JOB_OF_KIND[place.kind],
                }
            )
        actor = Actor.of(admin)
        made_clients = []
        for n in range(clients):
            client, secret = create_client(
                actor,
                name=f"capacity benchmark {n}",
                organisation=places[n % len(places)],
                role=Role.PRACTITIONER,
            )
            made_clients.append({"client_id": client.client_id, "secret": secret})
    return made, made_clients


def _account(
    email: str, place: Any, role: Any, vetting: dt.date, training: dt.date
) -> tuple[Any, str]:
    from contactpoint.access.bootstrap import enabled_user
    from contactpoint.access.models import User

    user, password = enabled_user(
        email, f"Capacity {email.split('@')[0]}", place, role, vetting, training
    )
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        existing.password, existing.enabled, existing.organisation = user.password, True, place
        existing.certified_on, existing.last_active_on = user.certified_on, user.last_active_on
        existing.save()
        return existing, password
    user.id = uuid.uuid5(BENCH, email)
    user.save()
    return user, password


def serve(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """`contactpoint serve` on the registry, its access log dropped; when /health answers."""
    command = [
        sys.executable,
        "-m",
        "contactpoint",
        "serve",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
    ]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    served_env = {**env, **RAISED, "PYTHONUNBUFFERED": "1"}  # each access line as it happens
    log = open(args.data / "capacity-server.log", "wb")  # noqa: SIM115 - the server's life
    access = open(args.data / "capacity-access.log", "wb")  # noqa: SIM115 - the server's life
    server = subprocess.Popen(command, env=served_env, cwd=REPO, stdout=access, stderr=log)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit("the server did not answer /health within a minute")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes (those that have ended count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting for I/O)."""
    ticks = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(ticks[:7]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not steal


def postgres_pids() -> list[int]:
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                found.append(int(stat.parent.name))
        except OSError:
            continue
    return found


@dataclass
class Sampler:
    """CPU of the server's process tree, PostgreSQL's and Locust's, sampled every TICK."""

    server: int
    locust: int
    used: dict[str, list[float]] = field(
        default_factory=lambda: {"server": [], "postgres": [], "locust": [], "machine": []}
    )
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        before = self.sample()
        while not self.done.wait(TICK):
            now = self.sample()
            for k in now:
                self.used[k].append(max(0.0, now[k] - before[k]) / TICK)
            before = now

    def sample(self) -> dict[str, float]:
        # Sampled together so each is a difference over the same processes.
        return {
            "server": cpu_seconds([self.server, *children_of(self.server)]),
            "postgres": cpu_seconds(postgres_pids()),
            "locust": cpu_seconds([self.locust, *children_of(self.locust)]),
            "machine": machine_busy_seconds(),
        }


@dataclass
class Phase:
    views: list[str]


def run_phase(
    n: int,
    users: int,
    seconds: int,
    port: int,
    plan: pathlib.Path,
    data: pathlib.Path,
    server: subprocess.Popen[bytes],
) -> Phase:
    prefix = data / f"capacity-phase{n}"
    views_file = data / f"capacity-phase{n}-views.json"
    command = [
        str(LOCUST),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(max(1, users // 10)),
        "-t",
        f"{seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--stop-timeout",
        "30",
    ]
    times_file = data / f"capacity-phase{n}-times.json"
    env = {
        **os.environ,
        "CAPACITY_PLAN": str(plan),
        "CAPACITY_VIEWS": str(views_file),
        "CAPACITY_TIMES": str(times_file),
    }
    load = os.getloadavg()[0]
    access = data / "capacity-access.log"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with open(data / f"capacity-phase{n}-locust.log", "wb") as log:
        locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = Sampler(server.pid, locust.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        locust.wait()
        sampler.done.set()
        thread.join()
    print()
    print(f"phase {n}: {users} simulated users for {seconds} s (load avg before {load:.2f})")
    report(prefix, sampler, users)
    if times_file.exists():
        shed_and_answered(json.loads(times_file.read_text()))
    server_times(access, start)
    views = json.loads(views_file.read_text()) if views_file.exists() else []
    return Phase(views)


def report(prefix: pathlib.Path, sampler: Sampler, users: int) -> None:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    head = ("request", "count", "fail", "req/s", "p50", "p95", "p99")
    print("  {:<26} {:>7} {:>6} {:>7} {:>6} {:>6} {:>6} ms".format(*head))
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        print(
            f"  {name:<26} {int(row['Request Count']):>7} {int(row['Failure Count']):>6} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    failures_path = pathlib.Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with open(failures_path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                print(f"  failed: {row['Name']}: {row['Error'][:90]} x{row['Occurrences']}")
    served = int(rows[-1]["Request Count"]) if rows else 0
    for kind, values in sampler.used.items():
        busy = values[len(values) // 6 :] or values  # after the users have started
        if busy:
            mean = sum(busy) / len(busy)
            each = f", {1000 * sum(values) / served:.1f} ms a request" if served else ""
            print(
                f"  CPU {kind:<9} {mean:.2f} cores mean, {max(busy):.2f} peak "
                f"(of {os.cpu_count()}){each if kind != 'machine' else ''}"
            )


def shed_and_answered(times: list[list[float]]) -> None:
    """The share shed (503 or 429) and the times of the rest, answered or not, at the client."""
    shed = sorted(ms for status, ms in times if status in (503, 429))
    rest = sorted(ms for status, ms in times if status not in (503, 429))
    if not times:
        return
    print(f"  shed (503/429): {len(shed)} of {len(times)} ({100 * len(shed) / len(times):.1f}%)")
    for label, values in (("answered", rest), ("shed", shed)):
        if values:
            p50, p95, p99 = (percentile(values, q) for q in (0.5, 0.95, 0.99))
            print(f"  {label:<9} p50 {p50:.0f}, p95 {p95:.0f}, p99 {p99:.0f} ms")


LINE = re.compile(r'\[\[([^\]]+)\]\] "(\w+) ([^ ?"]*)[^"]*" (\d+) \S+ (\d+)ms$')


def server_times(access: pathlib.Path, start: dt.datetime) -> None:
    """Time spent in the server by request (its access log, from `start`): beside Locust's
    times, what is left is the wait for a worker."""
    times: dict[str, list[float]] = {}
    with open(access, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            found = LINE.search(line.strip())
            if found is None or found[3] == "/health":
                continue
            if dt.datetime.strptime(found[1], "%d/%b/%Y:%H:%M:%S %z") < start:
                continue
            path = re.sub(r"/(children|results)/(?!search$)[^/]+", r"/\1/*", found[3])
            times.setdefault(f"{found[2]} {path}", []).append(float(found[5]))
    print("  in the server (access log):  count    p50    p95 ms")
    for key, values in sorted(times.items()):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"  {key:<40} {len(values):>6} {p50:>6.0f} {p95:>6.0f}")


def last_event_index() -> int:
    from django.db.models import Max

    from contactpoint.audit.models import Event

    return int(Event.objects.aggregate(m=Max("index"))["m"] or -1)


def check_audit(env: dict[str, str], first: int, views: list[str]) -> None:
    """Every record view answered 200 has its `child:record:view` event; the log verifies."""
    from contactpoint.audit.models import Event

    events = Event.objects.filter(index__gt=first, action="child:record:view", outcome="allowed")
    audited = set(events.values_list("request_id", flat=True))
    missing = [v for v in views if v not in audited]
    print()
    print(
        f"audit:          {len(views):,} record views answered 200, {events.count():,} "
        f"child:record:view events; {len(missing)} views without their event"
    )
    done = subprocess.run(
        [sys.executable, "-m", "contactpoint", "audit", "verify"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:]
    print(f"audit verify:   exit {done.returncode}: {tail[0] if tail else ''}")


if __name__ == "__main__":
    raise SystemExit(main())
