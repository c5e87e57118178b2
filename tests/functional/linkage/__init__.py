"""Training and evaluating the linkage model; the review queue, by command and by page."""
