# Managed by it-template: local changes may conflict on copier update.
"""LocalStack (S3): the recipe (`server.py`) and buckets per worker and test (`fixtures.py`)."""
