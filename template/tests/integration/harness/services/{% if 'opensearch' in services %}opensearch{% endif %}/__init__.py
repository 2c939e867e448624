# Managed by it-template: local changes may conflict on copier update.
"""OpenSearch: the recipe (`server.py`) and indices per worker (`fixtures.py`)."""
