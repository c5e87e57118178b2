"""Data keys: rotation, status, retirement and crypto-shredding."""
