"""Bearer tokens: HS256, with only `sub` and `exp`."""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from billing.db import get_session
from billing.models import Customer
from billing.settings import get_settings

bearer = HTTPBearer(auto_error=False)


def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[Session, Depends(get_session)],
) -> Customer:
    """The customer the token names."""
    if credentials is None:
        raise HTTPException(401, "Not authenticated")
    try:
        claims = jwt.decode(
            credentials.credentials,
            get_settings().jwt_secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
        )
        customer = session.get(Customer, int(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError) as error:
        raise HTTPException(401, "Invalid token") from error
    if customer is None:
        raise HTTPException(401, "Invalid token")
    return customer
