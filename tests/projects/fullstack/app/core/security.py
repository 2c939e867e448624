"""Access tokens and password hashes."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from app.core.config import settings

ALGORITHM = "HS256"
ROUNDS = 100_000


def create_access_token(subject: str | Any, expires_delta: timedelta) -> str:
    expires = datetime.now(timezone.utc) + expires_delta
    return jwt.encode(
        {"exp": expires, "sub": str(subject)}, settings.SECRET_KEY, ALGORITHM
    )


def get_password_hash(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ROUNDS)
    return f"pbkdf2_sha256${ROUNDS}${salt}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    _, rounds, salt, expected = hashed.split("$")
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), salt.encode(), int(rounds)
    )
    return hmac.compare_digest(digest.hex(), expected)
