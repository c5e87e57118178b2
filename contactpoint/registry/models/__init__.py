from contactpoint.registry.models.children import (
    Carer,
    Child,
    ChildAddress,
    ChildDemographic,
    ChildIdentifier,
    ChildName,
)
from contactpoint.registry.models.index import BlindIndexEntry
from contactpoint.registry.models.involvements import Involvement, Practitioner
from contactpoint.registry.models.organisations import CouncilArea, Organisation
from contactpoint.registry.models.shielding import ShieldingDecision, ShieldTag
from contactpoint.registry.models.sources import Source, SourceRecord

__all__ = [
    "BlindIndexEntry",
    "Carer",
    "Child",
    "ChildAddress",
    "ChildDemographic",
    "ChildIdentifier",
    "ChildName",
    "CouncilArea",
    "Involvement",
    "Organisation",
    "Practitioner",
    "ShieldTag",
    "ShieldingDecision",
    "Source",
    "SourceRecord",
]
