import time

import jwt
import pytest
from fastapi import HTTPException

from app.core.config import get_settings
from app.core.security.jwt import JWT_ALGORITHM, create_jwt_token, verify_jwt_token


def test_jwt_access_token_can_be_decoded_back_into_user_id() -> None:
    user_id = "6f4c3c4b-1f7a-4a8e-9a57-0d7ae0b7f4c1"
    token = create_jwt_token(user_id)

    payload = verify_jwt_token(token=token.access_token)

    assert payload.sub == user_id
    assert payload.iss == get_settings().security.jwt_issuer


def test_jwt_payload_is_correct() -> None:
    before = int(time.time())
    token = create_jwt_token("some_user_id")

    assert token.payload.iat >= before
    assert token.payload.exp == (
        token.payload.iat + get_settings().security.jwt_access_token_expire_secs
    )


def test_jwt_without_iat_is_refused() -> None:
    security = get_settings().security
    token = jwt.encode(
        {"iss": security.jwt_issuer, "sub": "x", "exp": int(time.time()) + 60},
        security.jwt_secret_key.get_secret_value(),
        algorithm=JWT_ALGORITHM,
    )

    with pytest.raises(HTTPException) as error:
        verify_jwt_token(token)

    assert error.value.status_code == 401


def test_jwt_from_another_issuer_is_refused() -> None:
    security = get_settings().security
    now = int(time.time())
    token = jwt.encode(
        {"iss": "someone-else", "sub": "x", "exp": now + 60, "iat": now},
        security.jwt_secret_key.get_secret_value(),
        algorithm=JWT_ALGORITHM,
    )

    with pytest.raises(HTTPException):
        verify_jwt_token(token)
