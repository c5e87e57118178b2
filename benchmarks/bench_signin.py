"""Benchmark the password step of sign-in: does its time say whether an account exists?

Times POST /sign-in in-process (Django's test client, the real middleware, SQLite) for an
unknown e-mail, a known e-mail with a wrong password, and the right password, interleaved,
each from its own address (and each unknown e-mail a new one: the per-account limit
counts e-mails with no account too) so no throttle answers instead. Prints the median and p90 of
each, the ratio of the unknown median to the known-wrong median (1.00 means the time
tells nothing), the Argon2 time alone, and the cost of one signed-in page request.

Usage: .venv/bin/python benchmarks/bench_signin.py [--attempts N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import statistics
import tempfile
import time
from collections.abc import Callable

from measure import commit, contactpoint, machine, setup_django

PASSWORD = "a benchmark password of some length"  # noqa: S105 - a throw-away database


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=40, help="attempts of each kind")
    args = parser.parse_args()
    data = pathlib.Path(tempfile.mkdtemp(prefix="cp-bench-signin-"))
    env = {**os.environ, "CONTACTPOINT_DATA_DIR": str(data), "CONTACTPOINT_ENV": "development"}
    contactpoint(env, "init", "--quiet")
    os.environ["CONTACTPOINT_ALLOWED_HOSTS"] = "testserver"
    setup_django(data)
    from django.contrib.auth.hashers import make_password
    from django.test import Client

    from contactpoint.access.models import Accreditation, User
    from contactpoint.registry.models import Organisation

    org = Organisation.objects.create(code="B1", kind="school", name="Bench School")
    Accreditation.objects.create(
        organisation=org, status="accredited", expires_on=dt.date.today() + dt.timedelta(days=9)
    )
    user = User(email="known@bench.example", name="Known", organisation=org, role="practitioner")
    user.set_password(PASSWORD)
    user.save()

    kinds: dict[str, tuple[str, str]] = {
        "unknown e-mail": ("nobody@bench.example", "wrong password"),
        "known, wrong password": ("known@bench.example", "wrong password"),
        "known, right password": ("known@bench.example", PASSWORD),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(args.attempts):
        for kind, (email, password) in kinds.items():
            client = Client(REMOTE_ADDR=f"10.{len(times[kind])}.{i // 250}.{i % 250}")
            email = email.replace("nobody@", f"nobody{i}@")
            started = time.perf_counter()
            response = client.post("/sign-in", {"email": email, "password": password})
            times[kind].append(time.perf_counter() - started)
            assert response.status_code in (200, 302), response.status_code

    hashing = timed(lambda: make_password(PASSWORD), 10)
    print(f"sign-in timing, {args.attempts} attempts of each kind")
    print(f"machine: {machine()}")
    print(f"commit:  {commit()}")
    for kind, samples in times.items():
        median, p90 = quantiles(samples)
        print(f"  {kind:<24} median {median * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms")
    ratio = statistics.median(times["unknown e-mail"]) / statistics.median(
        times["known, wrong password"]
    )
    print(f"  unknown / known-wrong median ratio: {ratio:.3f}")
    print(f"  Argon2 hash alone: median {statistics.median(hashing) * 1000:.1f} ms")


def timed(work: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return samples


if __name__ == "__main__":
    main()
