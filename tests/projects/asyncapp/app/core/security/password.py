"""Password hashes: PBKDF2-HMAC-SHA256 with a random salt, in `pbkdf2_sha256$n$salt$hash` form."""

import hashlib
import hmac
import secrets

from app.core.config import get_settings

ALGORITHM = "pbkdf2_sha256"
# Checked against when the e-mail is unknown, so both answers take as long.
DUMMY_PASSWORD = "$".join([ALGORITHM, "210000", "dummy-salt", "0" * 64])


def _derive(password: str, salt: str, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return digest.hex()


def get_password_hash(password: str) -> str:
    iterations = get_settings().security.password_hash_iterations
    salt = secrets.token_urlsafe(16)
    return f"{ALGORITHM}${iterations}${salt}${_derive(password, salt, iterations)}"


def verify_password(plain_password: str, hashed_password: str) -> bool:
    try:
        algorithm, iterations, salt, expected = hashed_password.split("$")
    except ValueError:
        return False
    if algorithm != ALGORITHM:
        return False
    return hmac.compare_digest(_derive(plain_password, salt, int(iterations)), expected)
