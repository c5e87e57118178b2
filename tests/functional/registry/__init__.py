"""The sealed registry: facts, links and shielding sealed; a stolen copy reveals no child."""
