"""What ties a contact request to its involvement, kept from a stolen database (ADR 0010).

A contact request exists only for a sensitive service, so a row naming its involvement
(and so its child) in clear says the child has one. The row names it instead by
`involvement_tag`, the first 128 bits of HMAC-SHA256 of the involvement's id under a key
derived from the index root key (`contact-request-tag/v1`): what the one-open-request
rule compares, equal for equal involvements and joining no other table. The id itself is
`involvement_sealed`, sealed under another derived key (`contact-request-involvement/v1`,
associated data naming table, column and row), opened by whoever acts on the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.practice.models import ContactRequest
from contactpoint.registry.cipher import associated_data, open_padded, seal_padded

TAG_KEY = "contact-request-tag/v1"
SEAL_KEY = "contact-request-involvement/v1"
TAG_BYTES = 16
ID_SIZE = 36  # a UUID's text


def involvement_tag(involvement_id: uuid.UUID) -> bytes:
    return crypto.keyed_digest(derived_key(TAG_KEY), involvement_id.bytes)[:TAG_BYTES]


def seal_involvement(request_id: uuid.UUID, involvement_id: uuid.UUID) -> bytes:
    ad = associated_data(ContactRequest, "involvement_sealed", request_id)
    return seal_padded(derived_key(SEAL_KEY), str(involvement_id), ID_SIZE, ad, "involvement")


def involvement_of(request: ContactRequest) -> uuid.UUID:
    """The request's involvement id, opened."""
    ad = associated_data(ContactRequest, "involvement_sealed", request.pk)
    return uuid.UUID(open_padded(derived_key(SEAL_KEY), bytes(request.involvement_sealed), ad))


def make(requester_id: uuid.UUID, involvement_id: uuid.UUID) -> ContactRequest:
    """A new open request (not yet saved)."""
    request_id = uuid.uuid4()
    return ContactRequest(
        id=request_id,
        requester_id=requester_id,
        involvement_tag=involvement_tag(involvement_id),
        involvement_sealed=seal_involvement(request_id, involvement_id),
    )


def forget(involvement_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Delete the requests to these involvements, as they leave: the sealed id is no
    foreign key, so nothing cascades from the involvement. Returns their ids, for their
    alerts to go too (`alerts.forget`)."""
    tags = [involvement_tag(i) for i in involvement_ids]
    doomed = list(
        ContactRequest.objects.filter(involvement_tag__in=tags).values_list("id", flat=True)
    )
    ContactRequest.objects.filter(pk__in=doomed).delete()
    return doomed
