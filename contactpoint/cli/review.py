"""`contactpoint review`: the review queue and a local index team's decisions (docs/review.md).

Only `review show` prints a child's data: the waiting record beside each candidate's
golden record, for the person deciding. A shielded or sealed candidate is never shown.
"""

from __future__ import annotations

import argparse
import datetime as dt

from django.utils import timezone

from contactpoint.audit.log import AuditUnavailable
from contactpoint.cli import error
from contactpoint.linkage import corrections, review
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.review import CandidateView, ItemView, ReviewError
from contactpoint.registry.golden import Field, GoldenRecord

WITHHELD = "a shielded child (details withheld)"
COLUMN = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="open review items, oldest first (no child data)")
    listing.add_argument("--reason", choices=ReviewItem.Reason.values)
    show = sub.add_parser("show", help="the waiting record beside each candidate child")
    show.add_argument("item")
    for name, text in (
        ("link", "link the item's record to one of its candidates"),
        ("not-a-match", "never propose this candidate for the item's record again"),
    ):
        p = _decision_parser(sub, name, text)
        p.add_argument("item")
        p.add_argument("--child", required=True, help="the candidate's cpid or its number")
    _decision_parser(sub, "new-child", "make a new child of the item's record").add_argument("item")
    merge = _decision_parser(sub, "merge", "merge two children: GONE's records move to KEEP")
    merge.add_argument("keep", metavar="CPID_KEEP")
    merge.add_argument("gone", metavar="CPID_GONE")
    _decision_parser(sub, "unmerge", "undo a merge").add_argument("decision")
    _decision_parser(sub, "unlink", "take a record off its child").add_argument("record")
    _decision_parser(sub, "reverse", "undo any decision by its inverse").add_argument("decision")
    change = _decision_parser(sub, "identity-change", "new identity; the old one is sealed")
    change.add_argument("cpid")
    change.add_argument(
        "--records",
        default="",
        help="source record ids, comma-separated (default: each source's newest record)",
    )


def _decision_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text)
    p.add_argument("--by", required=True, help="the name of the person deciding")
    return p


def run(args: argparse.Namespace) -> int:
    try:
        return _ACTIONS[args.action](args)
    except ReviewError as exc:
        return error(str(exc))
    except AuditUnavailable:
        return error(
            "this cannot be recorded in the audit log just now, so nothing was shown or "
            "changed; try again later"
        )


def _list(args: argparse.Namespace) -> int:
    entries = review.open_items(args.reason)
    now = timezone.now()
    print("item\treason\tage\tcandidates\tbest weight")
    for e in entries:
        best = "-" if e.best_weight is None else f"{e.best_weight:.1f}"
        print(f"{e.item_id}\t{e.reason}\t{_age(now - e.created_at)}\t{e.candidates}\t{best}")
    print(f"{len(entries)} open item(s)")
    return 0


def _age(age: dt.timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24}d"
    return f"{hours}h" if hours else f"{int(age.total_seconds() // 60)}m"


def _show(args: argparse.Namespace) -> int:
    view = review.item_view(args.item)
    print(f"review item {view.item_id} ({view.reason}, {view.status})")
    print(_table(_rows(view)))
    if view.candidates:
        print("\nwhy the model scored each candidate so (comparison: level, weight):")
        print(_table(_contribution_rows(view.candidates)))
    return 0


def _heading(c: CandidateView) -> str:
    if c.protected:
        return f"{c.number}. {WITHHELD}"
    ruled = ", not a match" if c.ruled_out else ""
    return f"{c.number}. {c.cpid} ({c.weight:+.1f}{ruled})"


def _rows(view: ItemView) -> list[list[str]]:
    r = view.record
    waiting = [
        r.given_name,
        r.family_name,
        r.former_family_name,
        r.date_of_birth.isoformat() if r.date_of_birth else "",
        r.sex,
        r.address_line1,
        str(r.postcode or ""),
        r.nhs_number or "",
        r.upn or "",
        f"{len(r.carers)}",
        f"{view.source}, {r.as_at.isoformat()}",
    ]
    columns = [waiting, *(_golden_column(c) for c in view.candidates)]
    labels = [
        "given name",
        "family name",
        "former family name",
        "date of birth",
        "sex",
        "address",
        "postcode",
        "NHS number",
        "UPN",
        "carers",
        "from",
    ]
    head = ["", "waiting record", *(_heading(c) for c in view.candidates)]
    return [head, *([label, *(col[i] for col in columns)] for i, label in enumerate(labels))]


def _golden_column(c: CandidateView) -> list[str]:
    g = c.golden
    if c.protected or g is None:
        return [""] * 11
    former = ", ".join(f.value for f in g.former_family_names)
    return [
        *(_value(f) for f in (g.given_name, g.family_name)),
        former,
        *(_value(f) for f in (g.date_of_birth, g.sex, g.address_line1, g.postcode)),
        *(_value(f) for f in (g.nhs_number, g.upn)),
        f"{len(g.carers)}",
        _sources(g),
    ]


def _value(f: Field | None) -> str:
    return f.value if f else ""


def _sources(g: GoldenRecord) -> str:
    return ", ".join(sorted({f.provenance.source for f in (g.given_name, g.family_name) if f}))


def _contribution_rows(candidates: tuple[CandidateView, ...]) -> list[list[str]]:
    comparisons = list(dict.fromkeys(name for c in candidates for name, _, _ in c.contributions))
    head = ["", *(_heading(c) for c in candidates)]
    rows = [head]
    for name in comparisons:
        cells = []
        for c in candidates:
            part = next(((lv, w) for n, lv, w in c.contributions if n == name), None)
            cells.append(f"{part[0]} {part[1]:+.1f}" if part else "")
        rows.append([name, *cells])
    return rows


def _table(rows: list[list[str]]) -> str:
    return "\n".join(
        "  ".join(cell[:COLUMN].ljust(COLUMN if i else 20) for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


def _done(decision: LinkDecision, what: str) -> int:
    print(f"{what}; decision {decision.pk} (undo with `contactpoint review reverse`)")
    return 0


def _link(args: argparse.Namespace) -> int:
    return _done(review.link(args.item, args.child, args.by), "linked")


def _new_child(args: argparse.Namespace) -> int:
    decision, cpid = review.new_child(args.item, args.by)
    return _done(decision, f"new child {cpid}")


def _not_a_match(args: argparse.Namespace) -> int:
    decision = review.not_a_match(args.item, args.child, args.by)
    return _done(decision, "marked not a match; the item stays open")


def _merge(args: argparse.Namespace) -> int:
    decision = corrections.merge(args.keep, args.gone, args.by)
    return _done(decision, f"merged: {len(decision.moved)} record(s) moved")


def _unmerge(args: argparse.Namespace) -> int:
    decision = corrections.unmerge(args.decision, args.by)
    return _done(decision, f"unmerged: {len(decision.moved)} record(s) moved back")


def _unlink(args: argparse.Namespace) -> int:
    decision, item = review.unlink(args.record, args.by)
    return _done(decision, f"unlinked; waiting in review item {item}")


def _reverse(args: argparse.Namespace) -> int:
    decision = corrections.reverse(args.decision, args.by)
    return _done(decision, f"reversed by a {decision.action}")


def _identity_change(args: argparse.Namespace) -> int:
    records = [r for r in args.records.split(",") if r.strip()]
    decision, cpid = corrections.identity_change(args.cpid, args.by, records)
    return _done(decision, f"new identity {cpid}; {len(decision.moved)} record(s) moved")


_ACTIONS = {
    "list": _list,
    "show": _show,
    "link": _link,
    "new-child": _new_child,
    "not-a-match": _not_a_match,
    "merge": _merge,
    "unmerge": _unmerge,
    "unlink": _unlink,
    "reverse": _reverse,
    "identity-change": _identity_change,
}
