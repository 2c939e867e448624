# Managed by it-template: local changes may conflict on copier update.
"""Kafka: the recipe (`server.py`) and topics per worker and test (`fixtures.py`)."""
