"""Subject-access reports (docs/families.md) through HTTP: what is held with its sources,
who looked by organisation and role, child protection enquiries withheld until released,
the shielded-child rule, the audit, and the PDF.

Ian is area A's (Camden's) local index team: the made-up children's school and GP are in
Camden. Alice is a practitioner at school A, Charlie a social worker at council B.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re
import uuid
from pathlib import Path

import pypdf
import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from contactpoint.access.users import Actor, Refused
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.practice import involvements
from contactpoint.practice.families import subject_access
from contactpoint.practice.families import subject_access_history as access_history
from contactpoint.practice.involvements import Details
from contactpoint.practice.models import EnquiryRelease, SubjectAccessRequest
from contactpoint.registry import shield_tags
from contactpoint.registry.models import Child
from contactpoint.web.views.children import families
from tests.support.actors import Actors, signed_in
from tests.support.children import found, load_children
from tests.support.events import details_of
from tests.support.pages import search
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CHARLIE_PHONE = "020 7946 0555"
NOTE = "Mother came to the office with her passport and the child's birth certificate"
ENQUIRY = "Part of a child protection enquiry (section 47)"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


_KEYS: dict[object, str] = {}  # each made-up child's key in PEOPLE, by its id


@pytest.fixture(autouse=True)
def _keys(children: dict[str, Child]) -> None:
    _KEYS.clear()
    _KEYS.update({c.pk: k for k, c in children.items()})


def look(client: Client, child: Child, purpose: str = "starting_work") -> None:
    """Search for the child and open its record, as a user does."""
    search(client, _KEYS[child.pk], purpose)
    assert client.get(f"/children/{child.cpid}").status_code == 200


def ask(ian: Client, child: Child, relationship: str = "parent") -> str:
    """Ian finds the child and records a request; the report's address."""
    look(ian, child)
    response = ian.post(
        f"/children/{child.cpid}/subject-access",
        {"relationship": relationship, "identity_check": "photo_id", "note": NOTE},
    )
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


def page_text(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html_lib.unescape(response.content.decode())


def report_part(page: str) -> str:
    """The report itself: what the family is given (the team's panel left out)."""
    match = re.search(r'<article id="report">(.*?)</article>', page, re.S)
    assert match
    return match.group(1)


def no_staff(actors: Actors, words: str) -> None:
    for someone in actors.all():
        assert someone.name not in words
        assert someone.email not in words
        assert str(someone.pk) not in words
        assert f"user:{someone.pk}" not in words


def enquiry_search() -> Event:
    """The search that started the enquiry: its purpose is sealed, in clear it is empty."""
    searches = list(Event.objects.filter(action="child:records:search"))
    opened = audit_log.purposes_of(searches)
    (event,) = [e for e in searches if opened[e.index] == "child_protection_enquiry"]
    assert event.purpose == ""
    return event


def pdf_text(data: bytes) -> str:
    """The text the PDF draws, as a PDF reader (pypdf) extracts it."""
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# The report ------------------------------------------------------------------------------


def test_a_report_lists_fields_with_sources_involvements_and_who_looked_and_no_staff(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    charlie = Actor.of(actors.charlie)
    found(charlie, amelia)
    involvements.register(charlie, amelia, Details("social_worker", "Social worker", CHARLIE_PHONE))
    look(signed_in(actors.alice), amelia)
    ian = signed_in(actors.ian)
    report = report_part(page_text(ian, ask(ian, amelia)))
    assert "Hartley" in report and "Amelia" in report and "4 March 2015" in report
    assert "From NHS demographics, as at 1 October 2026" in report
    assert "NW1 3AB" in report
    assert "Elm Tree Surgery" in report and "Parkside Primary School" in report
    assert "surgery@example.nhs.uk" in report  # an organisation's contact details are fine
    assert "Hackney Children's Services: Social worker" in report
    assert CHARLIE_PHONE not in report  # a practitioner's own are not
    assert "Parkside Primary School, Practitioner" in report
    assert "Found the child in a search" in report and "Looked at the record" in report
    assert "Why: I have started working with this child" in report
    assert "Hackney Children's Services, Practitioner" in report
    assert "Recorded their work with the child" in report
    # Ian finding the child to make the report is not an access the family asked about.
    assert "Camden Children's Services" not in report
    assert NOTE not in report
    no_staff(actors, report)
    page = page_text(ian, f"/subject-access/{SubjectAccessRequest.objects.get().pk}")
    whole = page[page.index("<main") :]  # the header names the signed-in user, not the page
    no_staff(actors, whole)
    assert NOTE in whole  # the team's own panel


def test_a_sensitive_service_shows_to_a_parent_as_an_additional_service_only(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    charlie = Actor.of(actors.charlie)
    found(charlie, amelia)
    camhs = Details(
        "health_service",
        "CAMHS",
        CHARLIE_PHONE,
        sensitive_category="mental_health",
        consent_basis="young_person_consent",
    )
    involvements.register(charlie, amelia, camhs)
    ian = signed_in(actors.ian)
    parent = report_part(page_text(ian, ask(ian, amelia)))
    assert "Hackney" not in parent and "An additional service is involved" in parent
    young = report_part(page_text(ian, ask(ian, amelia, "young_person")))
    assert "Hackney Children's Services: Health service" in young


def test_child_protection_enquiry_accesses_are_withheld_until_released(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    charlie = signed_in(actors.charlie)
    look(charlie, amelia, "child_protection_enquiry")
    look(signed_in(actors.alice), amelia)
    ian = signed_in(actors.ian)
    where = ask(ian, amelia)
    before = page_text(ian, where)
    report = report_part(before)
    assert "Hackney" not in report and ENQUIRY not in report
    assert "Some accesses are withheld for now." in report
    assert not re.search(r"\d+ accesses", report)  # never how many
    assert "Parkside Primary School, Practitioner" in report
    search_event = enquiry_search()
    assert f'value="{search_event.index}"' in before  # the team's release button
    alice = signed_in(actors.alice)
    assert alice.post(f"{where}/release", {"enquiry": search_event.index}).status_code == 403
    response = ian.post(f"{where}/release", {"enquiry": search_event.index})
    assert response.status_code == 302
    release = EnquiryRelease.objects.get()
    enquiry = (f"user:{actors.charlie.pk}", timezone.localdate(search_event.at))
    assert (bytes(release.enquiry), release.released_by_id) == (
        access_history.enquiry_tag(amelia.pk, enquiry),
        actors.ian.pk,
    )
    # The row names neither the child nor who enquired, nor the day, in clear.
    stored = {str(v) for row in raw_rows("practice_enquiryrelease") for v in row}
    assert not {str(amelia.pk), amelia.pk.hex, enquiry[0], str(actors.charlie.pk)} & stored
    assert enquiry[1].isoformat() not in stored
    after = report_part(page_text(ian, where))
    assert "Hackney Children's Services, Practitioner" in after
    assert f"Found the child in a search. Why: {ENQUIRY}" in after
    assert f"Looked at the record. Why: {ENQUIRY}" in after  # the view follows the search
    assert "withheld" not in after
    no_staff(actors, after)


def test_a_shielded_childs_report_for_a_parent_shows_identity_only(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    look(signed_in(actors.alice), amelia)
    ian = signed_in(actors.ian)
    look(ian, amelia)
    shield_tags.shield([amelia.pk])
    for relationship in ("parent", "representative"):
        where = ask(ian, amelia, relationship)
        report = report_part(page_text(ian, where))
        assert "Hartley" in report and "4 March 2015" in report
        assert "contact the local index team" in report
        for held in ("NW1 3AB", "Test Road", "Parkside", "Elm Tree", "Practitioner", "NHS number"):
            assert held not in report, held
        pdf = pdf_text(ian.get(f"{where}.pdf").content)
        assert "Hartley" in pdf and "Parkside" not in pdf and "NW1 3AB" not in pdf
    young = report_part(page_text(ian, ask(ian, amelia, "young_person")))
    assert "NW1 3AB" in young and "Parkside Primary School, Practitioner" in young


# Who may ---------------------------------------------------------------------------------


def test_a_practitioner_and_another_areas_team_are_refused(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    alice = signed_in(actors.alice)
    look(alice, amelia)
    path = f"/children/{amelia.cpid}/subject-access"
    assert alice.get(path).status_code == 403
    with pytest.raises(Refused):
        subject_access.record_request(Actor.of(actors.alice), amelia, "parent", "photo_id")
    isla = signed_in(actors.isla)
    look(isla, amelia)
    assert isla.get(path).status_code == 403  # amelia is Camden's, not Hackney's
    ian = signed_in(actors.ian)
    where = ask(ian, amelia)
    for outsider in (alice, isla):
        assert outsider.get(where).status_code in (403, 404)
        assert outsider.get(f"{where}.pdf").status_code in (403, 404)
    assert ian.get("/subject-access/00000000-0000-0000-0000-000000000001").status_code == 404


def test_each_request_report_pdf_and_release_is_audited_with_ids_only(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    look(signed_in(actors.charlie), amelia, "child_protection_enquiry")
    ian = signed_in(actors.ian)
    where = ask(ian, amelia)
    request = SubjectAccessRequest.objects.get()
    assert NOTE.encode() not in bytes(request.note or b"")  # sealed
    assert subject_access.note_of(request) == NOTE
    # Who asked and how they were checked are sealed at a fixed length (ADR 0010).
    assert subject_access.relationship_of(request) == "parent"
    assert not {"parent", "photo_id"} & {
        v for row in raw_rows("practice_subjectaccessrequest") for v in row
    }
    assert len(bytes(request.relationship)) == subject_access.RELATIONSHIP_SIZE + 29
    ian.get(where)
    ian.get(f"{where}.pdf")
    search_event = enquiry_search()
    ian.post(f"{where}/release", {"enquiry": search_event.index})
    events = list(Event.objects.filter(action__startswith="families:").order_by("index"))
    assert [e.action for e in events] == [
        "families:subject-access:request",
        "families:subject-access:report",
        "families:subject-access:pdf",
        "families:subject-access:release-enquiry",
    ]
    assert all(e.principal == f"user:{actors.ian.pk}" and e.child_id == amelia.pk for e in events)
    assert details_of(events[0]) == {"subject_access_request": str(request.pk)}
    assert details_of(events[3])["event"] == search_event.index
    request.refresh_from_db()
    assert request.status == "issued" and request.issued_at is not None


def test_the_pdf_holds_the_pages_facts_and_no_staff(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    look(signed_in(actors.alice), amelia)
    ian = signed_in(actors.ian)
    where = ask(ian, amelia)
    response = ian.get(f"{where}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = pdf_text(response.content)
    report = report_part(page_text(ian, where))
    for fact in (
        "Hartley",
        "From NHS demographics, as at 1 October 2026",
        "Elm Tree Surgery",
        "Parkside Primary School, Practitioner",
        "Found the child in a search",
        "Why: I have started working with this child",
    ):
        assert fact in pdf and fact in report, fact
    no_staff(actors, pdf)


def report_with(name: str) -> subject_access.Report:
    held = subject_access.Held("Family name", name, "NHS demographics", dt.date(2026, 10, 1))
    return subject_access.Report(
        request_id=uuid.uuid4(),
        cpid="CP-TEST",
        requested_at=timezone.now(),
        relationship="The young person",
        issued_at=None,
        restricted=True,
        fields=(held,),
        involvements=(),
        accesses=(),
        withheld=False,
        enquiries=(),
    )


@pytest.mark.skipif(
    not Path(settings.CONTACTPOINT_PDF_FONT).is_file(), reason="no Unicode font installed"
)
def test_a_name_outside_latin_1_prints_as_held_with_a_unicode_font() -> None:
    text = pdf_text(families.pdf_of(report_with("Łukasiewicz-Nguyễn")))
    assert "Łukasiewicz-Nguyễn" in text


def test_without_a_unicode_font_the_pdf_falls_back_to_latin_1(tmp_path: Path) -> None:
    with override_settings(CONTACTPOINT_PDF_FONT=str(tmp_path / "none.ttf")):
        text = pdf_text(families.pdf_of(report_with("Łukasiewicz-Müller")))
    assert "?ukasiewicz-Müller" in text
