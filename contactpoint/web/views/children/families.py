"""Subject-access reports: the local index team's pages (docs/families.md).

`/children/<cpid>/subject-access` records a family's request (the second factor again,
as for every change the team makes about a child); `/subject-access/<id>` is the report,
printable; `/subject-access/<id>.pdf` the same facts as a PDF, which issues it;
`POST /subject-access/<id>/release` releases a child protection enquiry's accesses. A
child is reached only after a search, as everywhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.views.decorators.http import require_GET, require_http_methods
from fpdf import FPDF

from contactpoint.access.permissions import Permission
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice.families import subject_access
from contactpoint.practice.families.subject_access import (
    IdentityCheck,
    InvolvementHeld,
    Relationship,
    Report,
)
from contactpoint.practice.families.subject_access_history import Access
from contactpoint.practice.record import openable
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child
from contactpoint.web.access import access_rule, refused, step_up
from contactpoint.web.pages import actor_of, long_date, notify, page, sentence
from contactpoint.web.views.children.common import helpers, not_found

MANAGE = Permission.AREA_SUBJECT_ACCESS_MANAGE


def _form(
    request: HttpRequest, actor: Actor, child: Child, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = {
        **helpers(),
        "cpid": child.cpid,
        "relationships": list(Relationship.choices),
        "checks": list(IdentityCheck.choices),
        "earlier": subject_access.requests_for(actor, child),
        "errors": errors or {},
        "values": request.POST if errors else QueryDict(),
    }
    return page(request, "children/subject_access_request.html", context, 400 if errors else 200)


@access_rule(MANAGE)
@step_up
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, cpid: str) -> HttpResponse:
    """Record a family's subject-access request for a child the user has found."""
    actor = actor_of(request)
    try:
        child = openable(actor.principal, cpid)
    except NotFound:
        return not_found(request)
    if not subject_access.may_manage(actor, child):
        return refused(request, sentence(subject_access.NOT_LOCAL))
    if request.method != "POST":
        return _form(request, actor, child)
    errors: dict[str, str] = {}
    relationship = str(request.POST.get("relationship", ""))
    check = str(request.POST.get("identity_check", ""))
    if relationship not in Relationship.values:
        errors["relationship"] = "Select who is asking"
    if check not in IdentityCheck.values:
        errors["identity_check"] = "Select how you checked the requester's identity"
    if errors:
        return _form(request, actor, child, errors)
    note = str(request.POST.get("note", ""))[:4000]
    try:
        made = subject_access.record_request(actor, child, relationship, check, note)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        return _form(request, actor, child, {"note": sentence(str(invalid))})
    notify(request, "The request is recorded. The report is below: print it or download it.")
    return HttpResponseRedirect(f"/subject-access/{made.pk}")


@access_rule(MANAGE)
@require_GET
def report_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    try:
        request_row = subject_access.request_of(actor, pk)
        report = subject_access.report(actor, pk)
    except NotFound:
        return not_found(request)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    context: dict[str, Any] = {
        **helpers(),
        "report": report,
        "note": subject_access.note_of(request_row),
        "check": subject_access.identity_check_of(request_row),
        "contact_team": subject_access.CONTACT_TEAM,
        "withheld_words": subject_access.WITHHELD_FOR_NOW,
        **words(),
    }
    return page(request, "children/subject_access.html", context)


@access_rule(MANAGE)
@require_GET
def report_pdf(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    try:
        report = subject_access.report(actor, pk, pdf=True)
    except NotFound:
        return not_found(request)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    response = HttpResponse(pdf_of(report), content_type="application/pdf")
    name = f"subject-access-{report.cpid}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@access_rule(MANAGE)
@step_up
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Release one child protection enquiry's accesses into the report."""
    actor = actor_of(request)
    back = f"/subject-access/{pk}"
    if request.method != "POST":
        return HttpResponseRedirect(back)
    try:
        enquiry = int(str(request.POST.get("enquiry", "")))
    except ValueError:
        enquiry = -1
    try:
        subject_access.release_enquiry(actor, pk, enquiry)
    except NotFound:
        return not_found(request)
    except Refused as refusal:
        return refused(request, sentence(str(refusal)))
    except Invalid as invalid:
        notify(request, sentence(str(invalid)))
        return HttpResponseRedirect(back)
    notify(request, "The enquiry's accesses are released: the report now shows them.")
    return HttpResponseRedirect(back)


# The PDF: the same facts as the page, in the same order ----------------------------------

PDF_SAFE = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
PDF_SAFE.update({ord("\u2013"): "-", ord("\u2014"): "-", ord("\u2026"): "..."})


def _latin(text: str) -> str:
    """The PDF's core fonts are Latin-1: typographic marks become plain ones, and any other
    character a question mark (the page shows it exactly)."""
    return text.translate(PDF_SAFE).encode("latin-1", "replace").decode("latin-1")


def source_words(source: str, as_at: Any) -> str:
    return f"From {source}, as at {long_date(as_at)}"


def pdf_font(pdf: FPDF) -> tuple[str, Callable[[str], str]]:
    """The font family the PDF writes in, and what text goes through first: the configured
    Unicode font (CONTACTPOINT_PDF_FONT), embedded, so every name prints as held; without
    it, Helvetica and Latin-1."""
    regular = Path(settings.CONTACTPOINT_PDF_FONT)
    if not regular.is_file():
        return "Helvetica", _latin
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    pdf.add_font("Body", "", str(regular))
    pdf.add_font("Body", "B", str(bold if bold.is_file() else regular))
    return "Body", str


def pdf_of(report: Report) -> bytes:
    """The report as a PDF (A4), made with fpdf2."""
    pdf = FPDF(format="A4")
    pdf.set_title("Subject-access report")
    pdf.set_author("contactpoint")
    family, text_of = pdf_font(pdf)
    pdf.add_page()

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, 8, text_of(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, text_of(text), new_x="LMARGIN", new_y="NEXT")

    heading("Subject-access report", 18)
    line(f"contactpoint ID {report.cpid}")
    line(f"Asked for on {long_date(report.requested_at.date())} by: {report.relationship}")
    heading("What is held")
    for held in report.fields:
        line(f"{held.label}: {held.value}. {source_words(held.source, held.as_at)}")
    if report.restricted:
        line(subject_access.CONTACT_TEAM)
        return bytes(pdf.output())
    heading("Services involved")
    for inv in report.involvements:
        line(" - ".join(p for p in (inv.organisation, inv.role, inv.contact) if p))
        line(f"    {involvement_words(inv)}")
    if not report.involvements:
        line("No service is recorded as involved.")
    heading("Who looked at the record")
    for access in report.accesses:
        line(f"{access_who(access)}: {access_line(access)}")
    if not report.accesses:
        line("No organisation has looked at the record.")
    if report.withheld:
        line(subject_access.WITHHELD_FOR_NOW)
    return bytes(pdf.output())


def involvement_words(inv: InvolvementHeld) -> str:
    parts = [f"Ended {long_date(inv.ended)}" if inv.ended else "Current"]
    if inv.last_confirmed:
        parts.append(f"last confirmed {long_date(inv.last_confirmed)}")
    if inv.lead:
        parts.append("lead professional")
    if inv.caf:
        parts.append("an early help assessment (CAF) exists")
    if inv.kept_by:
        parts.append(f"kept by {inv.kept_by}")
    return "; ".join(parts)


def access_who(access: Access) -> str:
    return f"{access.organisation}, {access.role}" if access.role else access.organisation


def access_line(access: Access) -> str:
    times = f" ({access.times} times)" if access.times > 1 else ""
    return f"{long_date(access.day)}: {access.what}{times}. Why: {access.purpose}"


def words() -> dict[str, Any]:
    """The PDF's phrasings, for the page to use too."""
    return {
        "source_words": source_words,
        "involvement_words": involvement_words,
        "access_who": access_who,
        "access_line": access_line,
    }
