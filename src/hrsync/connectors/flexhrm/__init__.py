"""Flex HRM: the HR source (both API dialects)."""
