"""Locust users for the capacity benchmark: practitioners on the web pages and case-management
systems on the JSON API, against `contactpoint serve` (benchmarks/capacity/run.py starts
both and writes the plan this file reads).

Runs in the benchmark's own virtual environment (`make bench-capacity`), which has Locust
and the standard library only: nothing here imports contactpoint. The plan, a JSON file
named by CAPACITY_PLAN, holds throw-away credentials of development users and clients and
searches for synthetic children.

Each simulated practitioner holds one account for the whole run. A visit is what a
practitioner does when they open contactpoint: sign in (password, then an authenticator
code), find a child (the search form, the search, its results), open the record found,
register their involvement with about one child in ten whose record they open, read their
alerts, and sign out. An API client gets a token (again when it is near its 10 minutes),
then searches and reads the record of the child found.

Every record answered 200 (page or API) is noted with its X-Request-ID, the id its audit
event carries; run.py checks each against the audit log after the run.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import random
import re
import struct
import threading
import time
from typing import Any

from locust import HttpUser, between, events, task

with open(os.environ["CAPACITY_PLAN"], encoding="utf-8") as _plan:
    PLAN: dict[str, Any] = json.load(_plan)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHILD = re.compile(r'href="/children/(CP-[A-Z0-9-]+)"')
REGISTER_SHARE = 0.1  # of records opened, the share whose child the practitioner registers on
ALREADY = "already registered with this child"
PROBLEM = re.compile(r'error-summary__list">\s*<li><a href="#[\w-]+">([^<]{1,120})</a>')
TOKEN_LIFE = 540.0  # seconds a token is used for: less than its 10 minutes

# X-Request-IDs of record views answered 200, written when the run stops.
VIEWS: list[str] = []
_views_lock = threading.Lock()
_accounts = {"practitioners": 0, "clients": 0}
_accounts_lock = threading.Lock()


def next_account(kind: str) -> dict[str, Any]:
    """The next unused account of this kind: one simulated user for each."""
    with _accounts_lock:
        n = _accounts[kind]
        _accounts[kind] += 1
    pool = PLAN[kind]
    if n >= len(pool):
        raise RuntimeError(f"the plan has {len(pool)} {kind}: run fewer simulated users")
    account: dict[str, Any] = pool[n]
    return account


def totp_code(secret: str, step: int) -> str:
    """The RFC 6238 code (SHA-1, 6 digits, 30-second steps) of `secret` at `step`."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    mac = hmac.new(key, struct.pack(">Q", step), "sha1").digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def noted_view(response: Any) -> None:
    if response.status_code == 200:
        with _views_lock:
            VIEWS.append(response.headers.get("X-Request-ID", ""))


# (status, milliseconds) of every request (status 0: no answer), written when the run stops:
# the runner reports the answered apart from the shed.
TIMES: list[tuple[int, float]] = []


@events.request.add_listener
def noted_time(response_time: float, response: Any = None, **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    with _views_lock:
        TIMES.append((status, response_time))


@events.test_stop.add_listener
def write_views(**_: Any) -> None:
    out = os.environ.get("CAPACITY_VIEWS")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(VIEWS, handle)
    times = os.environ.get("CAPACITY_TIMES")
    if times:
        with open(times, "w", encoding="utf-8") as handle:
            json.dump(TIMES, handle)


def search_form(query: dict[str, str], csrf: str) -> dict[str, str]:
    year, month, day = query["date_of_birth"].split("-")
    return {
        "csrfmiddlewaretoken": csrf,
        "purpose": query["purpose"],
        "dob-day": str(int(day)),
        "dob-month": str(int(month)),
        "dob-year": year,
        "family_name": query["family_name"],
        "given_name": query["given_name"],
        "postcode": query["postcode"],
    }


class Practitioner(HttpUser):
    """A practitioner on the web pages: visits of a few minutes, each begun by signing in."""

    weight = 9
    wait_time = between(1, 3)  # reading a page before the next click

    def on_start(self) -> None:
        self.account = next_account("practitioners")
        self.last_step = 0
        self.visits_left = 0
        self.signed_in = False

    def get(self, path: str, name: str) -> Any:
        return self.local(self.client.get(path, name=name))

    def post(self, path: str, form: dict[str, str], name: str) -> Any:
        return self.local(self.client.post(path, data=form, name=name, allow_redirects=False))

    def local(self, response: Any) -> Any:
        """Send the `__Host-` cookies (Secure) back over plain HTTP to the local server, as
        a browser does for localhost (Python's cookie jar would not): the benchmark never
        leaves 127.0.0.1."""
        for cookie in self.client.cookies:
            cookie.secure = False
        return response

    def csrf_of(self, html: str) -> str:
        found = CSRF.search(html)
        return found.group(1) if found else ""

    def sign_in(self) -> bool:
        page = self.get("/sign-in", "web: sign-in page")
        form = {
            "csrfmiddlewaretoken": self.csrf_of(page.text),
            "email": self.account["email"],
            "password": self.account["password"],
            "next": "/",
        }
        answer = self.post("/sign-in", form, "web: sign-in password")
        if answer.status_code != 302:
            return False
        # A code is accepted once: the next sign-in waits for a later 30-second step.
        while (step := int(time.time()) // 30) <= self.last_step:
            time.sleep(1)
        page = self.get("/sign-in/second-factor?next=/", "web: sign-in code page")
        form = {
            "csrfmiddlewaretoken": self.csrf_of(page.text),
            "code": totp_code(self.account["totp_secret"], step),
            "next": "/",
        }
        answer = self.post("/sign-in/second-factor", form, "web: sign-in code")
        self.last_step = step
        if answer.status_code != 302:
            return False
        self.get("/", "web: home")
        return True

    def sign_out(self) -> None:
        page = self.get("/", "web: home")
        form = {"csrfmiddlewaretoken": self.csrf_of(page.text)}
        self.post("/sign-out", form, "web: sign-out")
        self.client.cookies.clear()
        self.signed_in = False

    @task
    def visit(self) -> None:
        if not self.signed_in:
            self.signed_in = self.sign_in()
            self.visits_left = random.randint(1, 3)  # searches before signing out
            if not self.signed_in:
                return
        self.find_and_open()
        self.wait()
        if random.random() < 0.5:
            self.get("/alerts", "web: alerts")
            self.wait()
        self.visits_left -= 1
        if self.visits_left <= 0:
            self.sign_out()

    def find_and_open(self) -> None:
        page = self.get("/search", "web: search page")
        query = random.choice(PLAN["queries"])
        self.wait()
        answer = self.post("/search", search_form(query, self.csrf_of(page.text)), "web: search")
        if answer.status_code != 303:
            return  # no confident match: the page says so
        results = self.get(answer.headers["Location"], "web: search results")
        found = CHILD.findall(results.text)
        if not found:
            return
        self.wait()
        cpid = found[0]
        shown = self.get(f"/children/{cpid}", "web: record")
        noted_view(shown)
        if shown.status_code == 200 and random.random() < REGISTER_SHARE:
            self.register(cpid, shown.text)

    def register(self, cpid: str, record: str) -> None:
        if 'name="job_title"' not in record:
            return  # already registered (the record shows in full), or shielded
        form = {
            "csrfmiddlewaretoken": self.csrf_of(record),
            "role": self.account["involvement_role"],
            "job_title": self.account["job_title"],
            "phone": "020 7946 0000",
        }
        self.wait()
        with self.client.post(
            f"/children/{cpid}/involvements",
            data=form,
            name="web: register",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            self.local(answer)
            if answer.status_code == 400 and ALREADY in answer.text:
                # Another practitioner of the organisation registered the child first.
                answer.success()
            elif answer.status_code == 400:
                found = PROBLEM.search(answer.text)  # the service's message, never a value
                answer.failure(f"400: {found.group(1).strip() if found else 'no message'}")
        if answer.status_code == 302:
            noted_view(self.get(f"/children/{cpid}", "web: record"))


class ApiClient(HttpUser):
    """A case-management system: a token, then searches and the records they find."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.account = next_account("clients")
        self.token = ""
        self.token_at = 0.0

    def ensure_token(self) -> bool:
        if self.token and time.monotonic() - self.token_at < TOKEN_LIFE:
            return True
        answer = self.client.post(
            "/api/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.account["client_id"], self.account["secret"]),
            name="api: token",
        )
        if answer.status_code != 200:
            self.token = ""
            return False
        self.token, self.token_at = answer.json()["access_token"], time.monotonic()
        return True

    @task
    def search_and_read(self) -> None:
        if not self.ensure_token():
            return
        query = random.choice(PLAN["queries"])
        body = {
            "purpose": query["purpose"],
            "date_of_birth": query["date_of_birth"],
            "family_name": query["family_name"],
        }
        if query["given_name"]:
            body["given_name"] = query["given_name"]
        if query["postcode"]:
            body["postcode"] = query["postcode"]
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = self.client.post(
            "/api/v1/children/search", json=body, headers=headers, name="api: search"
        )
        if answer.status_code == 401:
            self.token = ""
            return
        if answer.status_code != 200:
            return
        candidates = answer.json().get("candidates") or []
        if candidates:
            shown = self.client.get(
                f"/api/v1/children/{candidates[0]['cpid']}", headers=headers, name="api: record"
            )
            noted_view(shown)
