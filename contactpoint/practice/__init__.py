"""The practitioner journey (issue 5): a child's record, involvements, alerts and emergency
access. Search itself is `contactpoint.search`."""
