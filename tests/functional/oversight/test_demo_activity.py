"""`contactpoint demo-activity`: yesterday's demo use, judged by the nightly misuse
detection, so that the demo privacy officer's `/oversight` shows an alert on the first run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contactpoint import config
from contactpoint.access.models import User
from contactpoint.audit.models import Event
from contactpoint.oversight.models import DetectionRun, MisuseAlert
from contactpoint.registry.models import CouncilArea, Organisation
from tests.support.actors import signed_in
from tests.support.children import load_children
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


@pytest.fixture
def demo(feeds: Path) -> Iterator[None]:
    """The demo users over the test children (a Camden school's pupils) and a York school."""
    path = config.layout_dir(config.DEMO_DIR) / "demo-users.txt"
    path.unlink(missing_ok=True)
    load_children(feeds)
    york = CouncilArea.objects.create(code="E06000014", name="York")
    Organisation.objects.create(code="Y1", kind="school", name="York School", council_area=york)
    run_cli("demo-users")
    yield
    path.unlink(missing_ok=True)


def test_yesterdays_late_looks_put_an_alert_in_the_privacy_officers_queue(demo: None) -> None:
    result = run_cli("demo-activity")
    assert "1 in the privacy officers' queues" in result.stderr, result.stderr
    alert = MisuseAlert.objects.get()
    practitioner = User.objects.get(email__startswith="practitioner.camden")
    assert alert.kind == "out_of_hours" and alert.principal == f"user:{practitioner.pk}"
    assert DetectionRun.objects.get().day == alert.first_day
    officer = User.objects.get(email__startswith="privacy-officer.camden")
    queue = signed_in(officer).get("/oversight").content.decode()
    assert practitioner.name in queue and "outside working hours" in queue

    events = Event.objects.count()
    again = run_cli("demo-activity")  # the same day: nothing more written
    assert "judged already; 1 open alerts" in again.stderr
    assert Event.objects.count() == events and MisuseAlert.objects.count() == 1
