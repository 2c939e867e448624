# Managed by it-template: local changes may conflict on copier update.
"""MySQL or MariaDB: the recipe (`server.py`) and a database per worker (`fixtures.py`)."""
