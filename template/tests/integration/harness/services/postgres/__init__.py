# Managed by it-template: local changes may conflict on copier update.
"""PostgreSQL: the recipe, a database per worker (`fixtures.py`), isolation per test."""
