"""A child by its contactpoint ID, as every service that takes an ID from a person reads it:
a merged child's survivor, and nothing for a record closed to them."""

from __future__ import annotations

from contactpoint.lib.errors import Refusal
from contactpoint.registry.models import Child


class NotFound(Refusal):
    """No child with that contactpoint ID is on the index (or it is closed for good)."""


class Purged(NotFound):
    """The record was purged (its data key destroyed): told to its local index team only."""


def child_by_cpid(cpid: str, *, archived: bool = False) -> Child:
    """The child with this contactpoint ID; a merged child's survivor. With `archived`,
    an archived or purged child too (only its local index team may go further).

    Raises:
        NotFound: no such child, or one sealed, archived or deceased (closed to searches).
    """
    child = Child.objects.filter(cpid=cpid.strip().upper()).first()
    for _ in range(5):  # a merge chain is short; a loop in one is a bug, not a child
        if child is None or child.status != Child.Status.MERGED or child.merged_into_id is None:
            break
        child = Child.objects.filter(pk=child.merged_into_id).first()
    allowed = {Child.Status.ACTIVE}
    if archived:
        allowed |= {Child.Status.ARCHIVED, Child.Status.PURGED}
    if child is None or child.status not in allowed:
        raise NotFound
    return child
