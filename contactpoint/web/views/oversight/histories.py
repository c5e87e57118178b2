"""A user's access history (and suspending them), and a child's access history by the
organisation's users.

Children show by contactpoint ID only, never a name, address or date of birth: the
pattern of who looked, when, why and with what outcome is what a review judges, and the
officer holds no relationship with the child that would let them see more.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_http_methods

from contactpoint.access.permissions import decide
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.oversight import workspace
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, notify, page, sentence
from contactpoint.web.views.children.common import when
from contactpoint.web.views.oversight import words


def _before(request: HttpRequest) -> int | None:
    """The page asked for: events before this index (a bad value means the newest)."""
    text = str(request.GET.get("before", ""))
    return int(text) if text.isdigit() and len(text) < 19 else None


def _user_page(
    request: HttpRequest,
    actor: Actor,
    user_id: uuid.UUID,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    before = _before(request)
    try:
        user, history = workspace.user_history(actor, user_id, before)
    except workspace.NotFound:
        raise Http404 from None
    may_suspend = (
        bool(decide(actor.principal, workspace.SUSPEND))
        and user.enabled
        and str(user.pk) != actor.principal.id
    )
    context = {
        **words.helpers(),
        "when": when,
        "user": user,
        "history": history,
        "before": before,
        "may_suspend": may_suspend,
        "errors": errors or {},
        "values": request.POST if errors else {},
    }
    return page(request, "oversight/user.html", context, status=400 if errors else 200)


@access_rule(workspace.HISTORY)
@require_GET
def user_history(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    """What one of the organisation's users did, newest first, a page at a time."""
    return _user_page(request, actor_of(request), user_id)


@access_rule(workspace.SUSPEND)
@step_up
@require_http_methods(["GET", "POST"])
def suspend(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    """Stop a user at once; a GET (back from the step-up page) goes to their history."""
    actor = actor_of(request)
    back = f"/oversight/users/{user_id}"
    if request.method != "POST":
        return HttpResponseRedirect(back)
    try:
        user = workspace.suspend(actor, user_id, str(request.POST.get("reason", ""))[:10_000])
    except workspace.NotFound:
        raise Http404 from None
    except Refused as refusal:
        return refused(request, str(refusal))
    except Invalid as invalid:
        return _user_page(request, actor, user_id, {"reason": sentence(str(invalid))})
    notify(
        request,
        f"{user.name} is suspended: they are signed out everywhere and cannot sign in. "
        "Their local index team can enable them again.",
    )
    return HttpResponseRedirect(back)


@access_rule(workspace.HISTORY)
@require_GET
def child_history(request: HttpRequest) -> HttpResponse:
    """The form for a contactpoint ID, and that child's access history by the
    organisation's users."""
    actor = actor_of(request)
    cpid = str(request.GET.get("cpid", "")).strip()[:40]
    context: dict[str, object] = {**words.helpers(), "when": when, "cpid": cpid}
    if not cpid:
        return page(request, "oversight/child.html", context)
    try:
        child, history = workspace.child_history(actor, cpid, _before(request))
    except workspace.NotFound:
        errors = {"cpid": workspace.NO_SUCH_CHILD}
        return page(request, "oversight/child.html", context | {"errors": errors}, status=404)
    context |= {"child_cpid": child.cpid, "history": history, "before": _before(request)}
    return page(request, "oversight/child.html", context)
