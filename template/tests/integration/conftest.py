# Yours: it-template rendered it once; copier update never changes it.
"""Fixtures of the integration suite: the harness's, and any you add or change here.

`import *` brings every fixture of tests/integration/harness (db_session, redis_client, the
app's client, ...: the list is harness/fixtures.py). Define a fixture here under the same name
to change it for these tests; add your own below.
"""

from .harness.fixtures import *  # noqa: F403
