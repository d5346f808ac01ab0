"""Tests for the Athena integration."""
