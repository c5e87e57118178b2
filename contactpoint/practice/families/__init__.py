"""Families' rights (docs/families.md): a notice when a new service starts working with
their child, a subject-access report of what is held and who looked, and the correction of
a field of the child's record."""
