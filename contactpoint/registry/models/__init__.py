from contactpoint.registry.models.children import (
    Child,
)
from contactpoint.registry.models.index import BlindIndexEntry
from contactpoint.registry.models.involvements import Involvement, Practitioner
from contactpoint.registry.models.organisations import CouncilArea, Organisation
from contactpoint.registry.models.shielding import ShieldingDecision, ShieldTag
from contactpoint.registry.models.sources import Source, SourceRecord

__all__ = [
    "BlindIndexEntry",
    "Child",
    "CouncilArea",
    "Involvement",
    "Organisation",
    "Practitioner",
    "ShieldTag",
    "ShieldingDecision",
    "Source",
    "SourceRecord",
]
