"""What a practitioner does with a record: involvements, alerts, shielding, retention,
families' rights."""
