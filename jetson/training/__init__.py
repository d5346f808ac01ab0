"""Synthetic speech for the satellite's tests, benchmarks and wake-word training."""
