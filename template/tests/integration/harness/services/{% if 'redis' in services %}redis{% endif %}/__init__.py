# Managed by it-template: local changes may conflict on copier update.
"""Redis: the recipe (`server.py`) and a logical database per worker (`fixtures.py`)."""
