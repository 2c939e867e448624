# Managed by it-template: local changes may conflict on copier update.
"""WireMock: the recipe (`server.py`) and stubs per worker and test (`fixtures.py`)."""
