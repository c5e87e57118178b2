"""The rows a bulk first load's writer makes as tuples, against what the row loader fills."""

from __future__ import annotations

from contactpoint.ingest.batch import RECORD_FIELDS
from contactpoint.ingest.bulk.write import RECORD_COLUMNS
from contactpoint.registry.models import SourceRecord


def test_a_bulk_written_source_record_has_every_field_the_row_loader_fills() -> None:
    """The writer builds each row in RECORD_COLUMNS' order by hand: a field the row loader
    fills (batch.RECORD_FIELDS) and the writer left out would be left at its default."""
    attnames = {f.name: f.attname for f in SourceRecord._meta.concrete_fields}
    filled = {attnames[f] for f in RECORD_FIELDS}
    written = set(RECORD_COLUMNS)
    # The times are the insert's own (Inserter gives auto_now fields the time).
    assert filled - {"updated_at"} <= written
    assert written - filled == {"id", "record_ref", "preferred"}
