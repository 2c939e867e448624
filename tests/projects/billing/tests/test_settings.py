"""Settings come from the environment."""

import pytest

from billing.settings import Settings


def test_settings_read_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_JWT_SECRET", "s" * 32)

    assert Settings.from_env().jwt_secret == "s" * 32
