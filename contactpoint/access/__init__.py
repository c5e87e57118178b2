"""Identity and access: organisations' accreditation, users, sign-in, and who may do what.

`permissions` holds the one vocabulary and the one decider; `standing` the rules that
suspend a user; `users` the changes an authoriser makes; `signin`, `totp`, `keys` and
`throttle` the sign-in itself; `middleware` the session lifetime and security headers.
"""
