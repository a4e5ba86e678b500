"""Benchmarks (not tests): `make bench` runs them and prints ratios measured side by side."""
