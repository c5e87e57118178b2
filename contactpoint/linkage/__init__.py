"""Record linkage: the model, real-time matching, bulk linkage, the review queue and how well
records are linked into children (docs/linkage.md)."""
