"""What ties a lead professional handover to its child and involvements, kept from a stolen
database (ADR 0010).

A handover row naming its child and two involvements in clear says which two services work
with the child and which leads it. The row names its child instead by `child_tag`, the
first 128 bits of HMAC-SHA256 of the child's id under a key derived from the index root
key (`handover-child-tag/v1`): what the one-open-handover rule compares and what finds a
child's handovers when an involvement or the child goes, equal for one child and joining
no other table. The child's and both involvements' ids are `about`, sealed (AES-256-GCM,
associated data naming table, column and row; 48 bytes, so every row has one length) under
another derived key (`handover-about/v1`), opened by whoever decides or shows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.practice.models import Handover
from contactpoint.registry.cipher import associated_data
from contactpoint.registry.models import Involvement

TAG_KEY = "handover-child-tag/v1"
ABOUT_KEY = "handover-about/v1"
TAG_BYTES = 16


def child_tag(child_id: uuid.UUID) -> bytes:
    return crypto.keyed_digest(derived_key(TAG_KEY), child_id.bytes)[:TAG_BYTES]


def seal_about(
    handover_id: uuid.UUID, child_id: uuid.UUID, from_id: uuid.UUID, to_id: uuid.UUID
) -> bytes:
    ad = associated_data(Handover, "about", handover_id)
    return crypto.seal(derived_key(ABOUT_KEY), child_id.bytes + from_id.bytes + to_id.bytes, ad)


def ids_of(handover: Handover) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """The handover's child, from and to involvement ids, opened."""
    ad = associated_data(Handover, "about", handover.pk)
    raw = crypto.open_sealed(derived_key(ABOUT_KEY), bytes(handover.about), ad)
    return uuid.UUID(bytes=raw[:16]), uuid.UUID(bytes=raw[16:32]), uuid.UUID(bytes=raw[32:48])


def make(
    from_involvement: Involvement, to_involvement: Involvement, proposed_by_id: uuid.UUID
) -> Handover:
    """A new proposed handover from one involvement of a child to another (not yet saved)."""
    handover_id = uuid.uuid4()
    child_id = from_involvement.child_id
    handover = Handover(
        id=handover_id,
        child_tag=child_tag(child_id),
        about=seal_about(handover_id, child_id, from_involvement.pk, to_involvement.pk),
        proposed_by_id=proposed_by_id,
    )
    handover.child_id = child_id
    handover.from_involvement, handover.to_involvement = from_involvement, to_involvement
    return handover


def opened(handovers: Iterable[Handover]) -> list[Handover]:
    """The handovers, each with its child id and both involvements set (one query for all
    of them; an involvement removed since is None)."""
    rows = list(handovers)
    ids = {h.pk: ids_of(h) for h in rows}
    wanted = {i for child, one, other in ids.values() for i in (one, other)}
    involvements = Involvement.objects.in_bulk(wanted)
    for handover in rows:
        child, one, other = ids[handover.pk]
        handover.child_id = child
        handover.from_involvement = involvements.get(one)
        handover.to_involvement = involvements.get(other)
    return rows


def naming(child_id: uuid.UUID, involvement_id: uuid.UUID, status: str) -> list[Handover]:
    """The child's handovers in `status` from or to the involvement."""
    rows = Handover.objects.filter(child_tag=child_tag(child_id), status=status)
    return [h for h in rows if involvement_id in ids_of(h)[1:]]


def forget(child_ids: Iterable[uuid.UUID], involvement_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Delete the handovers of these children from or to these involvements, as the
    involvements leave (no foreign key cascades any more); returns their ids, for their
    alerts to go too."""
    gone = set(involvement_ids)
    rows = Handover.objects.filter(child_tag__in=[child_tag(c) for c in set(child_ids)])
    doomed = {h.pk for h in rows if gone & set(ids_of(h)[1:])}
    Handover.objects.filter(pk__in=doomed).delete()
    return doomed


def forget_children(child_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Delete every handover of these children (their purge); returns their ids."""
    tags = [child_tag(c) for c in set(child_ids)]
    doomed = set(Handover.objects.filter(child_tag__in=tags).values_list("id", flat=True))
    Handover.objects.filter(pk__in=doomed).delete()
    return doomed
