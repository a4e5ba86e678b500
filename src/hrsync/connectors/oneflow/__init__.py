"""Oneflow: the REST client the contract write-back uses, and webhook signature checks."""
