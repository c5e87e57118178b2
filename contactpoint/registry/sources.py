"""The sources that send records, national and local, and their survivorship rank
(docs/survivorship.md)."""

from __future__ import annotations

import re

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.registry.models import Source

# code: (name, rank). When sources disagree about a fact, the lower rank wins.
NATIONAL = {
    "nhs_demographics": ("NHS demographics", 10),
    "school_census": ("School census", 20),
    "council_social_care": ("Council children's social care", 30),
    "youth_offending": ("Youth offending services", 40),
    "child_benefit": ("Child benefit", 50),
}
# A local system's facts give way to every national feed's (docs/feeds.md).
LOCAL_RANK = 60
LOCAL_CODE = re.compile(r"[a-z][a-z0-9_-]{0,39}")


# A record reference or content digest keeps the first 128 bits of its HMAC: two of 28
# million references clash with a chance of about 1 in 10^24, and half the bytes are saved
# in each row and in the unique index (docs/adr/0013-lean-registry-layout.md).
REF_BYTES = 16


def record_ref(source_code: str, record_id: str) -> bytes:
    """The keyed digest that stands for a source's own record id (which is never stored)."""
    return crypto.keyed_digest(
        derived_key("source-record-ref/v1"), f"{source_code}\x1f{record_id}".encode()
    )[:REF_BYTES]


def national_source(code: str) -> Source:
    """Return the national source `code`, creating it the first time it sends anything."""
    name, rank = NATIONAL[code]
    source, _ = Source.objects.get_or_create(
        code=code, defaults={"name": name, "kind": Source.Kind.NATIONAL, "rank": rank}
    )
    return source


def local_code_problem(code: str) -> str | None:
    """Why `code` cannot name a local source, or None when it can."""
    if not LOCAL_CODE.fullmatch(code):
        return (
            f"source code {code!r} must be 1 to 40 lower-case letters, digits, '_' or '-', "
            "starting with a letter"
        )
    if code in NATIONAL:
        return f"source code {code!r} is a national source's; a local source needs its own"
    return None


def local_source(code: str, name: str) -> Source:
    """Return the local source `code`, creating it (named `name`) the first time.

    Raises ValueError for a code that is malformed or a national source's: a local system
    must never load records as if a national feed had sent them.
    """
    if problem := local_code_problem(code):
        raise ValueError(problem)
    source, _ = Source.objects.get_or_create(
        code=code, defaults={"name": name, "kind": Source.Kind.LOCAL, "rank": LOCAL_RANK}
    )
    if source.kind != Source.Kind.LOCAL:
        raise ValueError(f"source code {code!r} belongs to a source that is not local")
    return source
