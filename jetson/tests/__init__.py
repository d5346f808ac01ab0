"""Tests of the Athena satellite (real engines on generated speech)."""
