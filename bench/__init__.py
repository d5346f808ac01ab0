"""Benchmarks: each script prints its headline figure as the last line `name=value`."""
