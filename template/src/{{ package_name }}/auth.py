"""Bearer-token authentication with JWTs signed by the identity provider."""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .db import SessionDep
from .models import User
from .settings import Settings, SettingsDep

bearer_scheme = HTTPBearer(auto_error=False)


def decode_token(token: str, settings: Settings) -> dict[str, Any]:
    """Check a token's signature, algorithm, audience, issuer and expiry; return its claims."""
    claims: dict[str, Any] = jwt.decode(
        token,
        settings.jwt_secret,
        algorithms=[settings.jwt_algorithm],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "iat", "aud", "iss", "sub"]},
    )
    return claims


def unauthorized(detail: str) -> HTTPException:
    """Return the 401 error that asks the client for a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    settings: SettingsDep,
    session: SessionDep,
) -> User:
    """Return the user named by the request's bearer token; refuse the request otherwise."""
    if credentials is None:
        raise unauthorized("Not authenticated")
    try:
        claims = decode_token(credentials.credentials, settings)
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise unauthorized("Invalid token") from exc
    user = session.get(User, user_id)
    if user is None:
        raise unauthorized("Invalid token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
