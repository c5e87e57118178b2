"""The practitioner journey: a child's record, involvements, alerts and emergency
access. Search itself is `contactpoint.search`."""
