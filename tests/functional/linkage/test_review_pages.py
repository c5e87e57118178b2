"""The linkage review queue on the web, as the local index team meets it (docs/review.md).

Review items are made by loading overlapping feed records, as a real load makes them.
Area A (Camden) holds the GP A81001 of the made-up twins Amelia and Isla; area B
(Hackney) a GP of its own, B81001, for a second pair of twins loaded where a test needs one.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from contactpoint.audit.models import Event
from contactpoint.linkage import review_items
from contactpoint.linkage.models import DecisionNote, LinkDecision, ReviewItem
from contactpoint.registry.models import Child
from tests.linkage.scenarios import Registry, isla, misspelt, nameless, nhs, ola, snapshot
from tests.support.actors import Actors, signed_in
from tests.support.audit import audit_store_broken
from tests.support.events import about
from tests.support.feeds import ORGANISATIONS

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CB = "child_benefit"
NHS = "nhs_demographics"
GP_B = "B81001,gp_practice,Mill Lane Surgery,E09000012,Hackney,1 Mill Lane,London,E8 1AA,,\n"
WHY = "Same address and date of birth; the family confirmed by phone"
SECRETS = ("Hartley", "Amelia", "2015-03-04", "NW1 3AB", "4010232137")


@pytest.fixture
def registry(feeds: Path) -> Registry:
    (feeds / "organisations.csv").write_text(ORGANISATIONS + GP_B, encoding="utf-8")
    return Registry(feeds)


@pytest.fixture
def item_a(registry: Registry) -> ReviewItem:
    """A child benefit record that might be Amelia or Isla, both patients in area A."""
    registry.load(NHS, [nhs("N1"), isla()])
    registry.load(CB, [nameless()])
    return registry.item(CB, "CB1")


def item_b(registry: Registry) -> ReviewItem:
    """The same kind of item for other twins, patients in area B only."""
    okafor = {
        "org_code": "B81001",
        "family_name": "Okafor",
        "date_of_birth": "2014-07-09",
        "address_line1": "9 Mill Lane",
        "postcode": "E8 1AB",
    }
    twins = [nhs("H1", given_name="Tobi", nhs_number="4010232161", **okafor)]
    twins.append(nhs("H2", given_name="Tayo", nhs_number="4010232188", **okafor))
    registry.load(NHS, twins)
    registry.load(CB, [nameless("CB9", **{k: v for k, v in okafor.items() if k != "org_code"})])
    return registry.item(CB, "CB9")


def text(response: Any) -> str:
    return str(response.content.decode())


def decide(client: Client, item: ReviewItem, decision: str, why: str = WHY) -> Any:
    return client.post(f"/linkage/review/{item.pk}", {"decision": decision, "why": why})


# --- the queue and the item --------------------------------------------------------------


def test_the_queue_lists_the_areas_items_with_no_child_data(
    actors: Actors, item_a: ReviewItem
) -> None:
    page = signed_in(actors.ian).get("/linkage/review")
    assert page.status_code == 200
    body = text(page)
    assert str(item_a.pk) in body and "2</td>" in body
    for secret in SECRETS:
        assert secret not in body
    other = "shielded" if review_items.about(item_a).reason != "shielded" else "review_band"
    filtered = text(signed_in(actors.ian).get(f"/linkage/review?reason={other}"))
    assert str(item_a.pk) not in filtered and "No item of your area is waiting" in filtered


def test_the_item_shows_the_record_beside_each_candidate_and_is_audited_first(
    actors: Actors, registry: Registry, item_a: ReviewItem
) -> None:
    amelia = registry.child(NHS, "N1")
    page = signed_in(actors.ian).get(f"/linkage/review/{item_a.pk}")
    body = text(page)
    assert page.status_code == 200
    assert amelia.cpid in body and "Amelia" in body and "Isla" in body
    assert 'id="waterfall-1"' in body and 'id="waterfall-2"' in body
    assert "Before comparing (the prior)" in body and "Family name" in body
    shows = Event.objects.filter(action="linkage:review:show")
    assert {e.child_id for e in shows} == {amelia.pk, registry.child(NHS, "N2").pk}
    web = Event.objects.get(action="linkage:review-web:show")
    assert web.principal == f"user:{actors.ian.pk}"
    assert web.index < min(e.index for e in shows)


def test_nothing_is_shown_when_the_audit_log_cannot_be_written(
    actors: Actors, item_a: ReviewItem
) -> None:
    client = signed_in(actors.ian)
    with audit_store_broken():
        page = client.get(f"/linkage/review/{item_a.pk}")
    assert page.status_code == 503
    assert "Amelia" not in text(page) and "Hartley" not in text(page)


def test_the_waterfall_adds_up_to_the_match_weight(actors: Actors, item_a: ReviewItem) -> None:
    body = text(signed_in(actors.ian).get(f"/linkage/review/{item_a.pk}"))
    table = body.split('id="waterfall-1"')[1].split("</table>")[0]
    bits = [float(b) for b in re.findall(r"cp-bits\">([+-]\d+\.\d)<", table)]
    totals = [float(t) for t in re.findall(r"cp-total\">([+-]\d+\.\d)<", table)]
    weight = float(re.findall(r"match weight ([+-]\d+\.\d)", table)[0])
    assert len(bits) == len(totals) >= 5
    assert abs(sum(bits) - weight) < 0.05 * len(bits) and abs(totals[-1] - weight) < 0.051


# --- who may see which items ---------------------------------------------------------------


def test_another_areas_team_does_not_find_the_item_and_the_refusal_is_audited(
    actors: Actors, registry: Registry, item_a: ReviewItem
) -> None:
    b = item_b(registry)
    isla_client, ian_client = signed_in(actors.isla), signed_in(actors.ian)
    assert str(item_a.pk) not in text(isla_client.get("/linkage/review"))
    assert str(b.pk) in text(isla_client.get("/linkage/review"))
    assert str(b.pk) not in text(ian_client.get("/linkage/review"))
    refused = isla_client.get(f"/linkage/review/{item_a.pk}")
    assert refused.status_code == 404 and "Amelia" not in text(refused)
    event = Event.objects.get(action="access:area:linkage-review:decide", outcome="refused")
    assert event.principal == f"user:{actors.isla.pk}"
    assert not Event.objects.filter(action="linkage:review:show").exists()
    before = snapshot()
    assert decide(isla_client, item_a, "link-1").status_code == 404
    assert snapshot() == before


def test_the_record_s_own_organisation_makes_the_item_its_area_s(
    actors: Actors, registry: Registry
) -> None:
    registry.load(NHS, [nhs("N1"), isla()])
    registry.load(CB, [nameless(org_code="B81001", org_role="gp")])
    item = registry.item(CB, "CB1")
    assert str(item.pk) in text(signed_in(actors.isla).get("/linkage/review"))
    assert signed_in(actors.isla).get(f"/linkage/review/{item.pk}").status_code == 200


@pytest.mark.parametrize("who", ["alice", "charlie", "petra", "nadia"])
def test_no_other_role_reaches_the_queue_or_an_item(
    actors: Actors, item_a: ReviewItem, who: str
) -> None:
    client = signed_in(getattr(actors, who))
    for path in ("/linkage/review", f"/linkage/review/{item_a.pk}"):
        assert client.get(path).status_code in (403, 404)
    assert not Event.objects.filter(action="linkage:review:show").exists()
    assert "/linkage/review" not in text(client.get("/account"))


def test_anonymous_is_sent_to_sign_in(item_a: ReviewItem) -> None:
    answer = Client().get(f"/linkage/review/{item_a.pk}")
    assert answer.status_code == 302 and answer["Location"].startswith("/sign-in?next=")


def test_the_index_team_finds_the_review_queue_on_its_home(actors: Actors) -> None:
    # The menu's "Your team's work" leads to the home, which lists the team's pages.
    assert 'href="/linkage/review"' in text(signed_in(actors.ian).get("/"))


# --- decisions -----------------------------------------------------------------------------


def test_link_records_who_and_why_and_redirects_with_a_banner(
    actors: Actors, registry: Registry, item_a: ReviewItem
) -> None:
    client = signed_in(actors.ian)
    answer = decide(client, item_a, "link-1")
    assert answer.status_code == 302 and answer["Location"] == "/linkage/review"
    decision = LinkDecision.objects.get(action="link")
    assert decision.decided_by == f"Ian Irving (user:{actors.ian.pk})"
    note = DecisionNote.objects.get(decision=decision)
    assert (note.user_id, note.why) == (actors.ian.pk, WHY)
    assert registry.child(CB, "CB1").pk == decision.child_id
    assert "The record is linked to candidate 1" in text(client.get("/linkage/review"))
    assert Event.objects.filter(action="linkage:review:link").exists()
    web = Event.objects.get(action="linkage:review-web:link")
    assert web.principal == f"user:{actors.ian.pk}" and web.child_id == decision.child_id


def test_a_decision_needs_a_why(actors: Actors, item_a: ReviewItem) -> None:
    before = snapshot()
    answer = decide(signed_in(actors.ian), item_a, "link-1", why="  ")
    assert answer.status_code == 400
    assert "govuk-error-summary" in text(answer) and "Enter why you decided this" in text(answer)
    assert snapshot() == before


def test_not_a_match_keeps_the_item_open_then_new_child_is_made(
    actors: Actors, registry: Registry, item_a: ReviewItem
) -> None:
    client = signed_in(actors.ian)
    for number in ("1", "2"):
        answer = decide(client, item_a, f"not-a-match-{number}")
        assert answer.status_code == 302 and answer["Location"] == f"/linkage/review/{item_a.pk}"
    assert ReviewItem.objects.get(pk=item_a.pk).status == "open"
    assert "is marked not a match" in text(client.get(answer["Location"]))
    made = decide(client, item_a, "new-child")
    assert made.status_code == 302 and made["Location"].startswith("/linkage/decisions/")
    child = registry.child(CB, "CB1")
    page = text(client.get(made["Location"]))
    assert "A new child is made of the record" in page and WHY in page
    assert child.cpid in page or "A shielded child" in page
    assert LinkDecision.objects.filter(action="not_a_match").count() == 2


def test_a_refusal_from_the_service_is_shown_in_an_error_summary(
    actors: Actors, item_a: ReviewItem
) -> None:
    client = signed_in(actors.ian)
    decide(client, item_a, "not-a-match-1")
    before = snapshot()
    answer = decide(client, item_a, "link-1")
    assert answer.status_code == 400
    body = text(answer)
    assert "govuk-error-summary" in body and "was marked not a match for this record" in body
    assert snapshot() == before


def test_merge_asks_first_then_unmerge_puts_them_back(actors: Actors, registry: Registry) -> None:
    registry.load(NHS, [nhs("N1"), isla(), ola()])
    registry.load(CB, [nameless()])
    item = registry.item(CB, "CB1")
    client = signed_in(actors.ian)
    before = snapshot()
    asked = client.post(f"/linkage/review/{item.pk}/merge", {"keep": "1", "gone": "2"})
    assert asked.status_code == 200 and "Are these two children one child?" in text(asked)
    assert snapshot() == before
    form = {"keep": "1", "gone": "2", "confirmed": "yes"}
    assert client.post(f"/linkage/review/{item.pk}/merge", form).status_code == 400  # no why
    merged = client.post(f"/linkage/review/{item.pk}/merge", form | {"why": WHY})
    assert merged.status_code == 302
    merge = LinkDecision.objects.get(action="merge")
    assert Child.objects.get(pk=merge.other_child_id or uuid.uuid4()).status == "merged"
    page = text(client.get(merged["Location"]))
    assert "Merged: 1 record(s) moved" in page and "Undo this merge" in page
    undo = f"/linkage/decisions/{merge.pk}/unmerge"
    assert "Undo this merge?" in text(client.get(undo))
    assert client.post(undo, {"why": ""}).status_code == 400
    undone = client.post(undo, {"why": "Different children: two birth certificates"})
    assert undone.status_code == 302
    assert Child.objects.get(pk=merge.other_child_id or uuid.uuid4()).status == "active"
    assert "Unmerged: 1 record(s) moved back" in text(client.get(undone["Location"]))
    assert "Undo this merge" not in text(client.get(f"/linkage/decisions/{merge.pk}"))


def test_merging_a_candidate_with_itself_is_refused(actors: Actors, item_a: ReviewItem) -> None:
    answer = signed_in(actors.ian).post(
        f"/linkage/review/{item_a.pk}/merge", {"keep": "1", "gone": "1"}
    )
    assert answer.status_code == 400 and "Choose two different candidates" in text(answer)


def test_another_areas_team_cannot_see_or_undo_a_merge(actors: Actors, registry: Registry) -> None:
    registry.load(NHS, [nhs("N1"), isla(), ola()])
    registry.load(CB, [nameless()])
    item = registry.item(CB, "CB1")
    form = {"keep": "1", "gone": "2", "confirmed": "yes", "why": WHY}
    signed_in(actors.ian).post(f"/linkage/review/{item.pk}/merge", form)
    merge = LinkDecision.objects.get(action="merge")
    isla_client = signed_in(actors.isla)
    assert isla_client.get(f"/linkage/decisions/{merge.pk}").status_code == 404
    before = snapshot()
    undo = isla_client.post(f"/linkage/decisions/{merge.pk}/unmerge", {"why": WHY})
    assert undo.status_code == 404 and snapshot() == before


def test_a_decision_asks_for_the_second_factor_again_when_it_is_not_recent(
    actors: Actors, item_a: ReviewItem
) -> None:
    from contactpoint.access.middleware import FACTOR_AT

    client = signed_in(actors.ian)
    session = client.session
    session[FACTOR_AT] = 0
    session.save()
    before = snapshot()
    answer = decide(client, item_a, "link-1")
    assert answer.status_code == 302 and answer["Location"].startswith("/sign-in/confirm")
    merge = client.post(f"/linkage/review/{item_a.pk}/merge", {"keep": "1", "gone": "2"})
    assert merge.status_code == 302 and merge["Location"].startswith("/sign-in/confirm")
    assert snapshot() == before
    # Back from the second factor, the merge's address leads to the item to choose again.
    back = client.get(f"/linkage/review/{item_a.pk}/merge")
    assert back.status_code == 302 and back["Location"] == f"/linkage/review/{item_a.pk}"


# --- a shielded candidate ------------------------------------------------------------------


def test_a_shielded_candidate_is_withheld_and_cannot_be_decided_on_the_web(
    actors: Actors, registry: Registry
) -> None:
    registry.load(NHS, [nhs("N1"), isla(sensitive="Y")])
    registry.load(CB, [misspelt()])
    item = registry.item(CB, "CB3")
    shielded = registry.child(NHS, "N2")
    client = signed_in(actors.ian)
    body = text(client.get(f"/linkage/review/{item.pk}"))
    assert "a shielded child" in body and "decide through the shielding process" in body
    assert shielded.cpid not in body and "Isla" not in body
    numbers = re.findall(r'id="shielded-(\d+)"', body)
    assert numbers
    for action in ("link", "not-a-match"):
        assert f'value="{action}-{numbers[0]}"' not in body
    before = snapshot()
    for decision in (f"link-{numbers[0]}", f"not-a-match-{numbers[0]}", "new-child"):
        answer = decide(client, item, decision)
        assert answer.status_code == 400 and "Isla" not in text(answer)
    assert snapshot() == before
    # Opened as `review show` opens it: audited, the shielded candidate withheld.
    assert about(shielded.pk).filter(action="linkage:review:show").exists()


def test_an_unknown_item_is_not_found(actors: Actors) -> None:
    answer = signed_in(actors.ian).get(f"/linkage/review/{uuid.uuid4()}")
    assert answer.status_code == 404
