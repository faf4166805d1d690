"""Sign-in, roles, API tokens, secrets and audit (see security/README.md)."""
