"""What the user and organisation pages share: lookups that 404, the roles an actor gives."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from contactpoint.access.models import User
from contactpoint.access.permissions import ASSIGNABLE, Permission, Role, decide
from contactpoint.access.users import Actor, visible_users
from contactpoint.registry.models import Organisation


def user_or_404(actor: Actor, user_id: uuid.UUID) -> User:
    # A user outside the actor's reach does not exist, as far as any page says.
    user = visible_users(actor).filter(pk=user_id).first()
    if user is None:
        raise Http404
    return user


def organisations_for(actor: Actor, national: Permission) -> QuerySet[Organisation]:
    """The organisations of the actor's council area; all of them with the national grant."""
    organisations = Organisation.objects.select_related("council_area", "accreditation")
    if decide(actor.principal, national):
        return organisations.order_by("name")
    area = actor.principal.area_code
    if area is None:
        return organisations.none()
    return organisations.filter(council_area__code=area).order_by("name")


def organisation_or_404(actor: Actor, code: str, national: Permission) -> Organisation:
    organisation = organisations_for(actor, national).filter(code=code).first()
    if organisation is None:
        raise Http404
    return organisation


def role_options(actor: Actor) -> list[tuple[str, str]]:
    """The roles the actor may give, as radio options in the vocabulary's order."""
    return [(r.value, r.label) for r in Role if r in ASSIGNABLE[actor.principal.role]]
