"""Sign-in, roles, API tokens, secrets and audit."""
