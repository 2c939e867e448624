"""Settings, read from the environment when the module is imported."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What the service needs to know."""

    database_url: str
    jwt_secret: str
    jwt_audience: str


settings = Settings(
    database_url=os.environ.get("NOTES_DATABASE_URL", "postgresql+psycopg:///notes"),
    jwt_secret=os.environ.get(
        "NOTES_JWT_SECRET", "dev-only-secret-of-32-bytes-or-more"
    ),
    jwt_audience="notes",
)
