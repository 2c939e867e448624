"""Configuration, read from the environment once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Where the database is and how tokens are checked."""

    database_url: str
    jwt_secret: str
    token_minutes: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings; BILLING_JWT_SECRET has no default on purpose."""
        return cls(
            database_url=os.environ.get(
                "BILLING_DATABASE_URL", "postgresql+psycopg://billing@localhost/billing"
            ),
            jwt_secret=os.environ["BILLING_JWT_SECRET"],
        )


@lru_cache
def get_settings() -> Settings:
    """The settings of this process."""
    return Settings.from_env()
