"""Load progress and the quarantine of rows that could not be loaded."""

from __future__ import annotations

from django.db import models

from contactpoint.registry.feeds import Problem


class LoadedFile(models.Model):
    """How far a feed file has been loaded; what makes a killed load resumable.

    Keyed by the file's SHA-256, so the same file under another name is the same file and a
    changed file is a new one.
    """

    source = models.ForeignKey("registry.Source", on_delete=models.PROTECT)
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    lines_done = models.PositiveIntegerField(default=0)  # data lines committed, in order
    rows_loaded = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)
    # The linkage model version that decided a bulk load's records, on each of its files: a
    # record the load linked or founded a child with has no LinkDecision of its own, its
    # `method` and `confidence` say what the model decided (docs/loading.md).
    model = models.ForeignKey(
        "linkage.LinkageModel", on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "sha256"], name="one_progress_per_file")
        ]

    def __str__(self) -> str:
        return self.file_name


class QuarantinedRow(models.Model):
    """A row, or one field of a row, that was not loaded, and why.

    Holds where to find the row (file, line) and the rule it broke, never the value: the
    operator reads the value in the source file, which stays with the source.
    """

    class Severity(models.TextChoices):
        REJECTED = "rejected", "Row not loaded"
        FIELD_IGNORED = "field_ignored", "Row loaded without this field"

    loaded_file = models.ForeignKey(LoadedFile, on_delete=models.CASCADE, related_name="quarantine")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=200)
    severity = models.CharField(max_length=14, choices=Severity.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["loaded_file", "line", "field"], name="one_entry_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loaded_file} line {self.line}: {self.field}"

    @classmethod
    def for_problem(cls, loaded_file: LoadedFile, line: int, problem: Problem) -> QuarantinedRow:
        """The entry for one problem of one row, cut to the columns' lengths."""
        return cls(
            loaded_file=loaded_file,
            line=line,
            field=problem.field[:40],
            reason=problem.reason[:200],
            severity=cls.Severity.REJECTED if problem.rejects_row else cls.Severity.FIELD_IGNORED,
        )
