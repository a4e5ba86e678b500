"""Multi-step flows across systems (contract write-back)."""
