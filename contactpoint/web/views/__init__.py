"""Web pages, one module per audience: status, sign-in, account, user management, errors."""
