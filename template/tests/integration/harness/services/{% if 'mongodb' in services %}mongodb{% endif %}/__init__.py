# Managed by it-template: local changes may conflict on copier update.
"""MongoDB: the recipe (`server.py`) and a database per worker (`fixtures.py`)."""
