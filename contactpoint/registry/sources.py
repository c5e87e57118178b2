"""The national sources and their survivorship rank (docs/survivorship.md)."""

from __future__ import annotations

from contactpoint.registry.models import Source

# code: (name, rank). When sources disagree about a fact, the lower rank wins.
NATIONAL = {
    "nhs_demographics": ("NHS demographics", 10),
    "school_census": ("School census", 20),
    "council_social_care": ("Council children's social care", 30),
    "youth_offending": ("Youth offending services", 40),
    "child_benefit": ("Child benefit", 50),
}


def national_source(code: str) -> Source:
    """Return the national source `code`, creating it the first time it sends anything."""
    name, rank = NATIONAL[code]
    source, _ = Source.objects.get_or_create(
        code=code, defaults={"name": name, "kind": Source.Kind.NATIONAL, "rank": rank}
    )
    return source
