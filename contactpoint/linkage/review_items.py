"""What a review item is about, sealed: its reason and its candidates (ADR 0010).

An item held because its record might be a shielded child (`shielded`) said so in clear,
beside the ids of the children it might be: a thief with the database and no key learnt
which children are shielded or near one. So `ReviewItem.about` holds the reason and every
candidate (child id, match weight, the comparisons that made it) as one JSON document,
compressed, padded to a multiple of ABOUT_SIZE bytes and sealed (AES-256-GCM, associated
data naming table, column and row) under a key derived from the index root key
(`review-about/v1`), not a child's: an item names several children and must open whatever
became of their keys. Every item is sealed so, whatever its reason, and the compressed
document of about ten candidates fits one ABOUT_SIZE: a shielded item's row looks like a
review-band item's (its id, record, status, model and dates alone in clear).

No query selects items by reason or candidate: the readers fetch the open items (of an
area, of a rerun, of a rematch) and open them here, one derived key for all.
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contactpoint.keystore.index_key import derived_key
from contactpoint.linkage.models import ReviewItem
from contactpoint.registry.cipher import associated_data, open_padded, seal_padded

if TYPE_CHECKING:  # not at run time: Splink loads only when matching
    from contactpoint.linkage.scorer import Score

ABOUT_KEY = "review-about/v1"
# Bytes of the padded document. The matcher keeps five candidates (an unlinked record adds
# the child it came from); of eleven comparisons each, whose weights repeat from level to
# level, about ten compress to 2,048 bytes of base64. A longer one (candidates added by
# rematches) takes the next multiple: that says only that the item lists many children.
ABOUT_SIZE = 2048


@dataclass(frozen=True)
class ReviewCandidate:
    """A child the item's record might be, and why the model scored it so."""

    child_id: uuid.UUID
    weight: float
    # ((comparison, level label, weight), ...)
    contributions: tuple[tuple[str, str, float], ...] = ()

    @classmethod
    def for_score(cls, child_id: uuid.UUID, score: Score) -> ReviewCandidate:
        parts = tuple((p.comparison, p.level, p.weight) for p in score.contributions)
        return cls(child_id, score.weight, parts)


@dataclass(frozen=True)
class About:
    """A review item's reason and candidates, opened."""

    reason: str
    candidates: tuple[ReviewCandidate, ...] = ()

    @property
    def best_weight(self) -> float | None:
        return max((c.weight for c in self.candidates), default=None)

    def child_ids(self) -> set[uuid.UUID]:
        return {c.child_id for c in self.candidates}


def _document(about: About) -> str:
    rows = [
        [str(c.child_id), c.weight, [list(p) for p in c.contributions]] for c in about.candidates
    ]
    raw = json.dumps([about.reason, rows], separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def seal(item_id: uuid.UUID, about: About) -> bytes:
    """The item's `about`: reason and candidates sealed at a multiple of ABOUT_SIZE."""
    document = _document(about)
    size = ABOUT_SIZE * max(1, -(-len(document) // ABOUT_SIZE))
    ad = associated_data(ReviewItem, "about", item_id)
    return seal_padded(derived_key(ABOUT_KEY), document, size, ad, "review item")


def about(item: ReviewItem, key: bytes | None = None) -> About:
    """The item's reason and candidates, opened (candidates as written: see `ranked`)."""
    ad = associated_data(ReviewItem, "about", item.pk)
    document = open_padded(key or derived_key(ABOUT_KEY), item.about, ad)
    reason, rows = json.loads(zlib.decompress(base64.b64decode(document)))
    return About(
        reason,
        tuple(
            ReviewCandidate(uuid.UUID(c), float(w), tuple((a, b, float(x)) for a, b, x in parts))
            for c, w, parts in rows
        ),
    )


def abouts(items: Iterable[ReviewItem]) -> dict[uuid.UUID, About]:
    """Each item's `about`, opened under one derived key."""
    key = derived_key(ABOUT_KEY)
    return {item.pk: about(item, key) for item in items}


def new_item(
    source_record_id: uuid.UUID,
    reason: str,
    candidates: Iterable[ReviewCandidate],
    model_id: int | None,
) -> ReviewItem:
    """An unsaved open item for a record, its reason and candidates sealed."""
    item = ReviewItem(id=uuid.uuid4(), source_record_id=source_record_id, model_id=model_id)
    item.about = seal(item.pk, About(reason, tuple(candidates)))
    return item


def reseal(item: ReviewItem, about: About) -> None:
    """Write the item's new reason or candidates (the rest of the row untouched)."""
    item.about = seal(item.pk, about)
    item.save(update_fields=["about"])


def open_with_reason(reasons: Collection[str]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(item id, source record id) of the open items waiting for one of `reasons`, by id.

    The reason is sealed, so every open item is read and opened, a few thousand at a time.
    """
    key = derived_key(ABOUT_KEY)
    rows = ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).only(
        "id", "source_record", "about"
    )
    found = [
        (item.pk, item.source_record_id)
        for item in rows.iterator(chunk_size=2000)
        if about(item, key).reason in reasons
    ]
    return sorted(found)
