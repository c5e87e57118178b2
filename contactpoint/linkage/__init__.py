"""Record linkage: how well records are linked into children (issue 3 adds the linker)."""
