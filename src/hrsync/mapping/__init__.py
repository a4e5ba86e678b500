"""The mapping: how a person becomes an account in each target (expression language: issue 6)."""
