"""Who may do what, and what they did: roles, API tokens, secrets at rest, the audit log."""
