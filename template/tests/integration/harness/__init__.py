# Managed by it-template: local changes may conflict on copier update.
"""The integration suite's machinery, managed by it-template: `copier update` merges its fixes.

`plugin.py` holds the pytest hooks and `fixtures.py` every fixture; the servers come from
`lifecycle.py`, which starts each service of `services/` with a backend of `backends/`. Your
files are one level up: change a fixture by defining it again in `conftest.py`.
"""
