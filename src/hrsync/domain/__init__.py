"""Frozen value types shared by every layer: persons, accounts, changes, plans, outcomes."""
