"""The security suite: attacks replayed against the real application (CI runs it with the
rest, on SQLite and PostgreSQL). What each module tries:

- test_api_schema: schemathesis over the whole OpenAPI document as a client of each role
  and as nobody (no server error, no answer the document does not declare);
- test_api_inputs: impossible dates and bodies not sent as JSON;
- test_authorisation_matrix: every page and API operation as every kind of caller;
- test_audit_log: the tamper drills (an event changed, deleted, swapped, forged; the tail
  truncated; an old copy restored);
- test_audit_tail: the tail-cut drills (events and checkpoints deleted, the checkpoint
  file emptied and the head recomputed) and the witness;
- test_harvesting: as each role, on the web and through the API, open as many children's
  records as one simulated day allows.

The figures each run measured are printed under "security figures" (tests/security/conftest.py).
"""
