# Managed by it-template: local changes may conflict on copier update.
"""RabbitMQ: the recipe (`server.py`) and queues per worker and test (`fixtures.py`)."""
