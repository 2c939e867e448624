"""Configuration of the service, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know about its surroundings."""

    database_url: str
    redis_url: str
    jwt_secret: str
    jwt_audience: str
    jwt_issuer: str
    payment_api_url: str
    jwt_algorithm: str = "HS256"
    payment_timeout_seconds: float = 5.0
    profile_cache_ttl_seconds: int = 300

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from environment variables, with defaults for local development."""
        return cls(
            database_url=os.environ.get(
                "DATABASE_URL", "postgresql+psycopg://postgres:postgres@localhost:5432/orders"
            ),
            redis_url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
            jwt_secret=os.environ.get("JWT_SECRET", "dev-only-secret-change-me-in-production"),
            jwt_algorithm=os.environ.get("JWT_ALGORITHM", "HS256"),
            jwt_audience=os.environ.get("JWT_AUDIENCE", "order-service"),
            jwt_issuer=os.environ.get("JWT_ISSUER", "https://auth.localhost"),
            payment_api_url=os.environ.get("PAYMENT_API_URL", "http://localhost:8081"),
            payment_timeout_seconds=float(os.environ.get("PAYMENT_TIMEOUT_SECONDS", "5")),
            profile_cache_ttl_seconds=int(os.environ.get("PROFILE_CACHE_TTL_SECONDS", "300")),
        )


@cache
def get_settings() -> Settings:
    """Return the settings of this process, read once."""
    return Settings.from_env()


SettingsDep = Annotated[Settings, Depends(get_settings)]
