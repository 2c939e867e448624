"""Redis connection and the cache of user profiles."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import redis
from fastapi import Depends

from .schemas import Profile
from .settings import SettingsDep


@cache
def redis_client(redis_url: str) -> redis.Redis:
    """Return the client of a Redis server, creating its connection pool on first use."""
    return redis.Redis.from_url(redis_url, decode_responses=True)


def get_redis(settings: SettingsDep) -> redis.Redis:
    """Return the Redis client of the service."""
    return redis_client(settings.redis_url)


RedisDep = Annotated[redis.Redis, Depends(get_redis)]


def profile_key(user_id: int) -> str:
    """Return the Redis key under which a user's profile is cached."""
    return f"profile:{user_id}"


def cached_profile(client: redis.Redis, user_id: int) -> Profile | None:
    """Return the cached profile of a user, or None when it is not cached."""
    raw = client.get(profile_key(user_id))
    return None if raw is None else Profile.model_validate_json(raw)


def cache_profile(client: redis.Redis, profile: Profile, ttl_seconds: int) -> None:
    """Cache a profile for `ttl_seconds`."""
    client.set(profile_key(profile.id), profile.model_dump_json(), ex=ttl_seconds)


def forget_profile(client: redis.Redis, user_id: int) -> None:
    """Drop the cached profile of a user, so that the next read sees fresh data."""
    client.delete(profile_key(user_id))
