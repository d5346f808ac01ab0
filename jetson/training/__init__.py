"""Synthetic speech for the satellite's tests and benchmarks and the wake-word training."""
