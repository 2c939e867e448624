"""Unit tests of billing."""
