"""Access tokens: HS256 JWTs that must carry iss, sub, exp and iat."""

import time

import jwt
from fastapi import HTTPException, status
from pydantic import BaseModel

from app.core.config import get_settings

JWT_ALGORITHM = "HS256"


class JWTTokenPayload(BaseModel):
    iss: str
    sub: str
    exp: int
    iat: int


class JWTToken(BaseModel):
    payload: JWTTokenPayload
    access_token: str


def create_jwt_token(user_id: str) -> JWTToken:
    security = get_settings().security
    iat = int(time.time())
    exp = iat + security.jwt_access_token_expire_secs

    token_payload = JWTTokenPayload(
        iss=security.jwt_issuer, sub=user_id, exp=exp, iat=iat
    )

    access_token = jwt.encode(
        token_payload.model_dump(),
        key=security.jwt_secret_key.get_secret_value(),
        algorithm=JWT_ALGORITHM,
    )

    return JWTToken(payload=token_payload, access_token=access_token)


def verify_jwt_token(token: str) -> JWTTokenPayload:
    # Requirements:
    # - the token is signed with our key, with HS256
    # - it carries iss, sub, exp and iat, and iss is ours
    # - it has not expired
    security = get_settings().security
    try:
        raw_payload = jwt.decode(
            token,
            security.jwt_secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["iss", "sub", "exp", "iat"]},
            issuer=security.jwt_issuer,
        )
    except jwt.InvalidTokenError as error:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=f"Token invalid: {error}",
        ) from error

    return JWTTokenPayload(**raw_payload)
