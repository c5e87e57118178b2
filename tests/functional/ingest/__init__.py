"""Loading feeds: row by row, in bulk, local systems' files, resuming a killed load."""
