"""Tickets: one per personnel change, its timeline, and what runs did for it."""
