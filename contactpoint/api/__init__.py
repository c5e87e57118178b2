"""The JSON API for machine clients: the account operations, with an OpenAPI document.

`api` builds the NinjaAPI; `rules` the per-operation access rules; `oauth` the token
endpoint; `users` and `organisations` the operations; `schemas` what they read and answer.
"""
