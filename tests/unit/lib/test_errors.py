"""Refusals: the messages the command line prints as they are."""

from __future__ import annotations

from contactpoint.access.users import Refused
from contactpoint.lib.errors import Refusal
from contactpoint.linkage.review import ReviewError
from contactpoint.registry.lookup import NotFound


def test_a_refusal_reads_as_its_message() -> None:
    assert str(Refused("Only the local index team may do this")) == (
        "Only the local index team may do this"
    )


def test_a_refusal_raised_bare_reads_as_its_class_docstring() -> None:
    assert str(NotFound()) == (
        "No child with that contactpoint ID is on the index (or it is closed for good)"
    )


def test_the_services_refusals_share_the_one_base_class() -> None:
    assert all(issubclass(kind, Refusal) for kind in (Refused, ReviewError, NotFound))
