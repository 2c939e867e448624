# Managed by it-template: local changes may conflict on copier update.
"""Memcached: the recipe (`server.py`) and keys per worker and test (`fixtures.py`)."""
