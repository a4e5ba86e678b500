"""Faithful local servers of SaaS APIs we cannot reach, for tests and for people."""
